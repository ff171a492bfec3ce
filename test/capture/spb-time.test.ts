/**
 * Simple Packet Blocks store no time. Their records repeat the previous packet's time in the same
 * section (0 when none) with timestampKnown false, so first/last-time reports can leave them out
 * and flows are not split by a jump back to 1970. pcap records, EPB and PB are timestampKnown.
 */
import { describe, expect, it } from 'vitest';
import { TsConverter } from '../../src/capture/timestamp.js';
import { block, epb, idb, option, pcapHeader, pcapRecord, readChunked, shb, w32 } from './model.js';

const frame = Buffer.alloc(60, 0xab);
const spb = (le: boolean, data: Buffer): Buffer => block(3, Buffer.concat([w32(data.length, le), data]), le);
const pb = (le: boolean, ts: bigint, data: Buffer): Buffer =>
  block(2, Buffer.concat([Buffer.alloc(4), w32(Number(ts >> 32n), le), w32(Number(ts & 0xffffffffn), le), w32(data.length, le), w32(data.length, le), data]), le);

describe.each([true, false])('SPB timestamps (little-endian %s)', (le) => {
  it('an SPB before any packet of its section has time 0, not known', async () => {
    const r = await readChunked(Buffer.concat([shb(le), idb(le, 1, 0), spb(le, frame), epb(le, 0, 1_700_000_000_123_456n, frame)]));
    expect(r.error).toBeNull();
    expect(r.records.map((x) => [x.tsSec, x.tsNsec, x.timestampKnown])).toEqual([
      [0, 0, false],
      [1_700_000_000, 123_456_000, true],
    ]);
    expect([r.records[0]!.tsRawHigh, r.records[0]!.tsRawLow]).toEqual([0, 0]);
  });

  it('an SPB repeats the previous packet of its section (EPB, PB, or an earlier SPB); a new section starts again at 0', async () => {
    const t1 = 1_700_000_000_654_321n; // µs on interface 0
    const t2 = 1_700_000_005_000_001_234n; // ns on interface 1
    const bytes = Buffer.concat([
      shb(le),
      idb(le, 1, 0),
      idb(le, 1, 0, [option(9, Buffer.from([9]), le)]),
      epb(le, 0, t1, frame),
      spb(le, frame),
      epb(le, 1, t2, frame),
      spb(le, frame),
      spb(le, frame),
      pb(le, t1 + 7_000_000n, frame),
      spb(le, frame),
      shb(le),
      idb(le, 1, 0),
      spb(le, frame),
    ]);
    for (const cuts of [[bytes.length + 1], [7], [100, 13]]) {
      const r = await readChunked(bytes, cuts);
      expect(r.error).toBeNull();
      expect(r.records.map((x) => [x.tsSec, x.tsNsec, x.timestampKnown])).toEqual([
        [1_700_000_000, 654_321_000, true],
        [1_700_000_000, 654_321_000, false],
        [1_700_000_005, 1_234, true],
        [1_700_000_005, 1_234, false],
        [1_700_000_005, 1_234, false],
        [1_700_000_007, 654_321_000, true],
        [1_700_000_007, 654_321_000, false],
        [0, 0, false],
      ]);
      // The stored form of an SPB's time is interface 0's (µs here): it converts back to the same
      // second (a packet synthesised "one tick after" it lands after it).
      const conv = new TsConverter(10, 6);
      for (const i of [1, 3, 6]) {
        const x = r.records[i]!;
        const wall = { tsSec: 0, tsNsec: 0 };
        conv.toWall(x.tsRawHigh, x.tsRawLow, wall);
        expect(wall.tsSec).toBe(x.tsSec);
        expect(x.tsNsec - wall.tsNsec).toBeLessThan(1000);
        expect(x.tsNsec - wall.tsNsec).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('pcap records are always timestampKnown', async () => {
    const r = await readChunked(Buffer.concat([pcapHeader(le, false, 65535, 1), pcapRecord(le, 0, 0, frame), pcapRecord(le, 5, 6, frame)]));
    expect(r.error).toBeNull();
    expect(r.records.map((x) => x.timestampKnown)).toEqual([true, true]);
  });
});
