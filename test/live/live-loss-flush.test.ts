/**
 * `smtp-inspect live` on loopback: capture loss is reported (never silent), -w/--annotate are
 * readable while the capture runs (header at open, records after each captured batch),
 * `--checksum fix` makes the edited packets' offloaded checksums valid, and -B is read strictly.
 * Capture tests need root (or CAP_NET_RAW) and the cap binding: skipped with a printed reason otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { haveTool, tshark } from '../helpers/shared.js';
import { composeRaw, policyForPort, smtpTransport } from '../proxy/proxy-harness.js';
import { RawSmtpClient, startSmtpServer, type RecordingServer } from '../proxy/smtp-harness.js';
import { CLI, liveSkipReason } from './live-prereqs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let skipReason: string | null = null;
let tmp = '';
let srv: RecordingServer | null = null;
let policyFile = '';
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'smtp-inspect-live-loss-'));
  skipReason = await liveSkipReason();
  if (skipReason) console.warn(`[skip] live capture tests: ${skipReason}`);
  if (!skipReason) {
    srv = await startSmtpServer({ banner: 'ESMTP live 2020' });
    policyFile = path.join(tmp, 'policy.txt');
    writeFileSync(policyFile, policyForPort(srv.port));
  }
}, 120_000);
afterAll(async () => {
  await srv?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A running `live` child with its output collected. */
class LiveRun {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, 'live', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => (this.stdout += b.toString()));
    this.child.stderr?.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }
  async started(): Promise<void> {
    for (let i = 0; i < 400 && !this.stderr.includes('Ctrl-C to stop'); i++) await sleep(25);
    expect(this.stderr).toContain('Ctrl-C to stop');
  }
  async stop(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }
}
const runs: LiveRun[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.child.kill('SIGKILL');
});
function live(args: string[]): LiveRun {
  const r = new LiveRun(args);
  runs.push(r);
  return r;
}

/** Sends one message with a small banner-masked session: two packets are edited. */
async function oneMessage(port: number): Promise<void> {
  const raw = await composeRaw({ from: 'a@example.org', to: 'b@example.net', subject: 'live', text: 'hello\r\n' });
  const t = smtpTransport(port);
  await t.sendMail({ envelope: { from: 'a@example.org', to: ['b@example.net'] }, raw });
  t.close();
}

describe('live -B: strict KiB values (no capture needed)', () => {
  it('rejects -B 0, 0x10, 1e3, "", " 64", 1.5, -5 and 2097152 with exit 2 before opening the device', (ctx) => {
    if (!existsSync(CLI)) return ctx.skip();
    for (const value of ['0', '0x10', '1e3', '', ' 64', '1.5', '-5', '2097152']) {
      const r = spawnSync(process.execPath, [CLI, 'live', '-i', 'lo', '-B', value], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, `-B "${value}"`).toBe(2);
      expect(r.stderr).toMatch(value === '2097152' ? /-B\/--buffer-size must be at most 2097151, got "2097152"/ : /-B\/--buffer-size must be a positive integer, got /);
    }
  });

  it('documents -B in KiB and --checksum in --help', (ctx) => {
    if (!existsSync(CLI)) return ctx.skip();
    const r = spawnSync(process.execPath, [CLI, 'live', '--help'], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/-B, --buffer-size <KiB>\s+kernel capture buffer in KiB/);
    expect(r.stdout).toMatch(/--checksum <MODE>/);
  });
});

describe('live on lo', () => {
  it('reports capture loss: a 1 MiB buffer under a burst leaves gaps, warned about on stderr and counted in the summary', async (ctx) => {
    if (skipReason || !srv) return ctx.skip();
    const port = srv.port;
    // A 1 MiB ring holds 16 of lo's 64 KiB frames: 8 concurrent sessions of 28 KB messages overflow
    // it. Loss depends on scheduling, so a run without any is retried (not timed).
    let run: LiveRun | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      run = live(['-i', 'lo', '--policy', policyFile, '-B', '1024', '--print', 'none']);
      await run.started();
      expect(run.stderr).toContain('buffer 1024 KiB');
      const text = ('x'.repeat(70) + '\r\n').repeat(400);
      await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const t = smtpTransport(port);
          for (let k = 0; k < 3; k++) await t.sendMail({ envelope: { from: 'a@example.org', to: [`b${i}@example.net`] }, raw: await composeRaw({ from: 'a@example.org', to: `b${i}@example.net`, subject: 'burst', text }) });
          t.close();
        }),
      );
      await sleep(300);
      expect(await run.stop()).toBe(130);
      if (/capture gaps: [1-9]/.test(run.stderr)) break;
      console.warn(`[retry] no capture loss in attempt ${attempt + 1}`);
    }
    const err = run?.stderr ?? '';
    // The running warning, once (the next would come a minute later at the earliest).
    expect(err).toMatch(/smtp-inspect: warning: capture gaps so far: \d+ gap\(s\), \d+ byte\(s\) never seen, in \d+ connection\(s\): most likely packets the kernel dropped \(capture buffer -B 1024 KiB full\); raise -B/);
    expect(err.match(/warning: capture gaps so far/g)).toHaveLength(1);
    const m = /capture gaps: (\d+) gap\(s\), (\d+) byte\(s\) never seen, in (\d+) connection\(s\)\n  most likely packets the kernel dropped because the capture buffer \(-B 1024 KiB\) was full: raise -B/.exec(err);
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    expect(Number(m?.[3])).toBeGreaterThanOrEqual(1);
    expect(Number(m?.[3])).toBeLessThanOrEqual(8 * 3);
  }, 60_000);

  it('says "capture gaps: none" when nothing was lost', async (ctx) => {
    if (skipReason || !srv) return ctx.skip();
    const run = live(['-i', 'lo', '--policy', policyFile, '--print', 'none']);
    await run.started();
    expect(run.stderr).toContain('buffer 131072 KiB');
    await oneMessage(srv.port);
    await sleep(200);
    expect(await run.stop()).toBe(130);
    expect(run.stderr).toContain('capture gaps: none');
    expect(run.stderr).not.toContain('warning: capture gaps');
  }, 30_000);

  it('-w and --annotate: the header is there at once, packets appear while live still runs, and a killed run leaves a readable file', async (ctx) => {
    if (skipReason || !srv) return ctx.skip();
    const out = path.join(tmp, 'running.pcap');
    const ann = path.join(tmp, 'running.pcapng');
    const run = live(['-i', 'lo', '--policy', policyFile, '-w', out, '--annotate', ann, '--print', 'none']);
    await run.started();
    // Before any packet: a complete pcap file header (nanosecond magic) and a pcapng section + IDB.
    const head = readFileSync(out);
    expect(head.length).toBe(24);
    expect(head.readUInt32LE(0)).toBe(0xa1b23c4d);
    const annHead = readFileSync(ann);
    expect(annHead.readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(annHead.length).toBeGreaterThan(28);

    await oneMessage(srv.port);
    // Still running: the packets must already be in the files (flushed per captured batch).
    let size = 0;
    for (let i = 0; i < 80 && size <= 24; i++) {
      await sleep(25);
      size = readFileSync(out).length;
    }
    expect(run.child.exitCode).toBeNull();
    const mid = readFileSync(out);
    // Whole records only: walk the record headers to the exact end of the file.
    let off = 24;
    let records = 0;
    while (off + 16 <= mid.length) {
      off += 16 + mid.readUInt32LE(off + 8);
      records++;
    }
    expect(off).toBe(mid.length);
    expect(records).toBeGreaterThanOrEqual(10);
    if (haveTool('tshark')) {
      const seen = tshark(['-r', out, '-d', `tcp.port==${srv.port},smtp`, '-Y', 'smtp.response.code == 220', '-T', 'fields', '-e', 'smtp.rsp.parameter']);
      expect(seen).toMatch(/\*{4,}/); // the masked banner, read while the capture still runs
      expect(tshark(['-r', ann, '-T', 'fields', '-e', 'frame.comment'])).toContain('mask');
    }
    // SIGKILL: nothing is flushed at exit, yet the file is a valid capture with those packets.
    run.child.kill('SIGKILL');
    await run.exited;
    expect(readFileSync(out).length).toBe(mid.length);
    if (haveTool('capinfos')) {
      const r = spawnSync('capinfos', ['-c', '-M', out], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Number of packets:\\s+${records}\\b`));
    }
  }, 30_000);

  it('--checksum fix: the edited packets get valid TCP checksums on lo (offloaded, i.e. partial, as captured); the default keeps them wrong', async (ctx) => {
    if (skipReason || !srv) return ctx.skip();
    if (!haveTool('tshark')) return ctx.skip();
    const port = srv.port;
    const statusOfEdited = async (extra: string[], name: string): Promise<string[]> => {
      const out = path.join(tmp, name);
      const run = live(['-i', 'lo', '--policy', policyFile, '-w', out, '--print', 'none', ...extra]);
      await run.started();
      const c = await RawSmtpClient.connect(port);
      await c.reply();
      await c.cmd('EHLO client.example.org');
      await c.cmd('QUIT');
      c.destroy();
      await sleep(200);
      expect(await run.stop()).toBe(130);
      expect(run.stderr).toMatch(/packets out: \d+ = \d+ forwarded \([1-9]\d* modified\)/);
      // The banner is masked: the edited packet. tcp.checksum.status: 1 good, 0 bad.
      return tshark(['-r', out, '-o', 'tcp.check_checksum:TRUE', '-d', `tcp.port==${port},smtp`, '-Y', 'smtp.response.code == 220', '-T', 'fields', '-e', 'tcp.checksum.status'])
        .trim()
        .split('\n');
    };
    const fixed = await statusOfEdited(['--checksum', 'fix'], 'fix.pcap');
    expect(fixed.length).toBeGreaterThanOrEqual(1);
    expect(fixed.every((s) => s === '1')).toBe(true);
    const incremental = await statusOfEdited([], 'incremental.pcap');
    expect(incremental.length).toBeGreaterThanOrEqual(1);
    expect(incremental.every((s) => s === '0')).toBe(true);
  }, 30_000);
});
