/**
 * Cross-direction reordering at the capture point: both sides are captured, but a packet of one
 * direction is recorded just before the packet of the other direction it acknowledges (e.g. the
 * client's next command, whose ACK covers the EHLO reply, before that reply). The bytes are all in
 * the capture, so each direction's delivered stream must be the unreordered capture's — no gap
 * (regression of 43c9ee7: the ACK-carrying data packet gave the reply up as a gap, and STARTTLS
 * passed unmasked).
 *
 * Within one direction, data packets keep their order here (same-direction-reorder.test.ts
 * reorders a side's own packets, acknowledged ones included; property.test.ts without ACKs).
 * Two things stay in place: the handshake (which packet opens the connection decides the client),
 * and RSTs (a RST closes the connection where it is in the capture, as it tears it down on the
 * ASA at that point, so bytes recorded after it are not delivered).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ASA_OUT_OF_ORDER, type FlowOptions } from '../../src/flow/flow-table.js';
import { identityOrder as identity, loadTcpPackets as load, runFlowOrder as run, sessionCaptureFiles as files, type CapturedPacket as Rec } from '../helpers/capture-packets.js';

/**
 * Sort keys for a local reorder: packet i at i + jitter (at most 3 places later), except the
 * handshake and RSTs, which stay put, and nothing moves past a RST.
 */
function localKeys(recs: Rec[], jitter: number[]): number[] {
  let nextRst = recs.length;
  const key = new Array<number>(recs.length);
  for (let i = recs.length - 1; i >= 0; i--) {
    if (recs[i]!.rst) {
      nextRst = i;
      key[i] = i;
    } else if (i < 3) key[i] = i;
    else key[i] = Math.min(i + (jitter[i % jitter.length] ?? 0), nextRst - 0.5);
  }
  return key;
}

/** Each data packet swapped with its next neighbour when that neighbour goes the other way. */
function crossSwaps(recs: Rec[]): number[][] {
  const orders: number[][] = [];
  for (let i = 0; i + 1 < recs.length; i++) {
    const a = recs[i]!;
    const b = recs[i + 1]!;
    if (i < 3 || a.toServer === b.toServer || a.rst || b.rst || (a.len === 0 && b.len === 0)) continue;
    const o = identity(recs.length);
    o[i] = i + 1;
    o[i + 1] = i;
    orders.push(o);
  }
  return orders;
}

const PROFILES: Array<[string, Partial<FlowOptions>]> = [
  ['default', {}],
  ['asa', { ...ASA_OUT_OF_ORDER }],
  ['analysis', { ...ASA_OUT_OF_ORDER, onOutOfOrderLimit: 'gap', outOfOrderTimeoutSec: 0 }],
];

describe.skipIf(files.length === 0)('cross-direction reordering of real captures', () => {
  for (const file of files) {
    const recs = load(file);
    const base = run(recs, identity(recs.length), {});

    it(`${path.basename(file)}: unreordered capture has no gap (the reference)`, () => {
      expect(base.gaps).toEqual([]);
      expect(base.s2c.length).toBeGreaterThan(0);
    });

    for (const [name, options] of PROFILES) {
      it(`${path.basename(file)} (${name}): every data packet swapped with its other-direction neighbour delivers the same bytes`, () => {
        const orders = crossSwaps(recs);
        expect(orders.length).toBeGreaterThan(3);
        for (const o of orders) {
          const at = o.findIndex((k, i) => k !== i);
          expect(run(recs, o, options), `swap of packets ${at + 1} and ${at + 2}`).toEqual(base);
        }
      });
    }

    it(`${path.basename(file)}: every fourth pair swapped at once (the reviewer's capture) delivers the same bytes`, () => {
      const o = identity(recs.length);
      for (let i = 3; i + 1 < o.length; i += 4) if (!recs[i]!.rst && !recs[i + 1]!.rst) [o[i], o[i + 1]] = [o[i + 1]!, o[i]!];
      for (const [, options] of PROFILES) expect(run(recs, o, options)).toEqual(base);
    });
  }

  it.skipIf(files.length === 0)('property: random local cross-direction reorders (each direction keeps its order) deliver the same bytes', () => {
    const loaded = files.map((f) => {
      const recs = load(f);
      return { recs, base: run(recs, identity(recs.length), {}) };
    });
    fc.assert(
      fc.property(
        fc.nat(loaded.length - 1),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 400, maxLength: 400 }),
        fc.nat(PROFILES.length - 1),
        (which, jitter, profile) => {
          const { recs, base } = loaded[which]!;
          // Each packet may slip up to 3 places later than the other direction's packets; within a
          // direction the order is kept (a per-direction sort key that never decreases).
          const key = localKeys(recs, jitter);
          for (const dirFlag of [true, false]) {
            let last = -1;
            recs.forEach((p, i) => {
              if (p.toServer !== dirFlag) return;
              if (key[i]! < last) key[i] = last;
              last = key[i]!;
            });
          }
          const order = identity(recs.length).sort((a, b) => key[a]! - key[b]! || a - b);
          expect(run(recs, order, PROFILES[profile]![1])).toEqual(base);
        },
      ),
      { numRuns: 150 },
    );
  });

  it.skipIf(files.length === 0)('property: random local reorders where only each side\'s data packets keep their order (bare ACKs move freely) deliver the same bytes', () => {
    const loaded = files.map((f) => {
      const recs = load(f);
      return { recs, base: run(recs, identity(recs.length), {}) };
    });
    fc.assert(
      fc.property(fc.nat(loaded.length - 1), fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 400, maxLength: 400 }), (which, jitter) => {
        const { recs, base } = loaded[which]!;
        const key = localKeys(recs, jitter);
        for (const dirFlag of [true, false]) {
          let last = -1;
          recs.forEach((p, i) => {
            if (p.toServer !== dirFlag || p.len === 0) return;
            if (key[i]! < last) key[i] = last;
            last = key[i]!;
          });
        }
        const order = identity(recs.length).sort((a, b) => key[a]! - key[b]! || a - b);
        expect(run(recs, order, {})).toEqual(base);
      }),
      { numRuns: 150 },
    );
  });
});
