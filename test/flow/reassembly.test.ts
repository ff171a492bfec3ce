/**
 * Reassembly semantics on synthetic segments: Suricata-style overlap scripts (first copy wins),
 * gopacket-style reorder / retransmission / FSM cases, each at ISN 0, 1, 2^32-1 and 2^32-11.
 */
import { describe, expect, it } from 'vitest';
import { FlowStatus } from '../../src/flow/types.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import { Driver, ISNS } from './driver.js';

/** One step: data at relative offset `rel`; after it, the delivered c2s stream must be `expect`. */
type Step = [rel: number, data: string, expect: string];

interface Script {
  name: string;
  steps: Step[];
  /** Bytes counted as overlap-different-data at the end. */
  different: number;
}

// Our policy is "first copy wins" (Suricata's "first"/inline; what tshark follow does): a byte
// seen once, held or delivered, is never replaced.
const SCRIPTS: Script[] = [
  { name: 'in order, no overlap', steps: [[0, 'AAA', 'AAA'], [3, 'BB', 'AAABB']], different: 0 },
  // held BB wins over the A of the filler at offset 2
  { name: 'filler overlaps held data (starts before)', steps: [[2, 'BB', ''], [0, 'AAA', 'AABB']], different: 1 },
  { name: 'before: new segment overlaps delivered and held', steps: [[3, 'BBB', ''], [0, 'AA', 'AA'], [1, 'CCC', 'AACBBB']], different: 2 },
  { name: 'same: exact retransmission with other bytes', steps: [[0, 'AAA', 'AAA'], [0, 'BBB', 'AAA']], different: 3 },
  { name: 'same: exact retransmission, same bytes', steps: [[0, 'AAA', 'AAA'], [0, 'AAA', 'AAA']], different: 0 },
  { name: 'after: partial retransmission extends the stream', steps: [[0, 'AAAA', 'AAAA'], [2, 'BBBB', 'AAAABB']], different: 2 },
  { name: 'hole filled by several segments', steps: [[5, 'EE', ''], [2, 'CC', ''], [0, 'AA', 'AACC'], [4, 'D', 'AACCDEE']], different: 0 },
  { name: 'one segment spans several held pieces', steps: [[2, 'B', ''], [4, 'D', ''], [0, 'XXXXXXXX', 'XXBXDXXX']], different: 2 },
  { name: 'held data overlapped by later held data', steps: [[4, 'CCCC', ''], [2, 'BBBB', ''], [0, 'AA', 'AABBCCCC']], different: 2 },
  { name: 'held data fully covered by a later copy', steps: [[3, 'B', ''], [2, 'XXX', ''], [0, 'AA', 'AAXBX']], different: 1 },
  { name: 'prefix retransmission with a new tail', steps: [[0, 'AB', 'AB'], [0, 'ABCD', 'ABCD']], different: 0 },
];

describe.each(ISNS.map((isn) => [isn]))('overlap scripts at ISN %d', (isn) => {
  for (const script of SCRIPTS) {
    it(script.name, () => {
      const d = new Driver(isn, (isn + 0x12345678) >>> 0);
      d.handshake();
      for (const [rel, data, expected] of script.steps) {
        d.data(0, rel, data);
        expect(d.rec.text(1, 0)).toBe(expected);
      }
      const conn = [...d.table.connections()][0]!;
      expect(conn.stats[0].overlapDifferentBytes).toBe(script.different);
      expect(conn.stats[0].bytes).toBe(script.steps.at(-1)![2].length);
      expect(d.rec.gaps(1, 0)).toEqual([]);
    });
  }

  it('reports where a retransmission disagrees, as stream offsets', () => {
    const d = new Driver(isn, 77);
    d.handshake();
    d.data(0, 0, 'HELO example.org\r\n');
    const r = d.data(0, 0, 'HELO exXmpYe.org\r\n');
    expect(r.status & FlowStatus.RETRANSMISSION).toBeTruthy();
    expect(r.status & FlowStatus.OVERLAP_DIFFERENT).toBeTruthy();
    expect(r.offset).toBe(0);
    expect([r.overlapOffset, r.overlapLength]).toEqual([7, 4]);
    expect(d.rec.text(1, 0)).toBe('HELO example.org\r\n');
  });

  it('segment boundaries reach the listener: filler first, then each held segment', () => {
    const d = new Driver(isn, 5);
    d.handshake();
    d.data(0, 6, 'CCC'); // packet 4
    d.data(0, 3, 'BBB'); // packet 5
    const r = d.data(0, 0, 'AAA'); // packet 6
    expect(r.delivered).toBe(3);
    expect(d.rec.dataEvents(1, 0).map((e) => [e.offset, e.text, e.packet])).toEqual([
      [0, 'AAA', 6],
      [3, 'BBB', 5],
      [6, 'CCC', 4],
    ]);
  });

  it('a stream crossing 2^32 keeps its offsets', () => {
    const d = new Driver(isn, 0xfffffff0);
    d.handshake();
    const chunk = 'x'.repeat(1000);
    let off = 0;
    for (let i = 0; i < 20; i++, off += 1000) {
      const r = d.data(1, off, chunk);
      expect(r.offset).toBe(off);
      d.ackTo(0, off + 1000);
    }
    expect(d.rec.stream(1, 1).length).toBe(20000);
  });
});

describe('gopacket-style cases', () => {
  for (const isn of ISNS) {
    it(`reorder + retransmission (ISN ${isn})`, () => {
      const d = new Driver(isn, 1000);
      d.handshake();
      d.data(0, 10, '0123456789');
      d.data(0, 0, 'abcdefghij');
      d.data(0, 0, 'abcdefghij'); // retransmission of delivered data
      d.data(0, 10, '0123456789'); // and of held-then-delivered data
      d.data(0, 20, 'KLM');
      expect(d.rec.text(1, 0)).toBe('abcdefghij0123456789KLM');
      const s = [...d.table.connections()][0]!.stats[0];
      expect(s.retransmittedBytes).toBe(20);
      expect(s.outOfOrderPackets).toBe(1);
    });

    it(`early RST while half-open (ISN ${isn})`, () => {
      const d = new Driver(isn, 1000);
      d.raw(0, isn, '', { flags: F.SYN });
      expect(d.table.stats.embryonic).toBe(1);
      const r = d.raw(1, 0, '', { flags: F.RST | F.ACK, ack: isn + 1 });
      expect(r.status & FlowStatus.CLOSED).toBeTruthy();
      expect(d.rec.events.map((e) => e.kind)).toEqual(['open', 'close']);
      expect(d.table.stats.embryonic).toBe(0);
      expect(d.table.stats.closed.rst).toBe(1);
    });

    it(`missing SYN-ACK (ISN ${isn})`, () => {
      const d = new Driver(isn, 5000);
      d.raw(0, isn, '', { flags: F.SYN });
      d.raw(0, isn + 1, '', { ack: 5001 });
      d.data(1, 0, '220 hi\r\n');
      d.data(0, 0, 'QUIT\r\n');
      expect(d.rec.events.map((e) => e.kind)).toEqual(['open', 'established', 'data', 'data']);
      expect(d.rec.text(1, 1)).toBe('220 hi\r\n');
      expect(d.rec.text(1, 0)).toBe('QUIT\r\n');
    });
  }

  it('established then RST flushes held data as gap + data', () => {
    const d = new Driver(100, 200);
    d.handshake();
    d.data(0, 0, 'AA');
    d.data(0, 5, 'DD');
    d.raw(0, 100 + 1 + 7, '', { flags: F.RST });
    expect(d.rec.gaps(1, 0)).toEqual([[2, 3]]);
    expect(d.rec.text(1, 0)).toBe('AA\0\0\0DD');
    expect(d.rec.events.at(-1)).toEqual({ kind: 'close', id: 1, reason: 'rst' });
  });
});

describe('connection tracking', () => {
  it('handshake, data both ways, FIN close; established when the handshake completes', () => {
    const d = new Driver(1000, 2000);
    d.raw(0, 1000, '', { flags: F.SYN });
    d.raw(1, 2000, '', { flags: F.SYN | F.ACK, ack: 1001 });
    expect(d.rec.events.map((e) => e.kind)).toEqual(['open']);
    d.raw(0, 1001, '', { ack: 2001 });
    expect(d.rec.events.map((e) => e.kind)).toEqual(['open', 'established']);
    d.data(1, 0, '220 ok\r\n');
    d.data(0, 0, 'QUIT\r\n');
    d.data(1, 8, '221 bye\r\n', { flags: F.ACK | F.FIN });
    const last = d.data(0, 6, '', { flags: F.ACK | F.FIN, ack: 2001 + 17 + 1 });
    expect(last.status & FlowStatus.CLOSED).toBeTruthy();
    expect(d.rec.events.at(-1)).toEqual({ kind: 'close', id: 1, reason: 'fin' });
    // the last ACK lands on the closed connection, not a new one
    const ack = d.raw(1, 2001 + 18, '', { ack: 1001 + 7 });
    expect(ack.connId).toBe(1);
    expect(d.table.stats.opened).toBe(1);
    const conn = [...d.table.connections()][0]!;
    expect(conn.clientBy).toBe('syn');
    expect(conn.client).toBe('10.0.0.1:40000');
    expect(conn.server).toBe('10.0.0.2:25');
  });

  it('SYN retransmission keeps the connection; a new ISN after close starts a new one', () => {
    const d = new Driver(1000, 2000);
    d.raw(0, 1000, '', { flags: F.SYN });
    const again = d.raw(0, 1000, '', { flags: F.SYN });
    expect(again.status & FlowStatus.RETRANSMISSION).toBeTruthy();
    expect(d.table.stats.opened).toBe(1);
    d.raw(1, 2000, '', { flags: F.RST | F.ACK, ack: 1001 });
    const fresh = d.raw(0, 5000, '', { flags: F.SYN });
    expect(fresh.connId).toBe(2);
    expect(fresh.status & FlowStatus.NEW_CONNECTION).toBeTruthy();
  });

  it('a new SYN on an open connection closes it as new-syn', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    d.data(0, 0, 'EHLO x\r\n');
    const r = d.raw(0, 9999, '', { flags: F.SYN });
    expect(r.connId).toBe(2);
    expect(d.rec.events.filter((e) => e.kind === 'close')).toEqual([{ kind: 'close', id: 1, reason: 'new-syn' }]);
  });

  it('delivers data carried on the SYN (TCP Fast Open)', () => {
    const d = new Driver(0xfffffffe, 10);
    const r = d.raw(0, 0xfffffffe, 'EHLO tfo\r\n', { flags: F.SYN });
    expect(r.offset).toBe(0);
    expect(d.rec.text(1, 0)).toBe('EHLO tfo\r\n');
    d.raw(1, 10, '', { flags: F.SYN | F.ACK, ack: 0xfffffffe + 11 });
    d.data(0, 10, 'QUIT\r\n');
    expect(d.rec.text(1, 0)).toBe('EHLO tfo\r\nQUIT\r\n');
  });

  it('keep-alives and zero-window probes deliver nothing', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    d.data(0, 0, 'ABC');
    const ka = d.data(0, 2, 'Z');
    expect(ka.status & FlowStatus.KEEPALIVE).toBeTruthy();
    const ka0 = d.data(0, 2, '');
    expect(ka0.status & FlowStatus.OVERLAP_DIFFERENT).toBeFalsy();
    d.raw(1, 2001, '', { ack: 1004, window: 0 });
    const zwp = d.data(0, 3, 'D');
    expect(zwp.status & FlowStatus.ZERO_WINDOW_PROBE).toBeTruthy();
    d.raw(1, 2001, '', { ack: 1004, window: 1000 });
    d.data(0, 3, 'DEF');
    expect(d.rec.text(1, 0)).toBe('ABCDEF');
    expect([...d.table.connections()][0]!.stats[0].overlapDifferentBytes).toBe(0);
  });

  it('ACKs (bare and with data) that overtook the segment they acknowledge: it is still delivered', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    d.data(0, 0, 'AAAA');
    d.ackTo(1, 8);
    d.raw(1, 2001, 'OK', { ack: 1009 }); // the peer's data acknowledging it too
    expect(d.rec.gaps(1, 0)).toEqual([]);
    d.data(0, 4, 'BBBB');
    expect(d.rec.text(1, 0)).toBe('AAAABBBB');
    expect(d.rec.text(1, 1)).toBe('OK');
  });

  it('an acknowledged hole without later bytes of its side becomes a gap after more than 8 acknowledging packets', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    d.data(0, 0, 'AAAA');
    for (let i = 0; i < 8; i++) d.ackTo(1, 8);
    expect(d.rec.gaps(1, 0)).toEqual([]);
    d.raw(1, 2001, 'OK', { ack: 1009 });
    expect(d.rec.gaps(1, 0)).toEqual([[4, 4]]);
    // the gap comes before the acknowledging packet's data
    expect(d.rec.events.filter((e) => e.kind === 'gap' || e.kind === 'data').map((e) => e.kind + e.dir).slice(-2)).toEqual(['gap0', 'data1']);
  });

  it('a later packet of its side does not settle an acknowledged hole: the late segment still fills it (same-direction reorder)', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    d.data(0, 0, 'AAAA');
    d.raw(1, 2001, 'OK', { ack: 1009 }); // acknowledges 4..8, not seen yet: may still come
    const held = d.data(0, 8, 'CCCC'); // recorded before 4..8 (multi-queue NIC, merged capture)
    expect(held.status & FlowStatus.OUT_OF_ORDER).toBeTruthy();
    expect(d.rec.gaps(1, 0)).toEqual([]);
    expect(d.rec.text(1, 0)).toBe('AAAA');
    const late = d.data(0, 4, 'BBBB');
    expect(late.status & FlowStatus.RETRANSMISSION).toBeFalsy();
    expect(d.rec.gaps(1, 0)).toEqual([]);
    expect(d.rec.text(1, 0)).toBe('AAAABBBBCCCC');
  });

  it('a hole becomes a gap once the peer ACKs past it in more than 8 packets while later bytes of its side are held; delivery continues', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    d.data(0, 0, 'AAAA');
    d.data(0, 8, 'CCCC'); // 4..8 lost
    expect(d.rec.text(1, 0)).toBe('AAAA');
    for (let i = 0; i < 8; i++) d.ackTo(1, 12);
    expect(d.rec.gaps(1, 0)).toEqual([]); // still only late, perhaps
    d.ackTo(1, 12);
    expect(d.rec.gaps(1, 0)).toEqual([[4, 4]]);
    expect(d.rec.text(1, 0)).toBe('AAAA\0\0\0\0CCCC');
    d.data(0, 12, 'DD');
    const late = d.data(0, 4, 'BBBB'); // the lost segment after all: too late
    expect(late.status & FlowStatus.RETRANSMISSION).toBeTruthy();
    expect(d.rec.text(1, 0)).toBe('AAAA\0\0\0\0CCCCDD');
  });

  it('holes left at the end of the capture become gaps', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    d.data(0, 5, 'XY');
    d.table.finish(d.time + 1, 0);
    expect(d.rec.gaps(1, 0)).toEqual([[0, 5]]);
    expect(d.rec.events.at(-1)).toEqual({ kind: 'close', id: 1, reason: 'end-of-capture' });
  });

  it('snaplen-cut payload: the missing bytes are a gap (TRUNCATED)', () => {
    const d = new Driver(1000, 2000);
    d.handshake();
    const r = d.data(0, 0, 'MAIL', { missing: 6 });
    expect(r.status & FlowStatus.TRUNCATED).toBeTruthy();
    d.data(0, 10, 'RCPT');
    expect(d.rec.gaps(1, 0)).toEqual([[4, 6]]);
    expect(d.rec.text(1, 0)).toBe('MAIL\0\0\0\0\0\0RCPT');
  });

  it('midstream pickup: client from the server port, stream from the first sequence seen', () => {
    const d = new Driver(5000, 7000);
    const r = d.raw(1, 7000, '250 ok\r\n', { ack: 5000 });
    expect(r.offset).toBe(0);
    d.raw(0, 5000, 'DATA\r\n', { ack: 7008 });
    const conn = [...d.table.connections()][0]!;
    expect(conn.clientBy).toBe('port');
    expect(conn.client).toBe('10.0.0.1:40000');
    expect(conn.established).toBe(true);
    expect(d.rec.text(1, 1)).toBe('250 ok\r\n');
    expect(d.rec.text(1, 0)).toBe('DATA\r\n');
  });

  it('ports not selected are untracked; serverPorts null tracks them', () => {
    const other = new Driver(1, 2, {}, new SyntheticConnection('10.0.0.1', 40000, '10.0.0.2', 80));
    const r = other.raw(0, 1, '', { flags: F.SYN });
    expect(r.status).toBe(FlowStatus.UNTRACKED);
    expect(other.table.size).toBe(0);
    const all = new Driver(1, 2, { serverPorts: null }, other.conn);
    const r2 = all.raw(0, 1, '', { flags: F.SYN });
    expect(r2.status & FlowStatus.NEW_CONNECTION).toBeTruthy();
  });

  it('IPv6 endpoints print as [addr]:port', () => {
    const d = new Driver(1, 2, {}, new SyntheticConnection('2001:db8::1', 40000, '2001:db8::25', 587));
    d.handshake();
    const conn = [...d.table.connections()][0]!;
    expect(conn.client).toBe('[2001:db8::1]:40000');
    expect(conn.server).toBe('[2001:db8::25]:587');
    expect(conn.ipVersion).toBe(6);
  });
});

describe('retainedBytes: the copy that won, for the rewriter', () => {
  it('from delivered history and from held segments', () => {
    const d = new Driver(10, 20);
    d.handshake();
    d.data(0, 0, 'HELO a\r\n');
    d.data(0, 12, 'WXYZ');
    const conn = [...d.table.connections()][0]!;
    expect(d.table.retainedBytes(conn, 0, 2, 3)?.toString()).toBe('LO ');
    expect(d.table.retainedBytes(conn, 0, 13, 2)?.toString()).toBe('XY');
    expect(d.table.retainedBytes(conn, 0, 6, 4)).toBeNull(); // spans a hole
    d.ackTo(1, 8); // the peer ACKs: history released
    expect(d.table.retainedBytes(conn, 0, 2, 3)).toBeNull();
  });
});
