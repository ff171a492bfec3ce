/**
 * The installed program's launcher (src/cli/launcher.cjs, the package's `bin`): a shell script that
 * drops NODE_EXTRA_CA_CERTS and runs itself with node as CommonJS, which then loads the entry beside
 * it. Run here as npm installs it (through a symlink, as node_modules/.bin and `npm install -g` do),
 * next to a stand-in entry that reports what it was given.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';

const LAUNCHER = path.join(REPO_ROOT, 'src/cli/launcher.cjs');

function installedBeside(entry: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'smtp-inspect-launcher-'));
  const lib = path.join(dir, 'lib');
  const bin = path.join(dir, 'bin');
  spawnSync('mkdir', ['-p', lib, bin]);
  copyFileSync(LAUNCHER, path.join(lib, 'launcher.cjs'));
  chmodSync(path.join(lib, 'launcher.cjs'), 0o755);
  writeFileSync(path.join(lib, 'smtp-inspect.cjs'), entry);
  symlinkSync(path.join(lib, 'launcher.cjs'), path.join(bin, 'smtp-inspect'));
  return path.join(bin, 'smtp-inspect');
}

describe('launcher', () => {
  it('runs the entry beside it with the arguments intact and without NODE_EXTRA_CA_CERTS', () => {
    const cmd = installedBeside(
      "process.stdout.write(JSON.stringify({ ca: process.env.NODE_EXTRA_CA_CERTS ?? null, other: process.env.SMTP_INSPECT_KEEP ?? null, args: process.argv.slice(2), dir: __dirname }));\n",
    );
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', SMTP_INSPECT_KEEP: 'kept' };
    const r = spawnSync(cmd, ['replay', 'a file.pcap', '--set', 'x=$HOME', '*', ''], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const seen = JSON.parse(r.stdout) as { ca: string | null; other: string | null; args: string[]; dir: string };
    expect(seen.ca).toBeNull();
    expect(seen.other).toBe('kept');
    expect(seen.args).toEqual(['replay', 'a file.pcap', '--set', 'x=$HOME', '*', '']);
    expect(path.basename(seen.dir)).toBe('lib');
  });

  it("starts Node with the bench's LAUNCHER_NODE_ARGS, unless NODE_OPTIONS names a semi-space size", async () => {
    const { LAUNCHER_NODE_ARGS } = await import('../../src/bench/measure.js');
    const cmd = installedBeside('process.stdout.write(JSON.stringify(process.execArgv));\n');
    const plain = spawnSync(cmd, [], { encoding: 'utf8' });
    expect(JSON.parse(plain.stdout)).toEqual([...LAUNCHER_NODE_ARGS]);
    const v8 = spawnSync(cmd, [], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=8' } });
    expect(JSON.parse(v8.stdout)).toEqual([]);
    // And V8 took it: after churning through short-lived objects the young generation has grown to
    // its limit (two semi-spaces): 2 x 2 MiB, where Node 20's default reaches 2 x 16 MiB.
    const churn = installedBeside(
      "const v8 = require('node:v8'); let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ a: i, b: [i] }); if (keep.length > 50000) keep = []; }\n" +
        "process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));\n",
    );
    expect(Number(spawnSync(churn, [], { encoding: 'utf8' }).stdout)).toBe(4 * 1024 * 1024);
    expect(Number(spawnSync(churn, [], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--max-semi-space-size=16' } }).stdout)).toBe(32 * 1024 * 1024);
  });

  it("passes the entry's exit code and standard streams through", () => {
    const cmd = installedBeside("process.stdin.pipe(process.stdout); process.stdin.on('end', () => { process.stderr.write('bye'); process.exitCode = 3; });\n");
    const r = spawnSync(cmd, [], { input: 'bytes in\n', encoding: 'utf8' });
    expect(r.stdout).toBe('bytes in\n');
    expect(r.stderr).toBe('bye');
    expect(r.status).toBe(3);
  });

  it('is the package bin, built into dist beside the entry: the installed program starts without reading the CA bundle', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    const bin = path.join(REPO_ROOT, pkg.bin['smtp-inspect'] ?? '');
    expect(readFileSync(bin, 'utf8')).toBe(readFileSync(LAUNCHER, 'utf8'));
    // Node warns on stderr when it cannot load NODE_EXTRA_CA_CERTS: silence means it never tried.
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' };
    const direct = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/cli/smtp-inspect.cjs'), '--version'], { env, encoding: 'utf8' });
    expect(direct.stderr).toContain('/nonexistent/ca.pem');
    const r = spawnSync(bin, ['--version'], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.status).toBe(0);
  });
});
