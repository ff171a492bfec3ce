import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind, TcpFlag } from '../../src/decode/packet.js';
import { LinkType } from '../../src/decode/link-types.js';
import { formatIp } from '../../src/decode/address.js';
import { tcpChecksumOk, computeTcpChecksum, ipv4HeaderChecksumOk, computeIpv4HeaderChecksum } from '../../src/decode/checksum.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { readRecords } from './pcap-records.js';
import { SV_QUIT_ACK_PADDED, SV_QUIT_QUIT, ZEEK_SYNACK, ZEEK_IPV6_SYNACK, SLL2_SYN, SLL_SYN, NULL_ACK, EHLO } from './vectors.js';

const pkt = new DecodedPacket();
function decode(linkType: number, data: Buffer): DecodedPacket {
  return decodePacket(linkType, data, pkt);
}
const src = (p: DecodedPacket): string => formatIp(p.data, p.srcAddrOffset, p.addrLength as 4 | 16);
const dst = (p: DecodedPacket): string => formatIp(p.data, p.dstAddrOffset, p.addrLength as 4 | 16);

describe('decode vectors from real frames', () => {
  it('Ethernet IPv4 ACK with padding: the IP total length ends the datagram', () => {
    const p = decode(LinkType.ETHERNET, SV_QUIT_ACK_PADDED);
    expect(SV_QUIT_ACK_PADDED.length).toBe(60);
    expect(p.kind).toBe(PacketKind.TCP);
    expect([p.l3Offset, p.ipVersion, p.ipHeaderLength, p.ipEnd, p.ttl, p.protocol]).toEqual([14, 4, 20, 54, 128, 6]);
    expect([src(p), dst(p), p.srcPort, p.dstPort]).toEqual(['10.127.0.202', '41.225.70.195', 58121, 25]);
    expect([p.seq, p.ack, p.flags, p.window]).toEqual([0x78f31717, 0x83e2a00a, TcpFlag.ACK, 257]);
    expect([p.l4Offset, p.tcpHeaderLength, p.payloadOffset, p.payloadLength, p.payloadMissing]).toEqual([34, 20, 54, 0, 0]);
    expect(p.truncated).toBe(false);
    // tcpdump: cksum 0x9bd0 (incorrect -> 0x9bcc) — the padding must not enter the sum.
    expect(p.tcpChecksum).toBe(0x9bd0);
    expect(computeTcpChecksum(p)).toBe(0x9bcc);
    expect(tcpChecksumOk(p)).toBe(false);
    expect(ipv4HeaderChecksumOk(p)).toBe(true);
  });

  it('payload bounds of "QUIT\\r\\n"', () => {
    const p = decode(LinkType.ETHERNET, SV_QUIT_QUIT);
    expect(p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength).toString('latin1')).toBe('QUIT\r\n');
    expect(p.flags).toBe(TcpFlag.PSH | TcpFlag.ACK);
    expect(computeTcpChecksum(p)).toBe(0xf409);
  });

  it('IPv4 SYN-ACK with options, valid checksums (identity: recomputed = stored)', () => {
    const p = decode(LinkType.ETHERNET, ZEEK_SYNACK);
    expect([src(p), dst(p), p.srcPort, p.dstPort, p.ttl]).toEqual(['74.53.140.153', '10.10.1.4', 25, 1470, 50]);
    expect([p.seq, p.ack, p.flags, p.window, p.tcpHeaderLength]).toEqual([2934727087, 2126795697, TcpFlag.SYN | TcpFlag.ACK, 5840, 28]);
    expect(tcpChecksumOk(p)).toBe(true);
    expect(computeTcpChecksum(p)).toBe(0xa17a);
    expect(computeIpv4HeaderChecksum(p)).toBe(0x668c);
    expect(ipv4HeaderChecksumOk(p)).toBe(true);
  });

  it('IPv6 SYN-ACK, valid checksum over the IPv6 pseudo-header', () => {
    const p = decode(LinkType.ETHERNET, ZEEK_IPV6_SYNACK);
    expect(p.kind).toBe(PacketKind.TCP);
    expect([p.ipVersion, p.ipHeaderLength, p.addrLength, p.ttl, p.protocol, p.l4Offset]).toEqual([6, 40, 16, 56, 6, 54]);
    expect([src(p), dst(p)]).toEqual(['2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887']);
    expect([p.srcPort, p.dstPort, p.seq, p.ack, p.tcpHeaderLength]).toEqual([25, 63943, 2506332060, 60852273, 32]);
    expect(tcpChecksumOk(p)).toBe(true);
    expect(computeTcpChecksum(p)).toBe(0x2583);
    expect(ipv4HeaderChecksumOk(p)).toBe(false); // no IPv4 header
  });

  it('Linux SLL2 and SLL', () => {
    let p = decode(LinkType.LINUX_SLL2, SLL2_SYN);
    expect([p.kind, p.l3Offset, p.srcPort, p.dstPort, p.seq, p.flags]).toEqual([PacketKind.TCP, 20, 40065, 25, 2794650592, TcpFlag.SYN]);
    p = decode(LinkType.LINUX_SLL, SLL_SYN);
    expect([p.kind, p.l3Offset, p.srcPort, p.dstPort, p.seq, p.tcpHeaderLength]).toEqual([PacketKind.TCP, 16, 40066, 25, 527834301, 40]);
  });

  it('BSD NULL with the AF value in either byte order, LOOP in network order', () => {
    let p = decode(LinkType.NULL, NULL_ACK);
    expect([p.kind, p.l3Offset, p.srcPort, p.dstPort]).toEqual([PacketKind.TCP, 4, 2525, 49515]);
    const bigEndian = Buffer.concat([Buffer.from([0, 0, 0, 2]), NULL_ACK.subarray(4)]);
    p = decode(LinkType.NULL, bigEndian);
    expect([p.kind, p.srcPort]).toEqual([PacketKind.TCP, 2525]);
    p = decode(LinkType.LOOP, bigEndian);
    expect([p.kind, p.srcPort]).toEqual([PacketKind.TCP, 2525]);
    p = decode(LinkType.LOOP, NULL_ACK); // 0x02000000 in network order is no address family
    expect(p.kind).toBe(PacketKind.NON_IP);
    const v6 = ZEEK_IPV6_SYNACK.subarray(14);
    for (const af of [24, 28, 30]) {
      const le = Buffer.concat([Buffer.from([af, 0, 0, 0]), v6]);
      const be = Buffer.concat([Buffer.from([0, 0, 0, af]), v6]);
      expect(decode(LinkType.NULL, le).kind).toBe(PacketKind.TCP);
      expect(decode(LinkType.NULL, be).kind).toBe(PacketKind.TCP);
      expect(pkt.ipVersion).toBe(6);
      expect(decode(LinkType.LOOP, be).kind).toBe(PacketKind.TCP);
    }
    expect(decode(LinkType.NULL, Buffer.concat([Buffer.from([7, 0, 0, 0]), v6])).kind).toBe(PacketKind.NON_IP);
  });

  it('raw IP link types 101, 228, 229, 12, 14', () => {
    const v4 = ZEEK_SYNACK.subarray(14);
    const v6 = ZEEK_IPV6_SYNACK.subarray(14);
    for (const lt of [LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14]) {
      expect(decode(lt, v4).kind).toBe(PacketKind.TCP);
      expect([pkt.l3Offset, pkt.ipVersion, tcpChecksumOk(pkt)]).toEqual([0, 4, true]);
      expect(decode(lt, v6).kind).toBe(PacketKind.TCP);
      expect([pkt.ipVersion, tcpChecksumOk(pkt)]).toEqual([6, true]);
    }
    expect(decode(LinkType.IPV4, v4).ipVersion).toBe(4);
    expect(decode(LinkType.IPV6, v6).ipVersion).toBe(6);
    // An IPv6 packet under the IPv4-only link type is not IPv4.
    expect(decode(LinkType.IPV4, v6).kind).toBe(PacketKind.MALFORMED);
    // 12/14 with something that is not IP: not a link type we can claim to know.
    expect(decode(LinkType.RAW_12, Buffer.from([0x81, 0, 0, 0])).kind).toBe(PacketKind.UNKNOWN_LINK);
    expect(decode(LinkType.RAW, Buffer.from([0x81, 0, 0, 0])).kind).toBe(PacketKind.MALFORMED);
  });

  it('unknown link types and non-IP EtherTypes are counted, not decoded', () => {
    expect(decode(147, ZEEK_SYNACK).kind).toBe(PacketKind.UNKNOWN_LINK);
    const arp = Buffer.from(ZEEK_SYNACK);
    arp.writeUInt16BE(0x0806, 12);
    expect(decode(LinkType.ETHERNET, arp).kind).toBe(PacketKind.NON_IP);
  });
});

describe('VLAN tags (built by prefixing real frames)', () => {
  function tagged(frame: Buffer, tpids: number[]): Buffer {
    const tags = tpids.map((tpid, i) => {
      const t = Buffer.alloc(4);
      t.writeUInt16BE(100 + i, 0); // TCI: VLAN id
      t.writeUInt16BE(i + 1 < tpids.length ? tpids[i + 1]! : frame.readUInt16BE(12), 2);
      return t;
    });
    const head = Buffer.from(frame.subarray(0, 14));
    head.writeUInt16BE(tpids[0]!, 12);
    return Buffer.concat([head, ...tags, frame.subarray(14)]);
  }

  it.each([
    ['802.1Q', [0x8100]],
    ['802.1ad QinQ', [0x88a8, 0x8100]],
    ['0x9100 QinQ', [0x9100, 0x8100]],
    ['three tags', [0x88a8, 0x8100, 0x8100]],
  ])('%s', (_name, tpids) => {
    for (const frame of [ZEEK_SYNACK, ZEEK_IPV6_SYNACK]) {
      const p = decode(LinkType.ETHERNET, tagged(frame, tpids));
      expect(p.kind).toBe(PacketKind.TCP);
      expect(p.vlanTags).toBe(tpids.length);
      expect(p.l3Offset).toBe(14 + 4 * tpids.length);
      expect(tcpChecksumOk(p)).toBe(true);
    }
  });

  it('a tag cut by the capture is malformed and truncated; a tag flood stops', () => {
    const t = tagged(ZEEK_SYNACK, [0x8100]);
    const p = decode(LinkType.ETHERNET, t.subarray(0, 16));
    expect([p.kind, p.truncated]).toEqual([PacketKind.MALFORMED, true]);
    const flood = tagged(ZEEK_SYNACK, Array<number>(20).fill(0x8100));
    expect(decode(LinkType.ETHERNET, flood).kind).toBe(PacketKind.MALFORMED);
  });
});

describe('IPv4: truncated and impossible lengths', () => {
  const frame = (): Buffer => Buffer.from(SV_QUIT_QUIT);

  it('IHL < 5 is malformed', () => {
    const f = frame();
    f[14] = 0x44;
    expect(decode(LinkType.ETHERNET, f)).toMatchObject({ kind: PacketKind.MALFORMED, truncated: false });
  });

  it('total length below the header length is malformed', () => {
    const f = frame();
    f.writeUInt16BE(19, 16);
    expect(decode(LinkType.ETHERNET, f).kind).toBe(PacketKind.MALFORMED);
  });

  it('total length beyond the capture: TCP, truncated, payloadMissing counts the cut bytes', () => {
    const f = frame();
    f.writeUInt16BE(46 + 1000, 16);
    const p = decode(LinkType.ETHERNET, f);
    expect([p.kind, p.truncated, p.payloadLength, p.payloadMissing, p.ipEnd]).toEqual([PacketKind.TCP, true, 6, 1000, 60]);
    expect(tcpChecksumOk(p)).toBeNull();
  });

  it('total length 0 (segmentation offload) takes the frame as the datagram', () => {
    const f = frame();
    f.writeUInt16BE(0, 16);
    const p = decode(LinkType.ETHERNET, f);
    expect([p.kind, p.payloadLength, p.truncated]).toEqual([PacketKind.TCP, 6, false]);
  });

  it('IPv4 options are skipped (IHL 6)', () => {
    // Insert a 4-byte option (NOP NOP NOP EOL) into the real EHLO frame and fix the lengths.
    const f = Buffer.concat([EHLO.subarray(0, 34), Buffer.from([1, 1, 1, 0]), EHLO.subarray(34)]);
    f[14] = 0x46;
    f.writeUInt16BE(EHLO.readUInt16BE(16) + 4, 16);
    const p = decode(LinkType.ETHERNET, f);
    expect([p.kind, p.ipHeaderLength, p.l4Offset, p.payloadLength]).toEqual([PacketKind.TCP, 24, 38, 26]);
    expect(p.data.subarray(p.payloadOffset, p.payloadOffset + 4).toString('latin1')).toBe('EHLO');
  });

  it('fragments: MF set, or an offset, are IP_FRAGMENT (not decoded as TCP)', () => {
    let f = frame();
    f.writeUInt16BE(0x2000, 20); // MF, offset 0
    expect(decode(LinkType.ETHERNET, f)).toMatchObject({ kind: PacketKind.IP_FRAGMENT, protocol: 6, srcPort: 0 });
    f = frame();
    f.writeUInt16BE(0x0010, 20); // offset 128 bytes, last fragment
    expect(decode(LinkType.ETHERNET, f).kind).toBe(PacketKind.IP_FRAGMENT);
    f = frame();
    f.writeUInt16BE(0x4000, 20); // DF only
    expect(decode(LinkType.ETHERNET, f).kind).toBe(PacketKind.TCP);
  });

  it('every cut of a real frame decodes without throwing, with the expected outcome', () => {
    for (let n = 0; n <= SV_QUIT_QUIT.length; n++) {
      const p = decode(LinkType.ETHERNET, SV_QUIT_QUIT.subarray(0, n));
      if (n < 54) {
        expect(p.kind, `cut at ${n}`).toBe(PacketKind.MALFORMED);
        expect(p.truncated, `cut at ${n}`).toBe(true);
      } else {
        expect(p.kind).toBe(PacketKind.TCP);
        expect(p.payloadLength + p.payloadMissing).toBe(6);
        expect(p.truncated).toBe(n < 60);
      }
    }
  });
});

describe('TCP: impossible data offsets and cut options', () => {
  it('data offset < 5 is malformed', () => {
    const f = Buffer.from(SV_QUIT_QUIT);
    f[46] = 0x40;
    expect(decode(LinkType.ETHERNET, f).kind).toBe(PacketKind.MALFORMED);
  });

  it('data offset beyond the datagram is malformed', () => {
    const f = Buffer.from(SV_QUIT_QUIT);
    f[46] = 0xf0; // 60-byte header in a 26-byte segment
    expect(decode(LinkType.ETHERNET, f)).toMatchObject({ kind: PacketKind.MALFORMED, truncated: false });
  });

  it('options cut by the snaplen: TCP, truncated, no payload, the header fields still there', () => {
    // As zeek-truncated-header.pcap (snaplen 68): the SYN-ACK cut inside its options.
    const p = decode(LinkType.ETHERNET, ZEEK_SYNACK.subarray(0, 56));
    expect([p.kind, p.truncated, p.flags, p.srcPort, p.payloadLength, p.payloadMissing]).toEqual([
      PacketKind.TCP, true, TcpFlag.SYN | TcpFlag.ACK, 25, 0, 0,
    ]);
    expect(tcpChecksumOk(p)).toBeNull();
  });
});

describe('IPv6 extension headers', () => {
  const base = ZEEK_IPV6_SYNACK;
  /** The real IPv6 SYN-ACK with extension headers inserted between the fixed header and TCP. */
  function withExt(exts: Array<{ type: number; bytes: Buffer }>): Buffer {
    const tcp = base.subarray(54);
    const chain: Buffer[] = [];
    for (let i = 0; i < exts.length; i++) {
      const b = Buffer.from(exts[i]!.bytes);
      b[0] = i + 1 < exts.length ? exts[i + 1]!.type : 6;
      chain.push(b);
    }
    const fixed = Buffer.from(base.subarray(14, 54));
    fixed[6] = exts.length ? exts[0]!.type : 6;
    const extLen = chain.reduce((a, b) => a + b.length, 0);
    fixed.writeUInt16BE(tcp.length + extLen, 4);
    return Buffer.concat([base.subarray(0, 14), fixed, ...chain, tcp]);
  }
  const hopByHop = { type: 0, bytes: Buffer.from([0, 0, 1, 4, 0, 0, 0, 0]) }; // PadN
  const destOpts = { type: 60, bytes: Buffer.concat([Buffer.from([0, 1, 1, 12]), Buffer.alloc(12)]) }; // 16 bytes
  const routing = { type: 43, bytes: Buffer.from([0, 0, 4, 0, 0, 0, 0, 0]) }; // segments left 0
  const atomicFragment = { type: 44, bytes: Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]) };
  const ah = { type: 51, bytes: Buffer.concat([Buffer.from([0, 4]), Buffer.alloc(22)]) }; // (4+2)*4 = 24 bytes

  it('walks hop-by-hop, destination options, routing, atomic fragment and AH to TCP', () => {
    const f = withExt([hopByHop, destOpts, routing, atomicFragment, ah]);
    const p = decode(LinkType.ETHERNET, f);
    expect(p.kind).toBe(PacketKind.TCP);
    expect([p.ipHeaderLength, p.protocol, p.l4Offset]).toEqual([40 + 8 + 16 + 8 + 8 + 24, 6, 14 + 104]);
    expect([p.srcPort, p.dstPort, p.seq]).toEqual([25, 63943, 2506332060]);
    // Upper-layer length excludes the extension headers: the real checksum still verifies.
    expect(tcpChecksumOk(p)).toBe(true);
  });

  it('a fragment header with more-fragments or an offset is IP_FRAGMENT', () => {
    const frag = { type: 44, bytes: Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]) }; // M set
    expect(decode(LinkType.ETHERNET, withExt([hopByHop, frag])).kind).toBe(PacketKind.IP_FRAGMENT);
    const later = { type: 44, bytes: Buffer.from([0, 0, 0, 8, 0, 0, 0, 1]) }; // offset 1
    expect(decode(LinkType.ETHERNET, withExt([later]))).toMatchObject({ kind: PacketKind.IP_FRAGMENT, protocol: 6 });
  });

  it('a chain running off the datagram is malformed; off the capture, malformed and truncated', () => {
    const long = { type: 60, bytes: Buffer.from([0, 255, 0, 0, 0, 0, 0, 0]) }; // claims 2048 bytes
    expect(decode(LinkType.ETHERNET, withExt([long]))).toMatchObject({ kind: PacketKind.MALFORMED, truncated: false });
    const f = withExt([hopByHop, destOpts]);
    for (let n = 54; n < 54 + 24; n++) {
      expect(decode(LinkType.ETHERNET, f.subarray(0, n))).toMatchObject({ kind: PacketKind.MALFORMED, truncated: true });
    }
  });

  it('no next header (59) is other-ip; ICMPv6 is icmp', () => {
    const f = withExt([hopByHop]);
    f[54] = 59;
    expect(decode(LinkType.ETHERNET, f).kind).toBe(PacketKind.OTHER_IP);
    f[54] = 58;
    expect(decode(LinkType.ETHERNET, f).kind).toBe(PacketKind.ICMP);
  });
});

describe.skipIf(!haveShared)('kinds from real captures', () => {
  it('zeek-smtp.pcap: DNS is udp (ports read), an ICMP error is icmp', async () => {
    const recs = await readRecords(path.join(EXTERNAL_PCAPS, 'zeek-smtp.pcap'));
    const dns = decode(recs[0]!.linkType, recs[0]!.data);
    expect(dns.kind).toBe(PacketKind.UDP);
    expect(dns.dstPort).toBe(53);
    expect(decode(recs[25]!.linkType, recs[25]!.data).kind).toBe(PacketKind.ICMP);
  });

  it('16c (snaplen 96): every data packet is TCP, truncated, with the claimed payload as missing bytes', async () => {
    const recs = await readRecords(path.join(GENERATED_DIR, '16c-large-8mib-snaplen96.pcap'));
    let cut = 0;
    for (const r of recs) {
      const p = decode(r.linkType, r.data);
      expect(p.kind).toBe(PacketKind.TCP);
      if (r.originalLength > r.data.length) {
        cut++;
        expect(p.truncated).toBe(true);
        expect(p.payloadOffset + p.payloadLength + p.payloadMissing).toBe(r.originalLength);
      }
    }
    expect(cut).toBeGreaterThan(100);
  });

  it('one DecodedPacket reused: nothing of a TCP packet leaks into the next non-TCP one', () => {
    decode(LinkType.ETHERNET, EHLO);
    expect(pkt.payloadLength).toBe(26);
    decode(147, EHLO);
    expect([pkt.payloadLength, pkt.srcPort, pkt.ipVersion, pkt.l4Offset]).toEqual([0, 0, 0, 0]);
  });
});
