import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildRst, captureTemplate, reverseTemplate } from '../../src/rewrite/rst.js';
import { timestampAfter } from '../../src/rewrite/timestamp.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { tcpChecksumOk, ipv4HeaderChecksumOk } from '../../src/decode/checksum.js';
import { haveTool, tshark } from '../helpers/shared.js';
import { buildFrame, pcapFile, V4_CLIENT, V4_SERVER, V6_CLIENT, V6_SERVER } from './build-packet.js';

function clientFrame(v: 4 | 6): Buffer {
  return buildFrame({
    ipVersion: v,
    src: v === 4 ? V4_CLIENT : V6_CLIENT,
    dst: v === 4 ? V4_SERVER : V6_SERVER,
    srcPort: 40000,
    dstPort: 25,
    seq: 0xfffffff0,
    ack: 777,
    flags: 0x18,
    payload: Buffer.from('RCPT TO:<a@b>\r\n'),
  });
}

describe('buildRst', () => {
  for (const v of [4, 6] as const) {
    it(`IPv${v}: RST towards the server and, reversed, towards the client, with valid checksums`, () => {
      const pkt = decodePacket(1, clientFrame(v), new DecodedPacket());
      const t = captureTemplate(pkt, 1);
      const toServer = buildRst(t, { srcPort: 40000, dstPort: 25, seq: pkt.seq, ack: pkt.ack });
      const toClient = buildRst(reverseTemplate(t), { srcPort: 25, dstPort: 40000, seq: pkt.ack, ack: pkt.seq });
      const a = decodePacket(1, toServer, new DecodedPacket());
      expect(a.kind).toBe(PacketKind.TCP);
      expect([a.srcPort, a.dstPort, a.seq, a.ack, a.flags, a.payloadLength]).toEqual([40000, 25, 0xfffffff0, 777, 0x14, 0]);
      expect(tcpChecksumOk(a)).toBe(true);
      if (v === 4) expect(ipv4HeaderChecksumOk(a)).toBe(true);
      const b = decodePacket(1, toClient, new DecodedPacket());
      expect([b.srcPort, b.dstPort, b.seq, b.ack]).toEqual([25, 40000, 777, 0xfffffff0]);
      expect(tcpChecksumOk(b)).toBe(true);
      // Addresses and MACs swapped.
      expect(Buffer.compare(b.data.subarray(b.srcAddrOffset, b.srcAddrOffset + b.addrLength), a.data.subarray(a.dstAddrOffset, a.dstAddrOffset + a.addrLength))).toBe(0);
      expect(b.data.subarray(0, 6).equals(a.data.subarray(6, 12))).toBe(true);
    });
  }

  it.skipIf(!haveTool('tshark'))('tshark validates both checksums and sees RST+ACK', () => {
    const frames: Buffer[] = [];
    for (const v of [4, 6] as const) {
      const pkt = decodePacket(1, clientFrame(v), new DecodedPacket());
      frames.push(buildRst(captureTemplate(pkt, 1), { srcPort: 40000, dstPort: 25, seq: pkt.seq, ack: pkt.ack }));
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'rst-'));
    const file = path.join(dir, 'rst.pcap');
    writeFileSync(file, pcapFile(frames));
    const out = tshark(['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-e', 'tcp.checksum.status', '-e', 'tcp.flags.reset', '-e', 'tcp.seq_raw', '-e', 'tcp.len']);
    for (const line of out.trim().split('\n')) {
      const [status, reset, seq, len] = line.split('\t');
      expect(status).toBe('1'); // tshark: 0 = Bad, 1 = Good, 2 = Unverified
      expect(['1', 'True']).toContain(reset);
      expect(seq).toBe('4294967280');
      expect(len).toBe('0');
    }
  });
});

describe('timestampAfter', () => {
  it('pcap microseconds: one tick later with carry into the seconds', () => {
    const out = { tsSec: 0, tsNsec: 0, tsRawHigh: 0, tsRawLow: 0 };
    timestampAfter({ tsSec: 100, tsNsec: 999_999_000, tsRawHigh: 100, tsRawLow: 999_999 }, 1, { format: 'pcap', base: 10, exponent: 6, tsOffsetSeconds: 0 }, out);
    expect(out).toEqual({ tsSec: 101, tsNsec: 0, tsRawHigh: 101, tsRawLow: 0 });
  });
  it('pcap nanoseconds and pcapng 64-bit counts', () => {
    const out = { tsSec: 0, tsNsec: 0, tsRawHigh: 0, tsRawLow: 0 };
    timestampAfter({ tsSec: 5, tsNsec: 7, tsRawHigh: 5, tsRawLow: 7 }, 2, { format: 'pcap', base: 10, exponent: 9, tsOffsetSeconds: 0 }, out);
    expect(out).toEqual({ tsSec: 5, tsNsec: 9, tsRawHigh: 5, tsRawLow: 9 });
    // pcapng µs count 0x1_FFFFFFFF + 1 carries into the high word.
    const count = 0x1ffffffff;
    const src = { tsSec: Math.floor(count / 1e6) + 10, tsNsec: (count % 1e6) * 1000, tsRawHigh: 1, tsRawLow: 0xffffffff };
    timestampAfter(src, 1, { format: 'pcapng', base: 10, exponent: 6, tsOffsetSeconds: 10 }, out);
    expect(out.tsRawHigh).toBe(2);
    expect(out.tsRawLow).toBe(0);
    expect(out.tsSec).toBe(Math.floor(0x200000000 / 1e6) + 10);
    expect(out.tsNsec).toBe((0x200000000 % 1e6) * 1000);
  });
  it("pcapng: a packet of another interface (other resolution and offset) is followed in the target interface's ticks", () => {
    // Trigger on a nanosecond interface; the RST goes on a millisecond interface with if_tsoffset 100000.
    const trigger = { tsSec: 1795854218, tsNsec: 430_382_123, tsRawHigh: 0x18ec, tsRawLow: 0x12345678 };
    const out = { tsSec: 0, tsNsec: 0, tsRawHigh: 0, tsRawLow: 0 };
    timestampAfter(trigger, 1, { format: 'pcapng', base: 10, exponent: 3, tsOffsetSeconds: 100000 }, out);
    const count = (1795854218 - 100000) * 1000 + 430 + 1;
    expect(out.tsRawHigh * 2 ** 32 + out.tsRawLow).toBe(count);
    expect(out.tsSec).toBe(1795854218);
    expect(out.tsNsec).toBe(431_000_000);
    // Binary resolution (2^-20): floor of the trigger's fraction, plus two ticks.
    timestampAfter(trigger, 2, { format: 'pcapng', base: 2, exponent: 20, tsOffsetSeconds: 0 }, out);
    const frac = Math.floor((430_382_123 * 2 ** 20) / 1e9) + 2;
    expect(out.tsRawHigh * 2 ** 32 + out.tsRawLow).toBe(1795854218 * 2 ** 20 + frac);
    expect(out.tsSec * 1e9 + out.tsNsec).toBeGreaterThan(trigger.tsSec * 1e9 + trigger.tsNsec);
  });
});

describe('captureTemplate on a packet inside a larger buffer (decodePacketAt)', () => {
  it('gives the same template as the packet on its own', async () => {
    const { decodePacketAt } = await import('../../src/decode/decode.js');
    for (const v of [4, 6] as const) {
      const frame = clientFrame(v);
      const window = Buffer.concat([Buffer.alloc(37, 0xee), frame, Buffer.alloc(11, 0xdd)]);
      const alone = captureTemplate(decodePacket(1, frame, new DecodedPacket()), 1);
      const inside = captureTemplate(decodePacketAt(1, window, 37, 37 + frame.length, new DecodedPacket()), 1);
      expect(inside).toEqual(alone);
      expect(buildRst(inside, { srcPort: 40000, dstPort: 25, seq: 1, ack: 2 })).toEqual(buildRst(alone, { srcPort: 40000, dstPort: 25, seq: 1, ack: 2 }));
    }
  });
});
