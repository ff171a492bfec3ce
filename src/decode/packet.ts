/**
 * The decoded view of one captured packet: offsets into `data`, never copies. One instance is
 * reused for every packet (decodePacket()/decodePacketAt() re-point it), so no per-packet objects
 * are made.
 *
 * Every offset field (l3Offset, srcAddrOffset, l4Offset, payloadOffset, ipEnd, ...) is an index
 * into `data`. After decodePacket(linkType, data, out) `data` is exactly the packet (packetStart 0,
 * packetEnd data.length). After decodePacketAt(linkType, buf, start, end, out) `data` is `buf`, a
 * LARGER buffer (e.g. the capture reader's window), and the packet is data[packetStart, packetEnd):
 * never use `data.length` as the packet's end or `data` itself as the packet's bytes — use
 * packetStart/packetEnd (or copy data.subarray(packetStart, packetEnd) when a copy is needed).
 */

/** What a packet turned out to be, for counting by kind and for routing. */
export const PacketKind = {
  TCP: 0,
  UDP: 1,
  ICMP: 2,
  OTHER_IP: 3,
  /** IP fragment (non-first, or first of several): not reassembled, counted. */
  IP_FRAGMENT: 4,
  /** Not IP at all (ARP, LLDP, ...). */
  NON_IP: 5,
  /** Link type we do not decode. */
  UNKNOWN_LINK: 6,
  /** Headers cut by the snaplen or inconsistent lengths: passed through, counted. */
  MALFORMED: 7,
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

export const PACKET_KIND_NAMES: Record<PacketKind, string> = {
  0: 'tcp',
  1: 'udp',
  2: 'icmp',
  3: 'other-ip',
  4: 'ip-fragment',
  5: 'non-ip',
  6: 'unknown-link',
  7: 'malformed',
};

/** TCP flag bits. */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export class DecodedPacket {
  /** The buffer every offset below points into; may be larger than the packet (see above). */
  data: Buffer = Buffer.alloc(0);
  /** The packet's captured bytes are data[packetStart, packetEnd) (link-layer header first). */
  packetStart = 0;
  packetEnd = 0;
  kind: PacketKind = PacketKind.NON_IP;
  /** Link layer: offset of the IP header, number of VLAN tags walked. */
  l3Offset = 0;
  vlanTags = 0;
  /** 4 or 6; 0 when not IP. */
  ipVersion = 0;
  /** IPv4 header length or IPv6 fixed header + extension headers walked before the L4 header. */
  ipHeaderLength = 0;
  /** End of the IP datagram inside `data` (from the IP length fields: Ethernet padding excluded). */
  ipEnd = 0;
  /** Offsets of source/destination addresses in `data`; length 4 or 16. */
  srcAddrOffset = 0;
  dstAddrOffset = 0;
  addrLength = 0;
  /**
   * Offset of the destination address the TCP pseudo-header uses: the final destination when an
   * IPv6 Routing header (types 0, 2, 4) still has segments left or an IPv4 source-route option
   * (LSRR/SSRR) is not yet completed (RFC 8200 §8.1, RFC 9293 §3.1). 0 (never an address's
   * offset: the IP header precedes it) means dstAddrOffset, so hand-built packets need not set it.
   */
  pseudoDstOffset = 0;
  /**
   * Offset of the PPPoE session header's length field (which counts the PPP protocol field and the
   * IP datagram), or -1 when the frame has no PPPoE header: a builder that changes the datagram's
   * length must rewrite it (updateLinkLengths()).
   */
  pppoeLengthOffset = -1;
  /** MPLS labels walked before the IP header. */
  mplsLabels = 0;
  /** Upper-layer protocol number (6 = TCP). */
  protocol = 0;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl = 0;
  /** TCP header: offset and length (data offset * 4). */
  l4Offset = 0;
  tcpHeaderLength = 0;
  srcPort = 0;
  dstPort = 0;
  /** Sequence and acknowledgement numbers as unsigned 32-bit values. */
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  /** TCP checksum as stored, and the offset of the checksum field in `data`. */
  tcpChecksum = 0;
  tcpChecksumOffset = 0;
  /** Offset and length of the TCP payload that is present in `data`. */
  payloadOffset = 0;
  payloadLength = 0;
  /** Payload bytes the IP header claims but the capture cut (snaplen). */
  payloadMissing = 0;
  /** True when the record was cut by the snaplen anywhere inside the IP datagram. */
  truncated = false;
}
