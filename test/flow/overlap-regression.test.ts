/**
 * The counterexample fast-check found for "differing copies" (seed 584614242, ISN 2^32-601): the
 * fourth segment is one byte at nextOffset-1 with a different value. That is exactly a TCP
 * keep-alive probe (one garbage byte at SND.NXT-1, tshark's tcp.analysis.keep_alive heuristic), so
 * it is flagged KEEPALIVE and its byte is neither delivered nor compared; the differing byte of the
 * third segment (offset 5) is counted.
 */
import { describe, expect, it } from 'vitest';
import { Recorder } from './recorder.js';
import { FlowTable, PacketFlowResult } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import { FlowStatus } from '../../src/flow/types.js';

describe('keep-alive versus one-byte retransmission', () => {
  for (const isn of [4294966695, 0, 1, 4294967285]) {
    it(`a 1-byte segment at next-1 is a keep-alive, not a differing retransmission (ISN ${isn})`, () => {
      const segs = [
        { off: 0, bytes: Buffer.from([0]) },
        { off: 1, bytes: Buffer.from([0, 0, 0, 0, 0, 0, 0]) },
        { off: 5, bytes: Buffer.from([1, 0, 0, 1]) },
        { off: 8, bytes: Buffer.from([0]) },
      ];
      const rec = new Recorder();
      const table = new FlowTable(rec, { retransmissionCheckBytes: 1 << 20 });
      const c = new SyntheticConnection('192.0.2.1', 50000, '192.0.2.2', 25);
      const r = new PacketFlowResult();
      let n = 0;
      table.process(c.segment(0, isn, '', { flags: F.SYN }), ++n, 1, 0, r);
      table.process(c.segment(1, 777, '', { flags: F.SYN | F.ACK, ack: (isn + 1) >>> 0 }), ++n, 1, 0, r);
      table.process(c.segment(0, (isn + 1) >>> 0, '', { ack: 778 }), ++n, 1, 0, r);
      const status: number[] = [];
      for (const s of segs) {
        table.process(c.segment(0, (isn + 1 + s.off) >>> 0, s.bytes, { ack: 778 }), ++n, 1, 0, r);
        status.push(r.status);
      }
      const conn = r.conn!;
      table.finish(2, 0);
      expect([...rec.stream(1, 0)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1]);
      expect(status[2]! & FlowStatus.OVERLAP_DIFFERENT).toBeTruthy();
      expect(status[3]! & FlowStatus.KEEPALIVE).toBeTruthy();
      expect(conn.stats[0].overlapDifferentBytes).toBe(1);
    });
  }
});
