import path from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { registerPolicy } from '../../src/cli/policy.js';
import { DEFAULT_POLICY_TEXT } from '../../src/policy/default-policy.js';
import { REPO_ROOT } from '../helpers/shared.js';

const FIXTURE = path.join(REPO_ROOT, 'test/policy/fixtures/asa-running-config.txt');

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = 0;
  try {
    const program = new Command().exitOverride();
    registerPolicy(program);
    await program.parseAsync(['node', 'smtp-inspect', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

describe('smtp-inspect policy', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'policy-cli-'));
  });
  afterEach(() => {
    process.exitCode = 0;
  });

  it('check prints the normalised policy and a count of ignored lines', async () => {
    const r = await run('policy', 'check', FIXTURE);
    expect(r.code).toBe(0);
    expect(r.out).toContain('policy-map type inspect esmtp strict_esmtp_map\n');
    expect(r.out).toContain('! 92 line(s) not modelled were ignored (list them with --verbose)\n');
  });

  it('--verbose lists the ignored lines with file:line', async () => {
    const r = await run('policy', 'check', FIXTURE, '--verbose');
    expect(r.out).toContain(`!   ${FIXTURE}:8: hostname fw-edge-01   [global command not modelled]\n`);
  });

  it('--json gives maps, ports and ignored lines', async () => {
    const r = await run('policy', 'check', FIXTURE, '--json');
    const j = JSON.parse(r.out) as { esmtpPorts: number[]; esmtpMaps: Array<{ name: string }>; ignored: unknown[] };
    expect(j.esmtpPorts).toEqual([25]);
    expect(j.esmtpMaps.map((m) => m.name)).toEqual(['_default_esmtp_map', 'strict_esmtp_map']);
    expect(j.ignored).toHaveLength(92);
  });

  it('check says which layering mode was used and why; --policy-mode overrides auto', async () => {
    const f = path.join(REPO_ROOT, 'test/policy/fixtures/running-config-no-header.txt');
    const auto = await run('policy', 'check', f);
    expect(auto.out).toMatch(/^! layering: snapshot \(auto\): a show running-config printout, line 43: "Cryptochecksum:" line$/m);
    expect(auto.out).not.toMatch(/^ {2}inspect esmtp/m);
    const merged = await run('policy', 'check', f, '--policy-mode', 'merge');
    expect(merged.out).toMatch(/^! layering: merge \(--policy-mode merge\)/m);
    expect(merged.out).toMatch(/^ {2}inspect esmtp _default_esmtp_map$/m);
    expect(merged.err).toMatch(/running-config-no-header\.txt:22: warning: class inspection_default .* --policy-mode snapshot/);
    const j = JSON.parse((await run('policy', 'check', f, '--json')).out) as { layering: { requested: string; mode: string } };
    expect(j.layering).toMatchObject({ requested: 'auto', mode: 'snapshot' });
    await expect(run('policy', 'check', f, '--policy-mode', 'replace')).rejects.toThrow(/Allowed choices are auto, merge, snapshot/);
  });

  it('errors: one line file:line:col, exit 2', async () => {
    const f = path.join(dir, 'bad.cfg');
    writeFileSync(f, 'policy-map type inspect esmtp m\n match cmd line length lt 5\n');
    const r = await run('policy', 'check', f);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`smtp-inspect: ${f}:2:24: expected "gt", got "lt" [E_POLICY_SYNTAX]\n`);
    expect(r.out).toBe('');
  });

  it('default prints the factory-default policy text; criteria lists the table', async () => {
    expect((await run('policy', 'default')).out).toBe(DEFAULT_POLICY_TEXT);
    const c = await run('policy', 'criteria');
    expect(c.out).toContain('  cmd RCPT count gt N (N 0-2147483647)\n');
    expect(c.out).toContain('  cmd verb WORD [WORD ...] (WORD: AUTH DATA EHLO');
  });
});
