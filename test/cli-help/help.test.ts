/**
 * Issue 2: every command has --help. Runs the built program as a user does and checks each
 * command's help: exit 0, its own usage line, every option it declares, and a one-line summary
 * in the top-level command list (long descriptions are for the command's own page).
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { READ_THREAD_POOL_SIZE, sizeThreadPoolForReads } from '../../src/capture/thread-pool.cjs';

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

  it('every option a command declares is in the README (long or short form)', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const missing: string[] = [];
    for (const c of COMMANDS) {
      const help = run([...c.split(' '), '--help']).out;
      const options = help.slice(help.indexOf('Options:'));
      for (const m of options.matchAll(/^ {2}(?:(-[a-zA-Z]), )?(--[a-z][a-z-]*)/gm)) {
        const [, short, long] = m;
        if (long === '--help') continue;
        const documented = (flag: string): boolean => new RegExp(`(^|[^a-zA-Z-])${flag}(?![a-zA-Z-])`).test(readme);
        if (!documented(long!) && !(short !== undefined && documented(short))) missing.push(`${c} ${long}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('a bad argument is one short message and exit 2 (README), not the whole help page', () => {
    for (const args of [['no-such-command'], ['replay'], ['replay', 'x.pcap', '--checksum', 'bogus'], ['info']]) {
      const r = run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^error: /);
      expect(r.err).toContain('--help');
      expect(r.err.split('\n').length, r.err).toBeLessThanOrEqual(4);
    }
  });

  it('the installed program (package.json bin) is the CommonJS entry and runs the same commands', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
    const bin = path.join(REPO_ROOT, pkg.bin['smtp-inspect'] ?? '');
    expect(bin.endsWith('.cjs')).toBe(true);
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
    const bad = spawnSync(bin, ['replay'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});

describe('a reader that goes away', () => {
  it('`policy check BIG | head -1` ends with exit 3 (output closed) and no stack trace', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'epipe-'));
    const big = path.join(dir, 'big.txt');
    // ~200 KB of normalised output: more than a pipe holds, so the writes after head exits fail.
    let text = '';
    for (let i = 0; i < 3000; i++) text += `policy-map type inspect esmtp m${i}\n parameters\n  mask-banner\n match cmd RCPT count gt ${100 + i}\n  drop-connection log\n`;
    writeFileSync(big, text);
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI_MAIN}" policy check "${big}" | head -1 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('rc=3');
    expect(r.stderr).not.toMatch(/EPIPE|at .*node:/);
  });
});

describe('thread pool for the read-ahead', () => {
  it('is set to two threads when the environment says nothing, and a user value is kept', () => {
    const saved = process.env['UV_THREADPOOL_SIZE'];
    try {
      delete process.env['UV_THREADPOOL_SIZE'];
      sizeThreadPoolForReads();
      expect(process.env['UV_THREADPOOL_SIZE']).toBe(String(READ_THREAD_POOL_SIZE));
      process.env['UV_THREADPOOL_SIZE'] = '7';
      sizeThreadPoolForReads();
      expect(process.env['UV_THREADPOOL_SIZE']).toBe('7');
    } finally {
      if (saved === undefined) delete process.env['UV_THREADPOOL_SIZE'];
      else process.env['UV_THREADPOOL_SIZE'] = saved;
    }
  });
});
