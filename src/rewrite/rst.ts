/**
 * RST segments for the `reset` action. The link and IP headers are copied from a real packet of
 * the direction the RST pretends to come from (so MACs, VLAN tags, cooked headers, TTL and flow
 * label look like that endpoint's), the TCP header is built fresh (no options, no payload), the
 * lengths are fixed and both checksums computed, so tshark sees a valid segment.
 */
import { computeIpv4HeaderChecksum, computeTcpChecksum, writeIpv4HeaderChecksum, writeTcpChecksum } from '../decode/checksum.js';
import { decodePacket, updateLinkLengths } from '../decode/decode.js';
import { LinkType } from '../decode/link-types.js';
import { DecodedPacket, PacketKind, TcpFlag } from '../decode/packet.js';

const TCP_HEADER = 20;

/** Link + IP headers (up to the TCP header) of one packet, copied. */
export interface HeaderTemplate {
  linkType: number;
  bytes: Buffer;
  l3Offset: number;
  ipVersion: 4 | 6;
  ipHeaderLength: number;
  srcAddrOffset: number;
  dstAddrOffset: number;
  addrLength: number;
}

/**
 * Copies the headers of a decoded TCP packet (only a few dozen bytes). The packet may sit inside a
 * larger buffer (decodePacketAt): offsets in the template are relative to the packet's start.
 */
export function captureTemplate(pkt: DecodedPacket, linkType: number): HeaderTemplate {
  const base = pkt.packetStart;
  return {
    linkType,
    bytes: Buffer.from(pkt.data.subarray(base, pkt.l4Offset)),
    l3Offset: pkt.l3Offset - base,
    ipVersion: pkt.ipVersion === 6 ? 6 : 4,
    ipHeaderLength: pkt.ipHeaderLength,
    srcAddrOffset: pkt.srcAddrOffset - base,
    dstAddrOffset: pkt.dstAddrOffset - base,
    addrLength: pkt.addrLength,
  };
}

function swapRange(buf: Buffer, a: number, b: number, len: number): void {
  const tmp = Buffer.from(buf.subarray(a, a + len));
  buf.copy(buf, a, b, b + len);
  tmp.copy(buf, b);
}

/**
 * The template of the opposite direction, for when no packet of that direction was ever seen:
 * IP addresses swapped, and Ethernet MACs swapped.
 */
export function reverseTemplate(t: HeaderTemplate): HeaderTemplate {
  const bytes = Buffer.from(t.bytes);
  swapRange(bytes, t.srcAddrOffset, t.dstAddrOffset, t.addrLength);
  if (t.linkType === LinkType.ETHERNET && bytes.length >= 12) swapRange(bytes, 0, 6, 6);
  return { ...t, bytes };
}

export interface RstFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
}

/**
 * Builds one RST+ACK segment from `t` and returns its bytes. `scratch` is used to decode the result
 * for the checksum computation.
 */
export function buildRst(t: HeaderTemplate, f: RstFields, scratch: DecodedPacket = new DecodedPacket()): Buffer {
  const hdr = t.bytes.length;
  const buf = Buffer.alloc(hdr + TCP_HEADER);
  t.bytes.copy(buf, 0);
  const l3 = t.l3Offset;
  if (t.ipVersion === 4) {
    buf.writeUInt16BE(t.ipHeaderLength + TCP_HEADER, l3 + 2);
    // Keep DF, clear MF and the fragment offset: the RST is one whole datagram.
    buf.writeUInt16BE(buf.readUInt16BE(l3 + 6) & 0x4000, l3 + 6);
  } else {
    buf.writeUInt16BE(t.ipHeaderLength - 40 + TCP_HEADER, l3 + 4);
  }
  const l4 = hdr;
  buf.writeUInt16BE(f.srcPort, l4);
  buf.writeUInt16BE(f.dstPort, l4 + 2);
  buf.writeUInt32BE(f.seq >>> 0, l4 + 4);
  buf.writeUInt32BE(f.ack >>> 0, l4 + 8);
  buf[l4 + 12] = (TCP_HEADER / 4) << 4;
  buf[l4 + 13] = TcpFlag.RST | TcpFlag.ACK;
  buf.writeUInt16BE(0, l4 + 14); // window
  buf.writeUInt16BE(0, l4 + 16); // checksum, computed below
  buf.writeUInt16BE(0, l4 + 18); // urgent pointer
  const pkt = decodePacket(t.linkType, buf, scratch);
  if (pkt.kind !== PacketKind.TCP) throw new Error(`buildRst: template did not decode as TCP (kind ${pkt.kind})`);
  // A PPPoE header copied from a data packet still counts that packet's length.
  updateLinkLengths(pkt);
  if (t.ipVersion === 4) writeIpv4HeaderChecksum(pkt, computeIpv4HeaderChecksum(pkt));
  writeTcpChecksum(pkt, computeTcpChecksum(pkt));
  return buf;
}
