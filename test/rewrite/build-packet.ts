/**
 * Hand-made Ethernet/IPv4|IPv6/TCP frames for rewrite tests, with checksums computed by an
 * independent, deliberately naive RFC 1071 implementation (the oracle for the code under test).
 */
export interface FrameSpec {
  ipVersion: 4 | 6;
  src: number[];
  dst: number[];
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
  /** Store a checksum off by this much (offload-style wrong checksum) instead of the right one. */
  checksumError?: number;
}

export function naiveSum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export function tcpChecksumOf(frame: Buffer, ipVersion: 4 | 6): number {
  const l3 = 14;
  const ipHl = ipVersion === 4 ? (frame[l3]! & 0x0f) * 4 : 40;
  const l4 = l3 + ipHl;
  const tcpLen = frame.length - l4;
  const pseudo: number[] = [];
  if (ipVersion === 4) pseudo.push(...frame.subarray(l3 + 12, l3 + 20), 0, 6, tcpLen >> 8, tcpLen & 0xff);
  else pseudo.push(...frame.subarray(l3 + 8, l3 + 40), 0, 0, tcpLen >> 8, tcpLen & 0xff, 0, 0, 0, 6);
  const seg = [...frame.subarray(l4)];
  seg[16] = 0;
  seg[17] = 0;
  return ~naiveSum([...pseudo, ...seg]) & 0xffff;
}

export function storedTcpChecksum(frame: Buffer, ipVersion: 4 | 6): number {
  const ipHl = ipVersion === 4 ? (frame[14]! & 0x0f) * 4 : 40;
  return frame.readUInt16BE(14 + ipHl + 16);
}

export function buildFrame(s: FrameSpec): Buffer {
  const ipHl = s.ipVersion === 4 ? 20 : 40;
  const tcpLen = 20 + s.payload.length;
  const buf = Buffer.alloc(14 + ipHl + tcpLen);
  Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]).copy(buf, 0);
  buf.writeUInt16BE(s.ipVersion === 4 ? 0x0800 : 0x86dd, 12);
  const l3 = 14;
  if (s.ipVersion === 4) {
    buf[l3] = 0x45;
    buf.writeUInt16BE(ipHl + tcpLen, l3 + 2);
    buf.writeUInt16BE(0x1234, l3 + 4);
    buf.writeUInt16BE(0x4000, l3 + 6);
    buf[l3 + 8] = 64;
    buf[l3 + 9] = 6;
    Buffer.from(s.src).copy(buf, l3 + 12);
    Buffer.from(s.dst).copy(buf, l3 + 16);
    buf.writeUInt16BE(~naiveSum([...buf.subarray(l3, l3 + 20)]) & 0xffff, l3 + 10);
  } else {
    buf[l3] = 0x60;
    buf.writeUInt16BE(tcpLen, l3 + 4);
    buf[l3 + 6] = 6;
    buf[l3 + 7] = 64;
    Buffer.from(s.src).copy(buf, l3 + 8);
    Buffer.from(s.dst).copy(buf, l3 + 24);
  }
  const l4 = l3 + ipHl;
  buf.writeUInt16BE(s.srcPort, l4);
  buf.writeUInt16BE(s.dstPort, l4 + 2);
  buf.writeUInt32BE(s.seq >>> 0, l4 + 4);
  buf.writeUInt32BE(s.ack >>> 0, l4 + 8);
  buf[l4 + 12] = 0x50;
  buf[l4 + 13] = s.flags;
  buf.writeUInt16BE(65535, l4 + 14);
  s.payload.copy(buf, l4 + 20);
  const right = tcpChecksumOf(buf, s.ipVersion);
  buf.writeUInt16BE((right + (s.checksumError ?? 0)) & 0xffff, l4 + 16);
  return buf;
}

export const V4_CLIENT = [10, 0, 0, 1];
export const V4_SERVER = [10, 0, 0, 2];
export const V6_CLIENT = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
export const V6_SERVER = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/** A minimal classic pcap (Ethernet, microseconds) holding `frames`, for tshark cross-checks. */
export function pcapFile(frames: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(262144, 16);
  gh.writeUInt32LE(1, 20);
  parts.push(gh);
  frames.forEach((f, i) => {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1_700_000_000 + i, 0);
    rh.writeUInt32LE(0, 4);
    rh.writeUInt32LE(f.length, 8);
    rh.writeUInt32LE(f.length, 12);
    parts.push(rh, f);
  });
  return Buffer.concat(parts);
}
