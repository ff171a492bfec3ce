/**
 * Property: whatever a sender or an attacker does with the IP fragments of a real session's
 * segments — any cut points, any order, duplicates, overlaps with other bytes, a stray "last
 * fragment", an IPv4 header with options on the first — replay never fails and every packet is
 * accounted for (in = forwarded + dropped, one drop record each). The session is the shared
 * corpus's 12-unknown-commands (Postfix and a scripted client); a fixed seed keeps runs repeatable.
 */
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPackets, type CapturedPacket } from '../helpers/capture-packets.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { expectAccounted, replayFragments } from './fragment-replay.js';
import { writeCapturedPcap } from './write-pcap.js';

const ETH = 14;
const dir = mkdtempSync(path.join(tmpdir(), 'ip-fragments-prop-'));
const SOURCE = path.join(GENERATED_DIR, '12-unknown-commands.pcap');

/** One piece of a segment's IP payload, as a fragment: [offset, length, more fragments, filler byte or -1]. */
type Piece = [number, number, boolean, number];

/** An Ethernet + IPv4 fragment of `p` (whose IPv4 header has no options) carrying ip payload bytes [off, off+len). */
function fragmentOf(p: CapturedPacket, off: number, len: number, more: boolean, filler: number, options: number): Buffer {
  const ihl = 20 + options;
  const payload = p.data.subarray(ETH + 20);
  const bytes = Buffer.alloc(len);
  if (filler >= 0) bytes.fill(filler);
  else payload.copy(bytes, 0, Math.min(off, payload.length), Math.min(off + len, payload.length));
  const f = Buffer.alloc(ETH + ihl + len);
  p.data.copy(f, 0, 0, ETH + 20);
  f[ETH] = 0x40 | (ihl / 4);
  f.fill(0x01, ETH + 20, ETH + ihl); // NOP options
  f.writeUInt16BE(ihl + len, ETH + 2);
  f.writeUInt16BE((more ? 0x2000 : 0) | ((off / 8) & 0x1fff), ETH + 6);
  bytes.copy(f, ETH + ihl);
  return f;
}

const pieceArb = fc.tuple(fc.nat({ max: 40 }), fc.integer({ min: 0, max: 40 }), fc.boolean(), fc.integer({ min: -1, max: 255 }));

describe.skipIf(!haveShared)('IP fragments of a real session, any shape (property)', () => {
  const packets = loadPackets(SOURCE);
  const targets = packets.map((p, i) => ({ p, i })).filter(({ p }) => p.tcp && p.len > 16);

  it('replay never fails and accounts for every packet', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: targets.length - 1 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(pieceArb, { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom(0, 0, 40),
        async (which, unitsOf8, extra, order, options) => {
          const { p, i } = targets[which]!;
          const ipPayload = p.data.length - ETH - 20;
          const size = unitsOf8 * 8;
          const frags: Buffer[] = [];
          // the honest cut, then the odd pieces (offsets in 8-byte units), in a shuffled order
          for (let off = 0; off < ipPayload; off += size) frags.push(fragmentOf(p, off, Math.min(size, ipPayload - off), off + size < ipPayload, -1, off === 0 ? options : 0));
          for (const [o8, len, more, filler] of extra) frags.push(fragmentOf(p, o8 * 8, len, more, filler, 0));
          for (let k = 0; k < order.length && frags.length > 1; k++) {
            const a = order[k]! % frags.length;
            const b = (k * 7 + 3) % frags.length;
            [frags[a], frags[b]] = [frags[b]!, frags[a]!];
          }
          const capture = [...packets.slice(0, i), ...frags.map((data) => ({ ...p, data })), ...packets.slice(i + 1)];
          const file = path.join(dir, 'prop.pcap');
          writeCapturedPcap(file, SOURCE, capture);
          for (const profile of ['asa', 'analysis'] as const) {
            const r = await replayFragments(file, { profile });
            expectAccounted(r);
            expect(r.summary.in).toBe(capture.length);
          }
        },
      ),
      { numRuns: 40, seed: 20261128 },
    );
  }, 120_000);
});
