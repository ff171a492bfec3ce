/**
 * A capture that starts with a keep-alive: an idle session's first packet is often one (Linux
 * probes with seq = next-1 and no data, RFC 9293 §3.8.4). Picked up midstream, a side was anchored
 * at that sequence number, one below where its stream stands, so its first data made a 1-byte
 * gap at offset 0 that never existed (and the engine was told bytes were missing).
 *
 * Real bytes: fixtures/zero-window-linux.pcap (Linux on loopback) has two client keep-alives at
 * seq 6223 (frames 21, 23) while the server's window is closed, each answered by the server's ACK
 * of 6224, then the window update (24) and the data from 6224 (25).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { identityOrder, loadPackets, runFlowOrder } from '../helpers/capture-packets.js';

const FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'zero-window-linux.pcap');

describe('midstream pickup at a keep-alive', () => {
  const all = loadPackets(FILE);
  const whole = runFlowOrder(all, identityOrder(all.length), {});
  // Frame 21 = index 20: the client's first keep-alive.
  const ka = all[20]!;
  const data = all[24]!;

  it('the fixture is what it says', () => {
    expect(ka.toServer && ka.len === 0 && all[22]!.toServer && all[22]!.len === 0).toBe(true);
    expect(data.toServer && data.len > 0 && data.seq === ((ka.seq + 1) >>> 0)).toBe(true);
    expect(all[21]!.fromServer && all[21]!.ack === data.seq).toBe(true);
  });

  // The data from the keep-alive's next on: client stream offset 6223 (frame 25's first byte).
  const tailFrom = 6223;
  const cases: [string, number[]][] = [
    // The server's ACK of next (= keep-alive + 1) comes before the client's data.
    ['capture starts at the keep-alive, its ACK next', Array.from({ length: all.length - 20 }, (_, i) => i + 20)],
    // No server packet before the data: the data one above the keep-alive decides.
    ['capture starts at the keep-alive, data next (server ACKs not captured)', [20, 22, ...Array.from({ length: all.length - 24 }, (_, i) => i + 24)]],
  ];
  for (const [name, order] of cases) {
    it(`${name}: no gap; the client stream is the rest of the message`, () => {
      const recs = order.map((k) => all[k]!);
      const run = runFlowOrder(recs, identityOrder(recs.length), {});
      expect(run.gaps.filter(([d]) => d === 0)).toEqual([]);
      expect(run.c2s).toBe(whole.c2s.slice(tailFrom));
    });
  }

  it('a bare ACK followed by data further above it: the bytes between are still a gap', () => {
    // Not the keep-alive pattern (exactly one above): those bytes were lost, and reported.
    const later = all.slice(26).find((x) => x.toServer && x.len > 0)!;
    const run = runFlowOrder([ka, later], [0, 1], {});
    expect(run.gaps.filter(([d]) => d === 0)).toEqual([[0, 0, (later.seq - ka.seq) >>> 0]]);
  });
});
