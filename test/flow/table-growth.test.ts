/**
 * The connection table's buckets double as connections are added: every connection must still be
 * found (both directions) after several doublings, removals (RST, then linger expiry) must unlink
 * exactly their own entry, and a reused tuple must start a new connection.
 */
import { describe, expect, it } from 'vitest';
import { FlowTable, PacketFlowResult } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import type { Connection } from '../../src/flow/connection.js';

describe('flow table buckets', () => {
  it('finds 10,000 connections after doublings, in both directions, and forgets removed ones', () => {
    const opened: number[] = [];
    const t = new FlowTable({ onOpen: (c: Connection) => opened.push(c.id), onData() {}, onGap() {}, onClose() {} }, { serverPorts: [25], maxConnections: 1_000_000 });
    const r = new PacketFlowResult();
    const N = 10_000;
    const conns: SyntheticConnection[] = [];
    for (let i = 0; i < N; i++) {
      const c = new SyntheticConnection(`10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`, 1024 + (i % 50000), i % 3 === 0 ? '192.0.2.25' : '192.0.2.26', 25);
      conns.push(c);
      t.process(c.segment(0, 1000, '', { flags: F.SYN }), i + 1, 1000, 0, r);
      expect(r.conn?.id).toBe(i + 1);
    }
    expect(t.size).toBe(N);
    const ids: number[] = [];
    for (let i = 0; i < N; i++) {
      t.process(conns[i]!.segment(1, 5000, '', { flags: F.SYN | F.ACK, ack: 1001 }), N + i + 1, 1000, 0, r);
      ids.push(r.conn!.id);
      expect(r.dir).toBe(1);
    }
    expect(ids).toEqual(opened);
    for (let i = 0; i < N; i++) t.process(conns[i]!.segment(0, 1001, '', { flags: F.ACK, ack: 5001 }), 2 * N + i + 1, 1000, 0, r);
    // Reset every other connection, let them linger out, then look everything up again.
    for (let i = 0; i < N; i += 2) t.process(conns[i]!.segment(0, 1001, '', { flags: F.RST }), 3 * N + i, 1001, 0, r);
    t.advanceTime(1000 + 120, 0);
    for (let i = 1; i < N; i += 2) {
      t.process(conns[i]!.segment(0, 1001, '', { flags: F.ACK, ack: 5001 }), 4 * N + i, 1121, 0, r);
      expect(r.conn!.id).toBe(i + 1);
    }
    // A removed tuple opens a new connection.
    expect(t.size).toBe(N / 2);
    t.process(conns[0]!.segment(0, 9000, '', { flags: F.SYN }), 5 * N, 1122, 0, r);
    expect(r.conn!.id).toBe(N + 1);
    expect(t.size).toBe(N / 2 + 1);
  });
});
