/**
 * `diagnose -` reads the capture more than once (a replay per proposed fix): a piped stdin is
 * spooled to a private temporary file, so `cat in.pcap | smtp-inspect diagnose -` reports what
 * `smtp-inspect diagnose in.pcap` reports, and the temporary copy is gone afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { PROJECT_CAPTURES } from '../helpers/shared.js';

const DEMO = path.join(PROJECT_CAPTURES, 'demo/capture.pcap');

function spooledDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('smtp-inspect-stdin-'));
}

describe('diagnose from a pipe', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('gives the same report as from the file, names the input "-", and leaves no temporary file', () => {
    const before = spooledDirs();
    const fromFile = spawnSync(process.execPath, [CLI_MAIN, 'diagnose', DEMO, '--json'], { encoding: 'utf8' });
    const fromPipe = spawnSync('bash', ['-c', `cat "${DEMO}" | "${process.execPath}" "${CLI_MAIN}" diagnose - --json`], { encoding: 'utf8' });
    expect(fromPipe.status, fromPipe.stderr).toBe(fromFile.status);
    const a = JSON.parse(fromFile.stdout) as { input: string; sessions: unknown[] };
    const b = JSON.parse(fromPipe.stdout) as { input: string; sessions: unknown[] };
    expect(b.input).toBe('-');
    expect(b.sessions).toEqual(a.sessions);
    expect(a.sessions.length).toBeGreaterThan(0);
    expect(spooledDirs()).toEqual(before);
  });

  it('Ctrl-C while stdin is still open: exit 130 and the temporary copy removed', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-sigint-'));
    const child = spawn(process.execPath, [CLI_MAIN, 'diagnose', '-'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['pipe', 'ignore', 'pipe'] });
    child.stdin.write(fs.readFileSync(DEMO)); // the capture, but stdin stays open: still spooling
    for (let i = 0; i < 100 && fs.readdirSync(tmp).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readdirSync(tmp).length).toBe(1);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(130);
    expect(fs.readdirSync(tmp)).toEqual([]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
