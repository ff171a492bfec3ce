/**
 * `npm run bench` options are read as strictly as the CLI's: a value that is not decimal digits is a
 * usage error naming the option (Number() took `0x3` as 3 and `1e6` as a million).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuiltCli } from '../helpers/built-cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

const BENCH_MAIN = path.join(REPO_ROOT, 'dist/bench/main.js');

function bench(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BENCH_MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('bench options', () => {
  it('builds', () => expect(ensureBuiltCli()).toBe(true));

  it.each([
    ['--runs', '0x3'],
    ['--runs', '1e1'],
    ['--runs', '0'],
    ['--size', '1e9'],
    ['--size', ' 2000000'],
  ])('%s %s is a usage error naming the option', (opt, value) => {
    const r = bench(opt, value);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${opt} must be`);
    expect(r.stderr).toContain(`"${value}"`);
  });

  it('a size below the generator minimum is refused', () => {
    const r = bench('--size', '5');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--size must be at least 1000000');
  });
});
