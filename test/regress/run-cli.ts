/**
 * Runs `smtp-inspect regress|diagnose …` in-process through commander, as a user would from the
 * shell: what it writes on stdout and the exit code it sets.
 */
import { vi } from 'vitest';
import { Command } from 'commander';
import { registerRegress } from '../../src/cli/regress.js';
import { registerDiagnose } from '../../src/cli/diagnose.js';

export async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    chunks.push(typeof s === 'string' ? s : Buffer.from(s).toString());
    return true;
  });
  const program = new Command().exitOverride();
  registerRegress(program);
  registerDiagnose(program);
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'smtp-inspect', ...args]);
  } finally {
    spy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out: chunks.join('') };
}
