/**
 * Bytes a peer acknowledged that were not seen, on a capture that has both sides: the order the
 * listener hears the two directions in, and how many bytes a resulting gap counts.
 *
 * - A data packet acknowledging unseen peer bytes waits for them: they arrive (an ACK overtook
 *   its data: delivered in causal order, no gap) or become a gap first (lost), then its bytes go.
 * - A FIN occupies a sequence number but is not a byte: the last acknowledged sequence number is
 *   an unseen FIN only when it is exactly one beyond data known to end there and the connection
 *   then ends; otherwise every acknowledged sequence number not seen counts as a lost byte.
 */
import { describe, expect, it } from 'vitest';
import { FlowTable, PacketFlowResult, ASA_OUT_OF_ORDER, type FlowOptions } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import type { DecodedPacket } from '../../src/decode/packet.js';
import { Recorder } from './recorder.js';

const C0 = 1000;
const S0 = 5000;
const BANNER = '220 mx ESMTP\r\n'; // 14
const QUIT = 'QUIT\r\n'; // 6
const BYE = '221 bye\r\n'; // 9

function session(options: Partial<FlowOptions> = {}) {
  const rec = new Recorder();
  const table = new FlowTable(rec, options);
  const c = new SyntheticConnection('192.0.2.1', 40000, '192.0.2.25', 25);
  const r = new PacketFlowResult();
  let n = 0;
  let t = 0;
  const feed = (p: DecodedPacket) => table.process(p, ++n, 1, (t += 1000), r);
  feed(c.segment(0, C0, '', { flags: F.SYN }));
  feed(c.segment(1, S0, '', { flags: F.SYN | F.ACK, ack: C0 + 1 }));
  feed(c.segment(0, C0 + 1, '', { ack: S0 + 1 }));
  return { rec, table, c, r, feed, status: () => r.status };
}

/** The order of data/gap events as `<kind><dir>:<text or length>`. */
function order(rec: Recorder): string[] {
  return rec.events.flatMap((e) => (e.kind === 'data' ? [`data${e.dir}:${e.text}`] : e.kind === 'gap' ? [`gap${e.dir}:${e.length}`] : []));
}

describe('a data packet acknowledging peer bytes not seen waits for them', () => {
  for (const [name, opts] of [
    ['default', {}],
    ['asa', ASA_OUT_OF_ORDER],
  ] as const) {
    it(`lost reply: the gap comes before the bytes that acknowledged it, then the peer's next reply (${name})`, () => {
      const s = session(opts);
      s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
      s.feed(s.c.segment(0, C0 + 1, 'DATA\r\n', { ack: S0 + 15 }));
      // the 354 (37 bytes) is lost; the body acknowledges it
      s.feed(s.c.segment(0, C0 + 7, 'Subject: x\r\n\r\nbody\r\n.\r\n', { ack: S0 + 52 }));
      expect(order(s.rec)).toEqual([`data1:${BANNER}`, 'data0:DATA\r\n']); // held
      // The server's next packet is ordinary out-of-order data: the 354 may still be recorded late.
      s.feed(s.c.segment(1, S0 + 52, '250 ok\r\n', { ack: C0 + 30 }));
      expect(order(s.rec)).toEqual([`data1:${BANNER}`, 'data0:DATA\r\n']);
      // The client keeps acknowledging the 354: the body was the first acknowledging packet; the
      // ACK window (3 under the ASA profile, 8 otherwise) makes it a gap at the next one after it.
      const window = name === 'asa' ? 3 : 8;
      for (let i = 1; i < window; i++) s.feed(s.c.segment(0, C0 + 30, '', { ack: S0 + 60 }));
      expect(order(s.rec)).toEqual([`data1:${BANNER}`, 'data0:DATA\r\n']);
      s.feed(s.c.segment(0, C0 + 30, 'QUIT\r\n', { ack: S0 + 60 }));
      expect(order(s.rec)).toEqual([
        `data1:${BANNER}`,
        'data0:DATA\r\n',
        'gap1:37',
        'data0:Subject: x\r\n\r\nbody\r\n.\r\n',
        'data1:250 ok\r\n',
        'data0:QUIT\r\n',
      ]);
      s.table.finish(9, 0);
    });

    it(`the same lost reply: close gives it up, still before the body (${name})`, () => {
      const s = session(opts);
      s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
      s.feed(s.c.segment(0, C0 + 1, 'DATA\r\n', { ack: S0 + 15 }));
      s.feed(s.c.segment(0, C0 + 7, 'Subject: x\r\n\r\nbody\r\n.\r\n', { ack: S0 + 52 }));
      s.feed(s.c.segment(1, S0 + 52, '250 ok\r\n', { ack: C0 + 30 }));
      s.table.finish(9, 0);
      expect(order(s.rec)).toEqual([`data1:${BANNER}`, 'data0:DATA\r\n', 'gap1:37', 'data0:Subject: x\r\n\r\nbody\r\n.\r\n', 'data1:250 ok\r\n']);
    });

    it(`late reply (an ACK overtook its data): no gap, the reply before the bytes that acknowledged it (${name})`, () => {
      const s = session(opts);
      s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
      s.feed(s.c.segment(0, C0 + 1, 'EHLO a\r\n', { ack: S0 + 15 }));
      const reply = '250-mx\r\n250 STARTTLS\r\n'; // 22
      s.feed(s.c.segment(0, C0 + 9, 'STARTTLS\r\n', { ack: S0 + 15 + 22 })); // recorded before the reply
      s.feed(s.c.segment(1, S0 + 15, reply, { ack: C0 + 9 }));
      expect(order(s.rec)).toEqual([`data1:${BANNER}`, 'data0:EHLO a\r\n', `data1:${reply}`, 'data0:STARTTLS\r\n']);
      expect(s.rec.gaps(1, 0)).toEqual([]);
      expect(s.rec.gaps(1, 1)).toEqual([]);
      s.table.finish(9, 0);
    });
  }

  it('the wait ends after the ACK window: the peer kept acknowledging bytes that never came', () => {
    const s = session();
    s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
    let seq = C0 + 1;
    for (let i = 0; i < 12; i++) {
      s.feed(s.c.segment(0, seq, `line ${i}\r\n`, { ack: S0 + 15 + 30 }));
      seq += `line ${i}\r\n`.length;
    }
    const o = order(s.rec);
    // 8 peer ACKs are an overtaking ACK at most; the 9th makes the 30 bytes a gap, then all flows.
    expect(o.slice(0, 2)).toEqual([`data1:${BANNER}`, 'gap1:30']);
    expect(o.slice(2).every((e) => e.startsWith('data0:'))).toBe(true);
    expect(o.length).toBe(2 + 12);
    s.table.finish(9, 0);
  });

  it('held bytes are not out-of-order packets (the ASA queue limit of 3 is not spent on them)', () => {
    const s = session(ASA_OUT_OF_ORDER);
    s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
    s.feed(s.c.segment(0, C0 + 1, 'a\r\n', { ack: S0 + 25 }));
    s.feed(s.c.segment(0, C0 + 4, 'b\r\n', { ack: S0 + 25 }));
    s.feed(s.c.segment(0, C0 + 7, 'c\r\n', { ack: S0 + 25 }));
    expect(s.table.stats.outOfOrderLimitHits).toBe(0);
    expect(s.table.stats.outOfOrderDrops).toBe(0);
    s.feed(s.c.segment(1, S0 + 15, '250 ok\r\n\r\n', { ack: C0 + 10 })); // the 10 acknowledged bytes, late
    expect(order(s.rec)).toEqual([`data1:${BANNER}`, 'data1:250 ok\r\n\r\n', 'data0:a\r\n', 'data0:b\r\n', 'data0:c\r\n']);
    expect(s.rec.gaps(1, 1)).toEqual([]);
    s.table.finish(9, 0);
  });

  it('at close, what waits is delivered after the gap', () => {
    const s = session();
    s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
    s.feed(s.c.segment(0, C0 + 1, QUIT, { ack: S0 + 15 + 9 }));
    expect(order(s.rec)).toEqual([`data1:${BANNER}`]);
    s.table.finish(9, 0);
    expect(order(s.rec)).toEqual([`data1:${BANNER}`, 'gap1:9', `data0:${QUIT}`]);
  });
});

describe('gap sizes: a FIN is a sequence number, not a byte', () => {
  /** Banner seen, QUIT sent, then the server's 221 (and maybe its FIN) lost; `acks` are the client's ACK values past the banner. */
  function lostBye(acks: number[], end: 'rst' | 'capture'): [number, number][] {
    const s = session();
    s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
    s.feed(s.c.segment(0, C0 + 1, QUIT, { ack: S0 + 15 }));
    for (const a of acks) s.feed(s.c.segment(0, C0 + 7, '', { ack: S0 + 15 + a }));
    if (end === 'rst') s.feed(s.c.segment(0, C0 + 7, '', { ack: S0 + 15 + acks[acks.length - 1]!, flags: F.RST | F.ACK }));
    s.table.finish(9, 0);
    return s.rec.gaps(1, 1);
  }

  it('9 lost bytes acknowledged, then RST or the end of the capture: a 9-byte gap', () => {
    expect(lostBye([9], 'rst')).toEqual([[14, 9]]);
    expect(lostBye([9], 'capture')).toEqual([[14, 9]]);
  });

  it('only the FIN lost (acknowledged one beyond the data seen): no gap', () => {
    const s = session();
    s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
    s.feed(s.c.segment(0, C0 + 1, QUIT, { ack: S0 + 15 }));
    s.feed(s.c.segment(1, S0 + 15, BYE, { ack: C0 + 7 }));
    for (let i = 0; i < 10; i++) s.feed(s.c.segment(0, C0 + 7, '', { ack: S0 + 25 }));
    s.table.finish(9, 0);
    expect(s.rec.gaps(1, 1)).toEqual([]);
  });

  it('bytes then FIN acknowledged in two steps: the bytes are the gap, the last number the FIN (window or close)', () => {
    expect(lostBye([9, 10], 'capture')).toEqual([[14, 9]]);
    expect(lostBye([9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10], 'capture')).toEqual([[14, 9]]);
    expect(lostBye([9, 10], 'rst')).toEqual([[14, 9]]);
  });

  it('bytes and FIN acknowledged in one step cannot be told from one more byte: every number counts', () => {
    expect(lostBye([10, 10], 'capture')).toEqual([[14, 10]]);
    expect(lostBye(Array<number>(10).fill(10), 'capture')).toEqual([[14, 10]]);
  });

  it('a possible FIN followed by more data of that side was a byte', () => {
    const s = session();
    s.feed(s.c.segment(1, S0 + 1, BANNER, { ack: C0 + 1 }));
    s.feed(s.c.segment(0, C0 + 1, QUIT, { ack: S0 + 15 }));
    s.feed(s.c.segment(0, C0 + 7, '', { ack: S0 + 16 }));
    s.feed(s.c.segment(1, S0 + 16, BYE, { ack: C0 + 7 }));
    s.table.finish(9, 0);
    expect(s.rec.gaps(1, 1)).toEqual([[14, 1]]);
  });
});
