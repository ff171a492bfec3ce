/**
 * InspectionPipeline.tick(): capture time passing with no packet (live capture's timer). A held
 * packet leaves when its connection times out, a half-open connection is torn down with the
 * ASA's SYN Timeout line, an out-of-order segment that waited past the ASA's 4 s is dropped with
 * a verdict; a tick at or before the last packet's time does nothing. Every packet stays
 * accounted for (in = forwarded + dropped).
 */
import { describe, expect, it } from 'vitest';
import { CaptureRecord, type WritablePacket } from '../../src/capture/types.js';
import { parseEngineOptions } from '../../src/inspect/options.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { InspectionPipeline } from '../../src/pipeline/inspection-pipeline.js';
import type { InterfaceAwareWriter } from '../../src/pipeline/types.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';
import { buildFrame, V4_CLIENT, V4_SERVER } from '../rewrite/build-packet.js';

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x18;
const T0 = 1_700_000_000;

class MemoryWriter implements InterfaceAwareWriter {
  readonly packets: { n: number; payload: string }[] = [];
  get count(): number {
    return this.packets.length;
  }
  write(p: WritablePacket): void {
    // Ethernet + 20-byte IPv4 + 20-byte TCP (buildFrame adds no options).
    this.packets.push({ n: this.packets.length, payload: p.data.subarray(54).toString('latin1') });
  }
  async close(): Promise<void> {}
}

function harness(extra: { judging?: string } = {}) {
  const out = new MemoryWriter();
  const verdicts: VerdictRecord[] = [];
  const syslog: string[] = [];
  const p = new InspectionPipeline({
    policy: defaultPolicy(),
    engineOptions: parseEngineOptions(extra.judging ? [`judging=${extra.judging}`] : []),
    outputs: { packets: out, annotate: null, verdicts: (r) => verdicts.push(r), syslog: (l) => syslog.push(l) },
  });
  let n = 0;
  const feed = (frame: Buffer, tsSec: number) => {
    const r = new CaptureRecord();
    r.packetNumber = ++n;
    r.linkType = 1;
    r.tsSec = tsSec;
    r.tsRawHigh = tsSec;
    r.data = frame;
    r.captureLength = frame.length;
    r.originalLength = frame.length;
    p.process(r);
  };
  return { p, out, verdicts, syslog, feed };
}

function conversation() {
  let cs = 1000;
  let ss = 5000;
  const c = (flags: number, text = '', seq?: number) => {
    const f = buildFrame({ ipVersion: 4, src: V4_CLIENT, dst: V4_SERVER, srcPort: 40000, dstPort: 25, seq: seq ?? cs, ack: ss, flags, payload: Buffer.from(text) });
    if (seq === undefined) cs += text.length + (flags & SYN ? 1 : 0);
    return f;
  };
  const s = (flags: number, text = '') => {
    const f = buildFrame({ ipVersion: 4, src: V4_SERVER, dst: V4_CLIENT, srcPort: 25, dstPort: 40000, seq: ss, ack: cs, flags, payload: Buffer.from(text) });
    ss += text.length + (flags & SYN ? 1 : 0);
    return f;
  };
  return { c, s, clientSeq: () => cs };
}

function handshake(h: ReturnType<typeof harness>, k: ReturnType<typeof conversation>): void {
  h.feed(k.c(SYN), T0);
  h.feed(k.s(SYN | ACK), T0);
  h.feed(k.c(ACK), T0);
  h.feed(k.s(PSH, '220 mx.example.test ESMTP\r\n'), T0);
  h.feed(k.c(PSH, 'HELO a.example\r\n'), T0);
  h.feed(k.s(PSH, '250 mx.example.test\r\n'), T0);
}

describe('InspectionPipeline.tick', () => {
  it('an idle connection times out on a tick: its held packet is written and the teardown logged', () => {
    const h = harness({ judging: 'line' });
    const k = conversation();
    handshake(h, k);
    h.feed(k.c(PSH, 'XEXC'), T0 + 1); // half a line: waits for its end
    expect(h.p.heldPackets).toBe(1);
    expect(h.out.count).toBe(6);
    h.p.tick(T0 + 10, 0); // long before the 3600 s idle timeout: nothing happens
    expect(h.p.heldPackets).toBe(1);
    h.p.tick(T0 + 1 + 3601, 0);
    expect(h.p.heldPackets).toBe(0);
    expect(h.out.count).toBe(7);
    expect(h.out.packets[6]!.payload).toBe('XXXX'); // decided when the session ended, not forwarded undecided
    expect(h.verdicts.filter((v) => v.action === 'forward')).toEqual([]);
    expect(h.syslog.some((l) => l.includes('302014') && l.includes('Conn-timeout'))).toBe(true);
    const s = h.p.finish();
    expect(s.packets.in).toBe(7);
    expect(s.packets.in).toBe(s.packets.forwarded + s.packets.dropped);
  });

  it('a half-open connection is torn down with SYN Timeout after 30 s of capture time', () => {
    const h = harness();
    const k = conversation();
    h.feed(k.c(SYN), T0);
    h.p.tick(T0 + 29, 0);
    expect(h.syslog.filter((l) => l.includes('302014'))).toEqual([]);
    h.p.tick(T0 + 31, 0);
    const down = h.syslog.filter((l) => l.includes('302014'));
    expect(down.length).toBe(1);
    expect(down[0]).toContain('SYN Timeout');
    expect(h.p.finish().packets.forwarded).toBe(1);
  });

  it('ASA profile: an out-of-order segment still waiting after 4 s is dropped on a tick, with a drop verdict', () => {
    const h = harness();
    const k = conversation();
    handshake(h, k);
    const hole = k.clientSeq();
    // The segment after a 5-byte hole arrives; the hole never does.
    h.feed(k.c(PSH, 'NOOP\r\n', hole + 5), T0 + 1);
    expect(h.p.heldPackets).toBe(1);
    h.p.tick(T0 + 3, 0);
    expect(h.verdicts.filter((v) => v.action === 'drop')).toEqual([]);
    h.p.tick(T0 + 6, 0);
    const drops = h.verdicts.filter((v) => v.action === 'drop');
    expect(drops.map((d) => [d.packet, d.rule])).toEqual([[7, 'tcp out-of-order queue']]);
    expect(h.p.heldPackets).toBe(0);
    const s = h.p.finish();
    expect(s.packets.in).toBe(s.packets.forwarded + s.packets.dropped);
    expect(s.packets.dropped).toBe(1);
  });

  it('a tick at or before the last packet time changes nothing', () => {
    const h = harness({ judging: 'line' });
    const k = conversation();
    handshake(h, k);
    h.feed(k.c(PSH, 'XEXC'), T0 + 100);
    h.p.tick(T0 + 50, 0);
    h.p.tick(T0 + 100, 0);
    expect(h.p.heldPackets).toBe(1);
    expect(h.syslog.filter((l) => l.includes('302014'))).toEqual([]);
  });
});
