/**
 * `flows` prints times at the capture's own precision (the interface's if_tsresol, as `info`
 * does): 3 fraction digits for milliseconds, none for whole seconds, 9 for nanoseconds — not at
 * least 6 with invented zeros. Real packets (a Postfix/swaks session) re-stamped in a pcapng
 * whose IDB has that resolution; tshark reads the same file back as the judge of the times.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFlows, type FlowRecord } from '../../src/flow/flows-report.js';
import { isoTime } from '../../src/output/time.js';
import { PcapngBuilder, pcapPackets } from '../cli-info/pcapng-build.js';
import { GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'flows-precision-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function records(file: string): Promise<FlowRecord[]> {
  const out: FlowRecord[] = [];
  const r = await runFlows(file, { onRecord: (rec) => out.push(rec) });
  expect(r.error).toBeNull();
  return out;
}

describe.skipIf(!haveShared)('flows times at the interface resolution', () => {
  const plain = path.join(GENERATED_DIR, '02-ehlo-basic.pcap');
  const packets = haveShared ? pcapPackets(readFileSync(plain)) : [];
  /** The session re-stamped at 10^-exp seconds (the microsecond times truncated). */
  const build = (name: string, exp: number): string => {
    const b = new PcapngBuilder().shb().idb(1, 0, exp);
    for (const p of packets) {
      const us = BigInt(p.tsSec) * 1_000_000n + BigInt(p.tsUsec);
      b.epb(exp >= 6 ? us * 10n ** BigInt(exp - 6) : us / 10n ** BigInt(6 - exp), p.data);
    }
    const f = path.join(tmp, name);
    writeFileSync(f, b.build());
    return f;
  };
  const first = () => packets[0]!;
  const last = () => packets[packets.length - 1]!;

  it('if_tsresol=3 (milliseconds): 3 fraction digits, the same connection and bytes as the microsecond original', async () => {
    const f = build('ms.pcapng', 3);
    const [rec, ...rest] = await records(f);
    expect(rest).toEqual([]);
    const ms = (p: { tsUsec: number }) => Math.floor(p.tsUsec / 1000) * 1e6;
    expect(rec!.firstTime).toBe(isoTime(first().tsSec, ms(first()), 3));
    expect(rec!.firstTime).toMatch(/T\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(rec!.lastTime).toBe(isoTime(last().tsSec, ms(last()), 3));
    const [orig] = await records(plain);
    expect(orig!.firstTime).toMatch(/\.\d{6}Z$/);
    expect({ ...rec, firstTime: '', lastTime: '' }).toEqual({ ...orig, firstTime: '', lastTime: '' });
    if (haveTool('tshark')) {
      // tshark's epoch times of the first and last frame, to the millisecond
      const t = spawnSync('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' });
      const epochs = t.stdout.trim().split('\n');
      const toIso = (e: string) => {
        const [s, frac = ''] = e.split('.');
        return isoTime(Number(s), Number(frac.padEnd(9, '0').slice(0, 9)), 3);
      };
      expect(rec!.firstTime).toBe(toIso(epochs[0]!));
      expect(rec!.lastTime).toBe(toIso(epochs[epochs.length - 1]!));
    }
  });

  it('if_tsresol=0 (seconds): no fraction; if_tsresol=9: nine digits; the default 10^-6: six', async () => {
    const [s] = await records(build('s.pcapng', 0));
    expect(s!.firstTime).toBe(isoTime(first().tsSec, 0, 0));
    expect(s!.firstTime).toMatch(/:\d\dZ$/);
    const [ns] = await records(build('ns.pcapng', 9));
    expect(ns!.firstTime).toBe(isoTime(first().tsSec, first().tsUsec * 1000, 9));
    expect(ns!.lastTime).toMatch(/\.\d{9}Z$/);
    const [us] = await records(build('us.pcapng', 6));
    expect(us!.firstTime).toBe(isoTime(first().tsSec, first().tsUsec * 1000, 6));
  });
});
