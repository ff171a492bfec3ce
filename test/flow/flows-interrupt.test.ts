/**
 * `flows` on the real program: SIGINT/SIGTERM while it reads a FIFO that stays open lists the
 * connections read so far — closed ones with their reason, the rest as open — exactly as for the
 * same bytes in a file, then exits 130. Also: a connection whose middle packets are pcapng Simple
 * Packet Blocks (no time) stays one connection; times beyond Date's range print without NaN.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canObserveThreads, ensureBuilt, MAIN, recordEnds, runInterruptedInFifoOpen, runInterruptedOnFifo } from '../helpers/interrupted-run.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';
import { PcapngBuilder, pcapPackets } from '../cli-info/pcapng-build.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'flows-interrupt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, 'flows', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });

beforeAll(() => {
  if (haveShared) ensureBuilt();
});

describe.skipIf(!haveShared || !haveTool('mkfifo') || !canObserveThreads)('flows interrupted by a signal', () => {
  const capture = path.join(EXTERNAL_PCAPS, 'sv-errors.pcap');
  const half = (): { bytes: Buffer; file: string; packets: number } => {
    const all = readFileSync(capture);
    const ends = recordEnds(all);
    const packets = Math.floor(ends.length / 2);
    const bytes = all.subarray(0, ends[packets - 1]);
    const file = path.join(tmp, 'half.pcap');
    writeFileSync(file, bytes);
    return { bytes, file, packets };
  };

  it('SIGINT, --json: the connections read so far, still-open ones as "open", as for the same bytes in a file; exit 130', async () => {
    const { bytes, file, packets } = half();
    const fifo = path.join(tmp, 'a.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runInterruptedOnFifo(['flows', '--json', '-'], fifo, bytes, 'SIGINT');
    expect(r.status).toBe(130);
    const fromFile = run(['--json', file]);
    expect(fromFile.status).toBe(0);
    const want = fromFile.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(got).toEqual(want.map((rec) => (rec.close === 'end-of-capture' ? { ...rec, close: 'open' } : rec)));
    // The cut leaves one connection closed (RST) and one open: both kinds are checked.
    expect(got.map((x) => x.close)).toEqual(['rst', 'open']);
    expect(Object.keys(got[1])).toEqual(Object.keys(want[1]));
    expect(r.stderr).toBe(`smtp-inspect: interrupted: 2 connection(s) from the ${packets} packet(s) read until the signal\n`);
  }, 30_000);

  it('SIGTERM, text: records, then the summary line saying interrupted and still open', async () => {
    const { bytes, packets } = half();
    const fifo = path.join(tmp, 'b.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runInterruptedOnFifo(['flows', '-'], fifo, bytes, 'SIGTERM');
    expect(r.status).toBe(130);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^#1 .* closed: rst$/);
    expect(lines[3]).toMatch(/^#2 .* still open \(interrupted\)$/);
    expect(lines.at(-1)).toMatch(new RegExp(`^interrupted \\(SIGINT/SIGTERM\\): 2 connections \\(rst 1, still open 1\\); ${packets} packets,`));
  }, 30_000);

  it('a signal before the capture header: no connection, exit 130', async () => {
    const fifo = path.join(tmp, 'c.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const args of [['flows', '--json', '-'], ['flows', '-']]) {
      const r = await runInterruptedOnFifo(args, fifo, Buffer.alloc(0), 'SIGINT');
      expect(r.status).toBe(130);
      // Nothing was read: the stderr line alone (README), in text as in JSON.
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('smtp-inspect: -: interrupted before the capture header was read: nothing to list\n');
    }
  }, 30_000);
});

describe.skipIf(!canObserveThreads)('a named FIFO nobody writes to', () => {
  for (const cmd of ['info', 'flows'] as const) {
    it(`${cmd}: a signal while the open waits for a writer ends it, exit 130`, async () => {
      const fifo = path.join(tmp, `open-${cmd}.fifo`);
      execFileSync('mkfifo', [fifo]);
      const r = await runInterruptedInFifoOpen([cmd, fifo], 'SIGINT');
      expect(r.status).toBe(130);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`smtp-inspect: ${fifo}: interrupted before the capture header was read: nothing to ${cmd === 'info' ? 'summarise' : 'list'}\n`);
    }, 30_000);
  }
});

describe.skipIf(!haveShared)('flows on pcapng times', () => {
  const plain = path.join(GENERATED_DIR, '02-ehlo-basic.pcap');
  const packets = haveShared ? pcapPackets(readFileSync(plain)) : [];

  it('Simple Packet Blocks inside a connection (no time: they carry the previous one) keep it one connection, same bytes', () => {
    const b = new PcapngBuilder().shb().idb(1);
    const last = packets.length - 1;
    // The first and the last packets have times; all those between are SPBs.
    packets.forEach((p, i) => (i === 0 || i === last ? b.epb(BigInt(p.tsSec) * 1_000_000n + BigInt(p.tsUsec), p.data) : b.spb(p.data)));
    const mixed = path.join(tmp, 'mixed.pcapng');
    writeFileSync(mixed, b.build());
    const got = run(['--json', mixed]);
    expect(got.status).toBe(0);
    const recs = got.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const want = run(['--json', plain]).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs).toHaveLength(1);
    expect(want).toHaveLength(1);
    expect(recs[0]).toEqual(want[0]);
  });

  it('times beyond Date (if_tsresol=0): expanded years, no NaN', () => {
    const f = path.join(tmp, 'far.pcapng');
    writeFileSync(f, new PcapngBuilder().shb().idb(1, 0, 0).epb(2n ** 50n, packets[0]!.data).epb(2n ** 50n + 3n, packets[1]!.data).build());
    const r = run(['--json', f]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/NaN/);
    const rec = JSON.parse(r.stdout.trim().split('\n')[0]!);
    expect(rec.firstTime).toMatch(/^\+35680317-09-25T18:57:04(\.0+)?Z$/);
    expect(rec.lastTime).toMatch(/^\+35680317-09-25T18:57:07(\.0+)?Z$/);
  });
});
