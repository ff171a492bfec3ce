/**
 * Property tests against a naive byte-array model: whatever the cutting, reordering, duplication
 * and overlapping, and wherever the ISN sits relative to 2^32, the delivered stream is the model's.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FlowTable, PacketFlowResult } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import { Recorder } from './recorder.js';

interface Seg {
  off: number;
  bytes: Buffer;
}

const isnArb = fc.oneof(fc.integer({ min: 0xffffffff - 600, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }));

/** A stream, cut into consecutive segments, plus extra overlapping copies (same bytes or not). */
function scenario(opts: { differing: boolean; dropSome: boolean }) {
  return fc
    .record({
      stream: fc.uint8Array({ minLength: 1, maxLength: 400 }),
      cuts: fc.array(fc.integer({ min: 1, max: 399 }), { maxLength: 30 }),
      extras: fc.array(fc.record({ a: fc.nat(399), len: fc.integer({ min: 2, max: 60 }), salt: fc.nat(255) }), { maxLength: 12 }),
      dups: fc.array(fc.nat(40), { maxLength: 8 }),
      drops: opts.dropSome ? fc.array(fc.nat(40), { maxLength: 4 }) : fc.constant<number[]>([]),
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 200, maxLength: 200 }),
      isn: isnArb,
    })
    .map(({ stream, cuts, extras, dups, drops, order, isn }) => {
      const data = Buffer.from(stream);
      const points = [...new Set(cuts.filter((c) => c < data.length))].sort((x, y) => x - y);
      const base: Seg[] = [];
      let prev = 0;
      for (const p of [...points, data.length]) {
        base.push({ off: prev, bytes: data.subarray(prev, p) });
        prev = p;
      }
      const dropped = new Set(drops.map((i) => i % base.length));
      // keep at least one segment
      if (dropped.size === base.length) dropped.delete(0);
      const segs: Seg[] = base.filter((_, i) => !dropped.has(i));
      for (const i of dups) segs.push(segs[i % segs.length]!);
      for (const e of extras) {
        const a = e.a % data.length;
        const b = Math.min(data.length, a + e.len);
        if (b - a < 2) continue;
        let bytes = Buffer.from(data.subarray(a, b));
        // Extras only overlap bytes that some kept segment carries (a dropped range stays a hole).
        const covered = (i: number) => segs.some((s) => s.off <= i && i < s.off + s.bytes.length);
        let ok = true;
        for (let i = a; i < b; i++) if (!covered(i)) ok = false;
        if (!ok) continue;
        if (opts.differing) bytes = Buffer.from(bytes.map((x, k) => (k % 3 === 0 ? x ^ (e.salt | 1) : x)));
        segs.push({ off: a, bytes });
      }
      // (extras are 2+ bytes: a 1-byte copy of the last delivered byte is a keep-alive, never compared)
      // shuffle with the random keys
      const keyed = segs.map((s, i) => ({ s, k: order[i % order.length]! + i * 1e-9 }));
      keyed.sort((x, y) => x.k - y.k);
      return { data, segs: keyed.map((x) => x.s), isn, dropped: base.filter((_, i) => dropped.has(i)) };
    });
}

function run(segs: Seg[], isn: number, options = {}) {
  const rec = new Recorder();
  const table = new FlowTable(rec, { retransmissionCheckBytes: 1 << 20, ...options });
  const c = new SyntheticConnection('192.0.2.1', 50000, '192.0.2.2', 25);
  const r = new PacketFlowResult();
  let n = 0;
  table.process(c.segment(0, isn, '', { flags: F.SYN }), ++n, 1, 0, r);
  table.process(c.segment(1, 777, '', { flags: F.SYN | F.ACK, ack: isn + 1 }), ++n, 1, 0, r);
  table.process(c.segment(0, isn + 1, '', { ack: 778 }), ++n, 1, 0, r);
  const packets = new Map<number, Seg>();
  for (const s of segs) {
    table.process(c.segment(0, (isn + 1 + s.off) >>> 0, s.bytes, { ack: 778 }), ++n, 1, 0, r);
    packets.set(n, s);
    expect(r.streamOffset).toBe(s.off);
  }
  const conn = r.conn!;
  table.finish(2, 0);
  return { rec, table, packets, conn };
}

describe('reassembly against a naive model', () => {
  it('consistent copies in any order reassemble exactly, chunks never cross a segment boundary', () => {
    fc.assert(
      fc.property(scenario({ differing: false, dropSome: false }), ({ data, segs, isn }) => {
        const { rec, packets } = run(segs, isn);
        expect(rec.stream(1, 0).equals(data)).toBe(true);
        expect(rec.gaps(1, 0)).toEqual([]);
        for (const e of rec.dataEvents(1, 0)) {
          // the reported packet carried exactly these bytes
          const s = packets.get(e.packet)!;
          expect(e.offset).toBeGreaterThanOrEqual(s.off);
          expect(e.offset + e.text.length).toBeLessThanOrEqual(s.off + s.bytes.length);
          expect(Buffer.from(e.text, 'latin1').equals(s.bytes.subarray(e.offset - s.off, e.offset - s.off + e.text.length))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('differing copies: the first copy of every byte wins, and every differing later byte is counted', () => {
    fc.assert(
      fc.property(scenario({ differing: true, dropSome: false }), ({ data, segs, isn }) => {
        const model = new Array<number>(data.length).fill(-1);
        let different = 0;
        for (const s of segs) {
          // A 1-byte segment at next-1 (next = the first byte not yet seen) is a TCP keep-alive by
          // the usual heuristic (tshark's too): its byte is not compared (seed 584614242).
          const next = model.indexOf(-1) === -1 ? model.length : model.indexOf(-1);
          if (s.bytes.length === 1 && s.off === next - 1) continue;
          for (let k = 0; k < s.bytes.length; k++) {
            const i = s.off + k;
            if (model[i] === -1) model[i] = s.bytes[k]!;
            else if (model[i] !== s.bytes[k]) different++;
          }
        }
        const { rec, conn } = run(segs, isn);
        expect([...rec.stream(1, 0)]).toEqual(model);
        expect(conn.stats[0].overlapDifferentBytes).toBe(different);
      }),
      { numRuns: 300 },
    );
  });

  it('holes become gap events at the right offsets, the rest is delivered', () => {
    fc.assert(
      fc.property(scenario({ differing: false, dropSome: true }), ({ data, segs, isn }) => {
        const covered = new Array<boolean>(data.length).fill(false);
        for (const s of segs) for (let k = 0; k < s.bytes.length; k++) covered[s.off + k] = true;
        const lastCovered = covered.lastIndexOf(true);
        const gaps: [number, number][] = [];
        for (let i = 0; i < lastCovered; i++) {
          if (!covered[i] && (i === 0 || covered[i - 1])) {
            let j = i;
            while (!covered[j]) j++;
            gaps.push([i, j - i]);
          }
        }
        const { rec } = run(segs, isn);
        expect(rec.gaps(1, 0)).toEqual(gaps);
        const expected = Buffer.from(data.subarray(0, lastCovered + 1));
        for (const [o, l] of gaps) expected.fill(0, o, o + l);
        expect(rec.stream(1, 0).equals(expected)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('limits are never exceeded, whatever arrives', () => {
    fc.assert(
      fc.property(scenario({ differing: true, dropSome: true }), fc.constantFrom<'gap' | 'drop'>('gap', 'drop'), ({ segs, isn }, mode) => {
        const rec = new Recorder();
        const opts = { maxOutOfOrderPacketsPerDirection: 3, maxOutOfOrderBytesPerDirection: 100, memoryCapBytes: 150, retransmissionCheckBytes: 64, onOutOfOrderLimit: mode };
        const table = new FlowTable(rec, opts);
        const c = new SyntheticConnection('192.0.2.1', 50000, '192.0.2.2', 25);
        const r = new PacketFlowResult();
        let n = 0;
        table.process(c.segment(0, isn, '', { flags: F.SYN }), ++n, 1, 0, r);
        for (const s of segs) {
          table.process(c.segment(0, (isn + 1 + s.off) >>> 0, s.bytes, { ack: 1 }), ++n, 1, 0, r);
          const conn = r.conn!;
          expect(conn.half[0].queueLength).toBeLessThanOrEqual(3);
          expect(conn.half[0].queuedBytes).toBeLessThanOrEqual(100);
          expect(table.stats.memoryInUse).toBeLessThanOrEqual(150);
          expect(table.stats.memoryInUse).toBeGreaterThanOrEqual(0);
        }
        table.finish(2, 0);
        expect(table.stats.memoryInUse).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
