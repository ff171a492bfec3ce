/** Limits and timeouts: each one hit, counted, and never a crash. Time is capture time. */
import { describe, expect, it } from 'vitest';
import { FlowStatus } from '../../src/flow/types.js';
import { ASA_OUT_OF_ORDER } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import { Driver } from './driver.js';

describe('out-of-order limits', () => {
  it("ASA profile ('drop', 3 packets): the 4th held segment is dropped, a retransmission later is accepted", () => {
    const d = new Driver(1000, 2000, { ...ASA_OUT_OF_ORDER });
    d.handshake();
    d.data(0, 0, 'A');
    d.data(0, 2, 'C');
    d.data(0, 3, 'D');
    d.data(0, 4, 'E');
    const fourth = d.data(0, 5, 'F');
    expect(fourth.status & FlowStatus.OUT_OF_ORDER_DROPPED).toBeTruthy();
    expect(d.rec.events.at(-1)).toMatchObject({ kind: 'discard', offset: 5, length: 1, reason: 'out-of-order-limit' });
    d.data(0, 1, 'B');
    expect(d.rec.text(1, 0)).toBe('ABCDE');
    d.data(0, 5, 'F');
    expect(d.rec.text(1, 0)).toBe('ABCDEF');
    expect(d.table.stats.outOfOrderDrops).toBe(1);
    expect(d.table.stats.outOfOrderLimitHits).toBe(1);
  });

  it("'drop' limit counts packets: one held in pieces around a packet held before it is one (fuzz finding fe7c26f16923b244)", () => {
    const d = new Driver(1000, 2000, { ...ASA_OUT_OF_ORDER, maxOutOfOrderPacketsPerDirection: 2 });
    d.handshake();
    d.data(0, 0, 'A');
    d.data(0, 6, 'x'); // held first
    const wide = d.data(0, 3, 'DEFxGH'); // held as [3,6) and [7,9) around it: still one packet
    expect(wide.status & FlowStatus.OUT_OF_ORDER_DROPPED).toBeFalsy();
    const conn = [...d.table.connections()][0]!;
    expect(conn.half[0].queueLength).toBe(3);
    expect(conn.half[0].queuedPackets).toBe(2);
    const third = d.data(0, 10, 'J'); // a third packet: over the limit of 2
    expect(third.status & FlowStatus.OUT_OF_ORDER_DROPPED).toBeTruthy();
    d.data(0, 1, 'BC');
    expect(d.rec.text(1, 0)).toBe('ABCDEFxGH');
  });

  it("ASA profile: held segments older than 4 s are discarded, the stream still waits for its hole", () => {
    const d = new Driver(1000, 2000, { ...ASA_OUT_OF_ORDER });
    d.handshake();
    d.data(0, 2, 'CC');
    d.time += 5;
    d.data(0, 6, 'x'); // any packet of the connection checks the held data's age
    expect(d.rec.events.filter((e) => e.kind === 'discard').map((e) => (e as { offset: number }).offset)).toEqual([2]);
    d.data(0, 0, 'AA');
    d.data(0, 2, 'CC');
    d.data(0, 4, 'DD');
    expect(d.rec.text(1, 0)).toBe('AACCDDx');
    expect(d.table.stats.outOfOrderTimeouts).toBe(1);
  });

  it("'gap' limit: the oldest hole is given up and what was held is delivered", () => {
    const d = new Driver(1000, 2000, { maxOutOfOrderPacketsPerDirection: 2 });
    d.handshake();
    d.data(0, 0, 'A');
    d.data(0, 2, 'C');
    d.data(0, 4, 'E');
    d.data(0, 6, 'G'); // third held: gives up hole [1,2), delivers C, holds E, G
    expect(d.rec.gaps(1, 0)).toEqual([[1, 1]]);
    expect(d.rec.text(1, 0)).toBe('A\0C');
    d.data(0, 3, 'D');
    expect(d.rec.text(1, 0)).toBe('A\0CDE');
    expect(d.table.stats.outOfOrderLimitHits).toBe(1);
  });

  it("'gap' limit by bytes: a held segment larger than the limit", () => {
    const d = new Driver(1000, 2000, { maxOutOfOrderBytesPerDirection: 4 });
    d.handshake();
    d.data(0, 3, 'LONGER');
    expect(d.rec.gaps(1, 0)).toEqual([[0, 3]]);
    expect(d.rec.text(1, 0)).toBe('\0\0\0LONGER');
  });

  it("'gap' timeout gives up the hole", () => {
    const d = new Driver(1000, 2000, { outOfOrderTimeoutSec: 2 });
    d.handshake();
    d.data(0, 2, 'CC');
    d.time += 3;
    d.ackTo(1, 0);
    expect(d.rec.text(1, 0)).toBe('\0\0CC');
  });
});

describe('global memory cap', () => {
  it('never stays above the cap after a packet; the oldest buffering connections give up first', () => {
    const cap = 64 * 1024;
    const ds: Driver[] = [];
    let maxSeen = 0;
    for (let i = 0; i < 40; i++) {
      const d = new Driver(1000, 2000, { memoryCapBytes: cap, retransmissionCheckBytes: 0 }, new SyntheticConnection('10.0.0.1', 40000 + i, '10.0.0.2', 25));
      ds.push(d);
    }
    // one shared table: drive all connections through the first driver's table
    const table = ds[0]!.table;
    for (let i = 0; i < 40; i++) {
      const c = ds[i]!.conn;
      const r = ds[0]!.result;
      table.process(c.segment(0, 1000, '', { flags: F.SYN }), i * 3 + 1, 100, 0, r);
      table.process(c.segment(0, 1000 + 1 + 10, Buffer.alloc(4000, 65 + (i % 26))), i * 3 + 2, 100, 0, r);
      maxSeen = Math.max(maxSeen, table.stats.memoryInUse);
      expect(table.stats.memoryInUse).toBeLessThanOrEqual(cap);
    }
    expect(table.stats.memoryCapHits).toBeGreaterThan(0);
    expect(maxSeen).toBeGreaterThan(cap / 2);
    // the first connection gave up its hole: gap [0,10) then its 4000 bytes
    expect(ds[0]!.rec.gaps(1, 0)).toEqual([[0, 10]]);
  });
});

describe('connection table', () => {
  it('maxConnections evicts the oldest half-open connection first', () => {
    const d = new Driver(1, 2, { maxConnections: 3 });
    const r = d.result;
    for (let i = 0; i < 4; i++) {
      d.table.process(new SyntheticConnection('10.0.0.1', 1000 + i, '10.0.0.2', 25).segment(0, 7, '', { flags: F.SYN }), i + 1, 10 + i, 0, r);
    }
    expect(d.table.size).toBe(3);
    expect(d.table.stats.connectionLimitHits).toBe(1);
    expect(d.table.stats.closed.evicted).toBe(1);
    expect(d.rec.events.find((e) => e.kind === 'close')).toEqual({ kind: 'close', id: 1, reason: 'evicted' });
  });

  it('half-open timeout (30 s) and idle timeout (3600 s) on capture time', () => {
    const d = new Driver(1, 2);
    d.raw(0, 1, '', { flags: F.SYN });
    d.time += 29;
    d.raw(0, 1, '', { flags: F.SYN }); // retransmitted SYN keeps it alive
    d.time += 31;
    const other = new SyntheticConnection('10.0.0.9', 1, '10.0.0.2', 25);
    d.table.process(other.segment(0, 5, 'x', { ack: 1 }), 99, Math.floor(d.time), 0, d.result);
    expect(d.rec.events.filter((e) => e.kind === 'close')).toEqual([{ kind: 'close', id: 1, reason: 'half-open-timeout' }]);
    d.table.process(other.segment(0, 6, 'y', { ack: 1 }), 100, Math.floor(d.time) + 3601, 0, d.result);
    expect(d.table.stats.closed['idle-timeout']).toBe(1);
    expect(d.table.stats.embryonic).toBe(0);
  });

  it('a closed tuple lingers 60 s, then the same tuple opens a new connection', () => {
    const d = new Driver(1, 2);
    d.handshake();
    d.raw(0, 2, '', { flags: F.RST });
    d.time += 10;
    expect(d.raw(0, 2, 'late', { ack: 3 }).connId).toBe(1);
    d.time += 61;
    expect(d.raw(0, 2, 'new', { ack: 3 }).connId).toBe(2);
  });
});
