/**
 * decodePacketAt() on a packet embedded at a random offset in a larger buffer of random bytes gives
 * the same fields as decodePacket() on the packet alone, with every offset shifted by the start;
 * it never reads outside [start, end), and the checksum helpers agree on both forms.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodePacket, decodePacketAt } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { LinkType } from '../../src/decode/link-types.js';
import { formatIp } from '../../src/decode/address.js';
import { ipv4HeaderChecksumOk, tcpChecksumOk } from '../../src/decode/checksum.js';
import { EHLO, NULL_ACK, SLL2_SYN, SLL_SYN, SV_QUIT_ACK_PADDED, SV_QUIT_QUIT, ZEEK_IPV6_SYNACK, ZEEK_SYNACK } from './vectors.js';

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

/** Offsets into `data`: shifted by the packet's start under decodePacketAt (0 = not set for this kind). */
const OFFSET_FIELDS = ['l3Offset', 'ipEnd', 'srcAddrOffset', 'dstAddrOffset', 'l4Offset', 'tcpChecksumOffset', 'payloadOffset'] as const;
/** Every other decoded field: identical in both forms. */
const VALUE_FIELDS = [
  'kind',
  'vlanTags',
  'ipVersion',
  'ipHeaderLength',
  'addrLength',
  'protocol',
  'ttl',
  'tcpHeaderLength',
  'srcPort',
  'dstPort',
  'seq',
  'ack',
  'flags',
  'window',
  'tcpChecksum',
  'payloadLength',
  'payloadMissing',
  'truncated',
] as const;

/** A Buffer whose indexed reads outside [start, end) throw: the decoder must stay inside the packet. */
function fenced(buf: Buffer, start: number, end: number): Buffer {
  return new Proxy(buf, {
    get(target, prop) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) {
        const i = Number(prop);
        if (i < start || i >= end) throw new Error(`read at ${i} outside the packet [${start}, ${end})`);
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const seeds: { linkType: number; bytes: Buffer }[] = [
  { linkType: LinkType.ETHERNET, bytes: SV_QUIT_ACK_PADDED },
  { linkType: LinkType.ETHERNET, bytes: SV_QUIT_QUIT },
  { linkType: LinkType.ETHERNET, bytes: ZEEK_SYNACK },
  { linkType: LinkType.ETHERNET, bytes: ZEEK_IPV6_SYNACK },
  { linkType: LinkType.ETHERNET, bytes: EHLO },
  { linkType: LinkType.LINUX_SLL2, bytes: SLL2_SYN },
  { linkType: LinkType.LINUX_SLL, bytes: SLL_SYN },
  { linkType: LinkType.NULL, bytes: NULL_ACK },
];

/** A packet: a real frame (mutated, cut) under its link type, or random bytes under any link type. */
const packetArb = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.option(fc.nat(), { nil: null }),
    )
    .map(([seed, edits, cut]) => {
      const bytes = Buffer.from(seed.bytes);
      for (const [at, v] of edits) bytes[at % bytes.length] = v;
      return { linkType: seed.linkType, bytes: cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1)) };
    }),
  fc.tuple(fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 120 })).map(([linkType, a]) => ({ linkType, bytes: Buffer.from(a) })),
);
const junk = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

describe('decodePacketAt', () => {
  it('a packet inside a larger buffer decodes like the packet alone, offsets shifted by its start', () => {
    const alone = new DecodedPacket();
    const at = new DecodedPacket();
    let tcpSeen = 0;
    fc.assert(
      fc.property(packetArb, junk, junk, ({ linkType, bytes }, before, after) => {
        const big = Buffer.concat([before, bytes, after]);
        const start = before.length;
        const end = start + bytes.length;
        decodePacket(linkType, Buffer.from(bytes), alone);
        const ret = decodePacketAt(linkType, fenced(big, start, end), start, end, at);
        expect(ret).toBe(at);
        at.data = big; // the fence is for the decoder only; compare and checksum on the real buffer
        expect([at.packetStart, at.packetEnd]).toEqual([start, end]);
        expect([alone.packetStart, alone.packetEnd]).toEqual([0, bytes.length]);
        for (const f of VALUE_FIELDS) expect([f, at[f]]).toEqual([f, alone[f]]);
        for (const f of OFFSET_FIELDS) {
          // 0 means "not set for this kind" in both forms; a set offset moves with the packet.
          if (at[f] === 0) expect([f, alone[f]]).toEqual([f, 0]);
          else {
            expect([f, at[f]]).toEqual([f, alone[f] + start]);
            expect(at[f]).toBeLessThanOrEqual(end);
          }
        }
        expect(tcpChecksumOk(at)).toBe(tcpChecksumOk(alone));
        expect(ipv4HeaderChecksumOk(at)).toBe(ipv4HeaderChecksumOk(alone));
        if (at.kind === PacketKind.TCP) {
          tcpSeen++;
          expect(at.data.subarray(at.payloadOffset, at.payloadOffset + at.payloadLength).equals(alone.data.subarray(alone.payloadOffset, alone.payloadOffset + alone.payloadLength))).toBe(true);
          expect(formatIp(at.data, at.srcAddrOffset, at.addrLength as 4 | 16)).toBe(formatIp(alone.data, alone.srcAddrOffset, alone.addrLength as 4 | 16));
        }
      }),
      { numRuns: 3000 },
    );
    // The property must have exercised the interesting path, not only malformed junk.
    expect(tcpSeen).toBeGreaterThan(100);
  });

  it('decodePacket is decodePacketAt over the whole buffer: data is the packet, bounds 0..length', () => {
    const p = decodePacket(LinkType.ETHERNET, SV_QUIT_QUIT, new DecodedPacket());
    expect(p.data).toBe(SV_QUIT_QUIT);
    expect([p.packetStart, p.packetEnd]).toEqual([0, SV_QUIT_QUIT.length]);
    expect(p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength).toString('latin1')).toBe('QUIT\r\n');
  });

  it('re-pointing one DecodedPacket from an embedded packet to a standalone one leaves nothing behind', () => {
    const p = new DecodedPacket();
    const big = Buffer.concat([Buffer.alloc(1000, 0xee), ZEEK_IPV6_SYNACK, Buffer.alloc(7, 0xee)]);
    decodePacketAt(LinkType.ETHERNET, big, 1000, 1000 + ZEEK_IPV6_SYNACK.length, p);
    expect(p.kind).toBe(PacketKind.TCP);
    expect(p.l3Offset).toBe(1014);
    decodePacket(LinkType.ETHERNET, Buffer.from('00'.repeat(14), 'hex'), p);
    expect([p.kind, p.packetStart, p.packetEnd, p.l3Offset, p.l4Offset, p.payloadOffset, p.srcPort]).toEqual([PacketKind.NON_IP, 0, 14, 14, 0, 0, 0]);
  });
});
