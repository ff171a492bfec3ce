/**
 * The reusable decode chain: link layer (VLAN tags, PPPoE session, MPLS labels) -> IPv4/IPv6
 * (+ extension headers) -> TCP.
 *
 * decodePacketAt() re-points one DecodedPacket at a record's bytes inside a larger buffer (the
 * capture reader's window: no per-packet Buffer view) and fills offsets only: no allocation, no
 * copies, no throws. decodePacket() is the same over a buffer holding exactly one packet.
 * Anything odd (cut by the snaplen, impossible lengths) ends as a kind plus the `truncated` flag,
 * never an exception, so the hot path never needs a try/catch.
 */
import { DecodedPacket, PacketKind } from './packet.js';
import { LinkType } from './link-types.js';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** VLAN tag protocol identifiers walked in a loop: 802.1Q, 802.1ad (QinQ outer), legacy QinQ. */
const TPID_8021Q = 0x8100;
const TPID_8021AD = 0x88a8;
const TPID_QINQ = 0x9100;
/** More tags than this is not a real frame (Suricata keeps 3); stops a loop over a tag flood. */
const MAX_VLAN_TAGS = 8;
/** PPPoE session stage (RFC 2516): 6-byte header, then the 2-byte PPP protocol. */
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const PPPOE_HEADER = 6;
const PPP_PROTO_IPV4 = 0x0021;
const PPP_PROTO_IPV6 = 0x0057;
/** MPLS unicast and multicast (RFC 3032): 4-byte label stack entries, bottom-of-stack bit S. */
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;
/** Suricata stops at 8 labels too; a longer stack is not a real frame. */
const MAX_MPLS_LABELS = 8;
const MPLS_LABEL_IPV4_EXPLICIT_NULL = 0;
const MPLS_LABEL_IPV6_EXPLICIT_NULL = 2;
/** IPv4 options whose last address is the final destination while the route is not completed. */
const IPV4_OPT_END = 0;
const IPV4_OPT_NOP = 1;
const IPV4_OPT_LSRR = 131;
const IPV4_OPT_SSRR = 137;
/** IPv6 Routing header types that carry the final destination as a 16-byte address. */
const RH_TYPE0 = 0;
const RH_TYPE2_MOBILE = 2;
const RH_TYPE4_SEGMENT = 4;

const ETHERNET_HEADER = 14;
const SLL_HEADER = 16;
const SLL2_HEADER = 20;
const NULL_HEADER = 4;

const IPV4_MIN_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_MIN_HEADER = 20;
const UDP_HEADER = 8;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
/** IPv6 extension headers that are walked to reach the upper layer. */
const IPV6_HOP_BY_HOP = 0;
const IPV6_ROUTING = 43;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_NO_NEXT = 59;
const IPV6_DEST_OPTS = 60;

/** BSD address-family values meaning IPv6 (NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30). */
function isBsdAfInet6(af: number): boolean {
  return af === 24 || af === 28 || af === 30;
}

function u16(d: Buffer, i: number): number {
  return (d[i]! << 8) | d[i + 1]!;
}

function u32(d: Buffer, i: number): number {
  return ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;
}

function u32le(d: Buffer, i: number): number {
  return (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)) >>> 0;
}

/** Puts every field back to its initial value, so nothing of the previous packet leaks. */
function reset(out: DecodedPacket, data: Buffer, start: number, end: number): void {
  out.data = data;
  out.packetStart = start;
  out.packetEnd = end;
  out.kind = PacketKind.NON_IP;
  out.l3Offset = 0;
  out.vlanTags = 0;
  out.ipVersion = 0;
  out.ipHeaderLength = 0;
  out.ipEnd = 0;
  out.srcAddrOffset = 0;
  out.dstAddrOffset = 0;
  out.addrLength = 0;
  out.pseudoDstOffset = 0;
  out.pppoeLengthOffset = -1;
  out.mplsLabels = 0;
  out.protocol = 0;
  out.ttl = 0;
  out.l4Offset = 0;
  out.tcpHeaderLength = 0;
  out.srcPort = 0;
  out.dstPort = 0;
  out.seq = 0;
  out.ack = 0;
  out.flags = 0;
  out.window = 0;
  out.tcpChecksum = 0;
  out.tcpChecksumOffset = 0;
  out.payloadOffset = 0;
  out.payloadLength = 0;
  out.payloadMissing = 0;
  out.truncated = false;
}

/**
 * Decodes one captured frame of the given LINKTYPE into `out` (which is also returned).
 * `data` holds exactly the frame; every offset in `out` is relative to it (packetStart = 0,
 * packetEnd = data.length). `data` must stay untouched while `out` is in use.
 */
export function decodePacket(linkType: number, data: Buffer, out: DecodedPacket): DecodedPacket {
  return decodePacketAt(linkType, data, 0, data.length, out);
}

/**
 * Decodes the frame buf[start, end) without making a view of it: `out.data = buf` and every offset
 * in `out` is absolute within `buf` (so l3Offset >= start, ipEnd <= end). The packet's bounds are
 * `out.packetStart`/`out.packetEnd`; `buf.length` says nothing about the packet. `buf` must stay
 * untouched while `out` is in use (for a capture record: only during the onRecord call).
 */
export function decodePacketAt(linkType: number, buf: Buffer, start: number, end: number, out: DecodedPacket): DecodedPacket {
  reset(out, buf, start, end);
  const len = end - start;
  switch (linkType) {
    case LinkType.ETHERNET: {
      if (len < ETHERNET_HEADER) return malformed(out, true);
      return decodeEtherType(out, u16(buf, start + 12), start + ETHERNET_HEADER);
    }
    case LinkType.LINUX_SLL: {
      if (len < SLL_HEADER) return malformed(out, true);
      return decodeEtherType(out, u16(buf, start + 14), start + SLL_HEADER);
    }
    case LinkType.LINUX_SLL2: {
      if (len < SLL2_HEADER) return malformed(out, true);
      return decodeEtherType(out, u16(buf, start), start + SLL2_HEADER);
    }
    case LinkType.RAW:
    case LinkType.RAW_12:
    case LinkType.RAW_14:
      return decodeRawIp(out, start, linkType !== LinkType.RAW);
    case LinkType.IPV4:
      if (len < 1) return malformed(out, true);
      return decodeIpv4(out, start);
    case LinkType.IPV6:
      if (len < 1) return malformed(out, true);
      return decodeIpv6(out, start);
    case LinkType.NULL: {
      if (len < NULL_HEADER) return malformed(out, true);
      // The AF value is in the capturing host's byte order: whichever reading is small is right.
      let af = u32le(buf, start);
      if (af > 0xffff) af = u32(buf, start);
      return decodeAddressFamily(out, af, start + NULL_HEADER);
    }
    case LinkType.LOOP: {
      if (len < NULL_HEADER) return malformed(out, true);
      return decodeAddressFamily(out, u32(buf, start), start + NULL_HEADER);
    }
    default:
      out.kind = PacketKind.UNKNOWN_LINK;
      return out;
  }
}

function malformed(out: DecodedPacket, truncated: boolean): DecodedPacket {
  out.kind = PacketKind.MALFORMED;
  out.truncated = truncated;
  return out;
}

function decodeAddressFamily(out: DecodedPacket, af: number, l3: number): DecodedPacket {
  if (af === 2) return decodeIpv4(out, l3);
  if (isBsdAfInet6(af)) return decodeIpv6(out, l3);
  out.kind = PacketKind.NON_IP;
  return out;
}

/** Link types 12 and 14 are raw IP only on some systems: elsewhere they are not ours to guess. */
function decodeRawIp(out: DecodedPacket, offset: number, ambiguousLinkType: boolean): DecodedPacket {
  const data = out.data;
  if (out.packetEnd <= offset) return malformed(out, true);
  const version = data[offset]! >> 4;
  if (version === 4) return decodeIpv4(out, offset);
  if (version === 6) return decodeIpv6(out, offset);
  out.kind = ambiguousLinkType ? PacketKind.UNKNOWN_LINK : PacketKind.MALFORMED;
  return out;
}

/** Walks VLAN tags starting from an EtherType whose value sits just before `offset`. */
function decodeEtherType(out: DecodedPacket, etherType: number, offset: number): DecodedPacket {
  const data = out.data;
  let type = etherType;
  let off = offset;
  let tags = 0;
  while (type === TPID_8021Q || type === TPID_8021AD || type === TPID_QINQ) {
    if (tags === MAX_VLAN_TAGS) return malformed(out, false);
    // A tag is TCI(2) + inner EtherType(2).
    if (off + 4 > out.packetEnd) {
      out.vlanTags = tags;
      return malformed(out, true);
    }
    type = u16(data, off + 2);
    off += 4;
    tags++;
  }
  out.vlanTags = tags;
  if (type === ETHERTYPE_IPV4) return decodeIpv4(out, off);
  if (type === ETHERTYPE_IPV6) return decodeIpv6(out, off);
  if (type === ETHERTYPE_PPPOE_SESSION) return decodePppoeSession(out, off);
  if (type === ETHERTYPE_MPLS || type === ETHERTYPE_MPLS_MULTICAST) return decodeMpls(out, off);
  out.l3Offset = off;
  out.kind = PacketKind.NON_IP;
  return out;
}

/**
 * PPPoE session frame (an ASA or a mail server behind a DSL line): version/type 0x11, code 0, then
 * PPP carrying IPv4 or IPv6 (protocol 0x0021 / 0x0057, or 0x21 / 0x57 compressed). The IP header's length ends the datagram, as for Ethernet padding;
 * the PPPoE length field is recorded so a rebuilt packet can keep it true.
 */
function decodePppoeSession(out: DecodedPacket, off: number): DecodedPacket {
  const data = out.data;
  out.l3Offset = off;
  if (off + PPPOE_HEADER + 1 > out.packetEnd) return malformed(out, true);
  if (data[off] !== 0x11 || data[off + 1] !== 0) {
    out.kind = PacketKind.NON_IP;
    return out;
  }
  // Protocol-field compression (RFC 1661 §6.5): an odd first byte is a 1-byte protocol.
  const first = data[off + PPPOE_HEADER]!;
  const compressed = (first & 0x01) === 1;
  if (!compressed && off + PPPOE_HEADER + 2 > out.packetEnd) return malformed(out, true);
  const proto = compressed ? first : u16(data, off + PPPOE_HEADER);
  const l3 = off + PPPOE_HEADER + (compressed ? 1 : 2);
  if (proto === PPP_PROTO_IPV4 || proto === PPP_PROTO_IPV6) {
    out.pppoeLengthOffset = off + 4;
    return proto === PPP_PROTO_IPV4 ? decodeIpv4(out, l3) : decodeIpv6(out, l3);
  }
  // LCP, IPCP, CHAP, ...: control traffic of the PPP session.
  out.kind = PacketKind.NON_IP;
  return out;
}

/**
 * MPLS label stack up to the bottom-of-stack entry, then IP: the explicit-null labels say which,
 * otherwise the version nibble does (as Suricata and Wireshark guess). A pseudowire (control word,
 * Ethernet inside) is not IP here: counted as non-ip.
 */
function decodeMpls(out: DecodedPacket, off: number): DecodedPacket {
  const data = out.data;
  let pos = off;
  let labels = 0;
  for (;;) {
    if (labels === MAX_MPLS_LABELS) return malformed(out, false);
    if (pos + 4 > out.packetEnd) {
      out.l3Offset = pos;
      out.mplsLabels = labels;
      return malformed(out, true);
    }
    const bottom = (data[pos + 2]! & 0x01) !== 0;
    const label = u32(data, pos) >>> 12;
    pos += 4;
    labels++;
    if (!bottom) continue;
    out.mplsLabels = labels;
    if (pos >= out.packetEnd) {
      out.l3Offset = pos;
      return malformed(out, true);
    }
    const version = data[pos]! >> 4;
    if (label === MPLS_LABEL_IPV4_EXPLICIT_NULL || (label !== MPLS_LABEL_IPV6_EXPLICIT_NULL && version === 4)) return decodeIpv4(out, pos);
    if (label === MPLS_LABEL_IPV6_EXPLICIT_NULL || version === 6) return decodeIpv6(out, pos);
    out.l3Offset = pos;
    out.kind = PacketKind.NON_IP;
    return out;
  }
}

function decodeIpv4(out: DecodedPacket, off: number): DecodedPacket {
  const data = out.data;
  const len = out.packetEnd;
  out.l3Offset = off;
  if (off + IPV4_MIN_HEADER > len) return malformed(out, true);
  const vihl = data[off]!;
  if (vihl >> 4 !== 4) return malformed(out, false);
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < IPV4_MIN_HEADER) return malformed(out, false);
  let totalLength = u16(data, off + 2);
  // A total length of 0 is what TCP segmentation offload leaves in captures: the frame is the datagram.
  if (totalLength === 0) totalLength = len - off;
  if (totalLength < ihl) return malformed(out, false);
  if (off + ihl > len) return malformed(out, true);

  out.ipVersion = 4;
  out.ipHeaderLength = ihl;
  out.srcAddrOffset = off + 12;
  out.dstAddrOffset = off + 16;
  if (ihl > IPV4_MIN_HEADER) out.pseudoDstOffset = ipv4FinalDestination(data, off, ihl);
  out.addrLength = 4;
  out.ttl = data[off + 8]!;
  const protocol = data[off + 9]!;
  out.protocol = protocol;
  const claimedEnd = off + totalLength;
  if (claimedEnd > len) {
    out.truncated = true;
    out.ipEnd = len;
  } else {
    out.ipEnd = claimedEnd;
  }
  // More-fragments flag or a non-zero fragment offset: a piece we do not reassemble.
  const fragField = u16(data, off + 6);
  if ((fragField & 0x3fff) !== 0) {
    out.kind = PacketKind.IP_FRAGMENT;
    out.payloadMissing = claimedEnd - out.ipEnd;
    return out;
  }
  return decodeUpperLayer(out, protocol, off + ihl, claimedEnd);
}

function decodeIpv6(out: DecodedPacket, off: number): DecodedPacket {
  const data = out.data;
  const len = out.packetEnd;
  out.l3Offset = off;
  if (off + IPV6_HEADER > len) return malformed(out, true);
  if (data[off]! >> 4 !== 6) return malformed(out, false);
  let payloadLength = u16(data, off + 4);
  // 0 is a jumbogram or offloaded segment: take the captured frame as the datagram.
  if (payloadLength === 0) payloadLength = len - off - IPV6_HEADER;
  const claimedEnd = off + IPV6_HEADER + payloadLength;

  out.ipVersion = 6;
  out.srcAddrOffset = off + 8;
  out.dstAddrOffset = off + 24;
  out.addrLength = 16;
  out.ttl = data[off + 7]!;
  if (claimedEnd > len) {
    out.truncated = true;
    out.ipEnd = len;
  } else {
    out.ipEnd = claimedEnd;
  }

  let next = data[off + 6]!;
  let pos = off + IPV6_HEADER;
  // Each extension header is at least 8 bytes, so this loop ends within the datagram.
  for (;;) {
    let extLength: number;
    if (next === IPV6_HOP_BY_HOP || next === IPV6_ROUTING || next === IPV6_DEST_OPTS) {
      if (pos + 2 > claimedEnd) return ipv6Malformed(out, pos, next, false);
      if (pos + 2 > len) return ipv6Malformed(out, pos, next, true);
      extLength = (data[pos + 1]! + 1) * 8;
    } else if (next === IPV6_FRAGMENT) {
      extLength = 8;
      if (pos + extLength > claimedEnd) return ipv6Malformed(out, pos, next, false);
      if (pos + extLength > len) return ipv6Malformed(out, pos, next, true);
      const fragField = u16(data, pos + 2);
      // Offset != 0 or more-fragments set: a real fragment. (Both 0 is an "atomic" fragment.)
      if ((fragField & 0xfff9) !== 0) {
        out.ipHeaderLength = pos + extLength - off;
        out.protocol = data[pos]!;
        out.kind = PacketKind.IP_FRAGMENT;
        out.payloadMissing = claimedEnd - out.ipEnd;
        return out;
      }
    } else if (next === IPV6_AH) {
      if (pos + 2 > claimedEnd) return ipv6Malformed(out, pos, next, false);
      if (pos + 2 > len) return ipv6Malformed(out, pos, next, true);
      extLength = (data[pos + 1]! + 2) * 4;
    } else {
      break;
    }
    if (pos + extLength > claimedEnd) return ipv6Malformed(out, pos, next, false);
    if (pos + extLength > len) return ipv6Malformed(out, pos, next, true);
    if (next === IPV6_ROUTING) routingFinalDestination(out, pos, extLength);
    next = data[pos]!;
    pos += extLength;
  }
  out.ipHeaderLength = pos - off;
  out.protocol = next;
  if (next === IPV6_NO_NEXT) {
    out.kind = PacketKind.OTHER_IP;
    return out;
  }
  return decodeUpperLayer(out, next, pos, claimedEnd);
}

/**
 * A Routing header with segments left names the final destination, which the TCP pseudo-header
 * uses (RFC 8200 §8.1): the last address of type 0, the home address of type 2, Segment List[0] of
 * a Segment Routing header (RFC 8754 §2). Type 3 (RPL) compresses its addresses: left alone.
 */
function routingFinalDestination(out: DecodedPacket, pos: number, extLength: number): void {
  const data = out.data;
  const type = data[pos + 2]!;
  const segmentsLeft = data[pos + 3]!;
  if (segmentsLeft === 0 || extLength < 8 + 16) return;
  if (type === RH_TYPE0) out.pseudoDstOffset = pos + 8 + Math.floor((extLength - 8) / 16) * 16 - 16;
  else if (type === RH_TYPE2_MOBILE || type === RH_TYPE4_SEGMENT) out.pseudoDstOffset = pos + 8;
}

/**
 * The IPv4 destination the TCP pseudo-header uses: the last address of a loose or strict source
 * route that is not yet completed (pointer within the option), as the sender computed it
 * (RFC 9293 §3.1); else 0 (the header's destination). Options are only walked inside the header.
 */
function ipv4FinalDestination(data: Buffer, off: number, ihl: number): number {
  const end = off + ihl;
  let pos = off + IPV4_MIN_HEADER;
  while (pos < end) {
    const type = data[pos]!;
    if (type === IPV4_OPT_END) break;
    if (type === IPV4_OPT_NOP) {
      pos++;
      continue;
    }
    if (pos + 2 > end) break;
    const optLength = data[pos + 1]!;
    if (optLength < 2 || pos + optLength > end) break;
    if ((type === IPV4_OPT_LSRR || type === IPV4_OPT_SSRR) && optLength >= 7) {
      const pointer = data[pos + 2]!;
      if (pointer <= optLength) return pos + optLength - 4;
    }
    pos += optLength;
  }
  return 0;
}

/** An extension header chain that runs off the datagram (or off the captured bytes). */
function ipv6Malformed(out: DecodedPacket, pos: number, next: number, truncated: boolean): DecodedPacket {
  out.ipHeaderLength = pos - out.l3Offset;
  out.protocol = next;
  out.kind = PacketKind.MALFORMED;
  out.truncated = truncated || out.truncated;
  return out;
}

function decodeUpperLayer(out: DecodedPacket, protocol: number, l4: number, claimedEnd: number): DecodedPacket {
  const data = out.data;
  const end = out.ipEnd;
  out.l4Offset = l4;
  if (protocol === PROTO_TCP) {
    if (l4 + TCP_MIN_HEADER > claimedEnd) return malformed(out, out.truncated);
    if (l4 + TCP_MIN_HEADER > end) return malformed(out, true);
    const dataOffset = (data[l4 + 12]! >> 4) * 4;
    if (dataOffset < TCP_MIN_HEADER || l4 + dataOffset > claimedEnd) return malformed(out, out.truncated);
    out.srcPort = u16(data, l4);
    out.dstPort = u16(data, l4 + 2);
    out.seq = u32(data, l4 + 4);
    out.ack = u32(data, l4 + 8);
    out.flags = data[l4 + 13]!;
    out.window = u16(data, l4 + 14);
    out.tcpChecksum = u16(data, l4 + 16);
    out.tcpChecksumOffset = l4 + 16;
    out.tcpHeaderLength = dataOffset;
    out.kind = PacketKind.TCP;
    if (l4 + dataOffset > end) {
      // Options cut by the snaplen: ports, sequence numbers and flags are all there (flow tracking
      // needs them, e.g. a SYN from a snaplen-68 trace); the payload is entirely missing.
      out.truncated = true;
      out.payloadOffset = end;
      out.payloadLength = 0;
      out.payloadMissing = claimedEnd - (l4 + dataOffset);
      return out;
    }
    out.payloadOffset = l4 + dataOffset;
    out.payloadLength = end - out.payloadOffset;
    out.payloadMissing = claimedEnd - end;
    return out;
  }
  out.payloadMissing = claimedEnd - end;
  if (protocol === PROTO_UDP) {
    if (l4 + UDP_HEADER <= end) {
      out.srcPort = u16(data, l4);
      out.dstPort = u16(data, l4 + 2);
    }
    out.kind = PacketKind.UDP;
    return out;
  }
  out.kind = protocol === PROTO_ICMP || protocol === PROTO_ICMPV6 ? PacketKind.ICMP : PacketKind.OTHER_IP;
  return out;
}

/**
 * Makes the link-layer length fields agree with the IP datagram after a builder changed its length
 * (the RST builder copies a real packet's headers): today only the PPPoE session length, which
 * counts the 2-byte PPP protocol field and the datagram. `pkt` must be freshly decoded.
 */
export function updateLinkLengths(pkt: DecodedPacket): void {
  const at = pkt.pppoeLengthOffset;
  if (at < 0) return;
  const length = pkt.ipEnd - (at + 2);
  pkt.data[at] = (length >> 8) & 0xff;
  pkt.data[at + 1] = length & 0xff;
}
