/**
 * Internet checksums (RFC 1071) over decoded packets: IPv4 header, TCP over IPv4 and IPv6
 * pseudo-headers; verify, full recompute, and the RFC 1624 incremental update used when the
 * replay masks payload bytes in place.
 */
import { DecodedPacket, PacketKind } from './packet.js';

const PROTO_TCP = 6;

/**
 * Folds a (possibly large, up to 2^53) unfolded sum to 16 bits with end-around carry.
 * Division, not >>>, because the unfolded sum may exceed 32 bits.
 */
function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

/**
 * One's-complement sum of the big-endian 16-bit words of buf[start, end) (a trailing odd byte is
 * padded with zero), plus `initial`, folded to 16 bits but NOT complemented.
 *
 * Speed: word (a,b) + word (c,d) = (a+c)*256 + (b+d), so even and odd bytes are summed apart and
 * combined once; folding is deferred to the end (a double holds the exact sum for any capture).
 */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let hi = 0;
  let lo = 0;
  let i = start;
  const evenEnd = start + ((end - start) & ~1);
  const unrolledEnd = start + ((end - start) & ~7);
  for (; i < unrolledEnd; i += 8) {
    hi += buf[i]! + buf[i + 2]! + buf[i + 4]! + buf[i + 6]!;
    lo += buf[i + 1]! + buf[i + 3]! + buf[i + 5]! + buf[i + 7]!;
  }
  for (; i < evenEnd; i += 2) {
    hi += buf[i]!;
    lo += buf[i + 1]!;
  }
  if (i < end) hi += buf[i]!;
  return fold(hi * 256 + lo + initial);
}

function headerComplete(pkt: DecodedPacket): boolean {
  return pkt.ipVersion === 4 && pkt.ipHeaderLength >= 20 && pkt.l3Offset + pkt.ipHeaderLength <= pkt.data.length;
}

/**
 * True when the IPv4 header checksum verifies. False for anything without a complete IPv4 header
 * (IPv6 has no header checksum: check `ipVersion` first).
 */
export function ipv4HeaderChecksumOk(pkt: DecodedPacket): boolean {
  if (!headerComplete(pkt)) return false;
  return onesComplementSum(pkt.data, pkt.l3Offset, pkt.l3Offset + pkt.ipHeaderLength) === 0xffff;
}

/** The IPv4 header checksum the header should carry (its checksum field taken as zero). */
export function computeIpv4HeaderChecksum(pkt: DecodedPacket): number {
  if (!headerComplete(pkt)) throw new RangeError('computeIpv4HeaderChecksum: no complete IPv4 header');
  const d = pkt.data;
  const off = pkt.l3Offset;
  const sum = onesComplementSum(d, off, off + pkt.ipHeaderLength);
  const stored = (d[off + 10]! << 8) | d[off + 11]!;
  // Removing the stored field = adding its complement.
  return ~fold(sum + (~stored & 0xffff)) & 0xffff;
}

/** Writes the IPv4 header checksum field. */
export function writeIpv4HeaderChecksum(pkt: DecodedPacket, value: number): void {
  const off = pkt.l3Offset + 10;
  pkt.data[off] = (value >> 8) & 0xff;
  pkt.data[off + 1] = value & 0xff;
}

/** Sum of the pseudo-header: addresses, protocol 6, TCP length (from the IP length fields). */
function pseudoHeaderSum(pkt: DecodedPacket, tcpLength: number): number {
  const d = pkt.data;
  // The final destination when a source route / Routing header is still under way (decode.ts).
  const dst = pkt.pseudoDstOffset !== 0 ? pkt.pseudoDstOffset : pkt.dstAddrOffset;
  let sum = onesComplementSum(d, pkt.srcAddrOffset, pkt.srcAddrOffset + pkt.addrLength);
  sum += onesComplementSum(d, dst, dst + pkt.addrLength);
  // IPv4: zero, protocol, 16-bit length. IPv6: 32-bit length, 3 zero bytes, next header.
  // Both add up to protocol + length (+ the high 16 bits of an IPv6 length, which fit in 16 bits here).
  return sum + PROTO_TCP + (tcpLength & 0xffff) + Math.floor(tcpLength / 0x10000);
}

function tcpComplete(pkt: DecodedPacket): boolean {
  return pkt.kind === PacketKind.TCP && !pkt.truncated && pkt.payloadMissing === 0;
}

/**
 * The TCP checksum the segment should carry (stored checksum field taken as zero), over the IPv4
 * or IPv6 pseudo-header. Needs the whole segment: throws RangeError on a truncated/non-TCP packet
 * (a programming error: check tcpChecksumOk() !== null first).
 */
export function computeTcpChecksum(pkt: DecodedPacket): number {
  if (!tcpComplete(pkt)) throw new RangeError('computeTcpChecksum: not a complete TCP segment');
  const d = pkt.data;
  const l4 = pkt.l4Offset;
  const end = pkt.ipEnd;
  const csum = pkt.tcpChecksumOffset;
  let sum = pseudoHeaderSum(pkt, end - l4);
  // The checksum field sits at an even offset from the TCP header, so skipping it keeps alignment.
  sum += onesComplementSum(d, l4, csum);
  sum += onesComplementSum(d, csum + 2, end);
  return ~fold(sum) & 0xffff;
}

/**
 * Whether the stored TCP checksum verifies; null when it cannot be judged (not TCP, or the capture
 * cut the segment so the bytes to sum are missing).
 */
export function tcpChecksumOk(pkt: DecodedPacket): boolean | null {
  if (!tcpComplete(pkt)) return null;
  const sum = pseudoHeaderSum(pkt, pkt.ipEnd - pkt.l4Offset) + onesComplementSum(pkt.data, pkt.l4Offset, pkt.ipEnd);
  // The sum over everything, stored checksum included, is 0xFFFF (negative zero) when valid.
  return fold(sum) === 0xffff;
}

/** Stores a TCP checksum in the packet bytes and in the decoded view. */
export function writeTcpChecksum(pkt: DecodedPacket, value: number): void {
  const off = pkt.tcpChecksumOffset;
  pkt.data[off] = (value >> 8) & 0xff;
  pkt.data[off + 1] = value & 0xff;
  pkt.tcpChecksum = value & 0xffff;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >> 8);
}

/**
 * RFC 1624 eqn 3 over already-computed sums: HC' = ~(~HC + ~m + m').
 * `oldSum`/`newSum` are the folded one's-complement sums of the old and new words.
 */
function adjustBySums(checksum: number, oldSum: number, newSum: number): number {
  if (oldSum === newSum) return checksum; // Errata 4782: no change must not turn 0x0000 into 0xFFFF.
  const result = ~fold((~checksum & 0xffff) + (~oldSum & 0xffff) + newSum) & 0xffff;
  // 0xFFFF and 0x0000 are the same one's-complement value; a full recompute over data that is not
  // all zero never yields 0xFFFF, so report the form a recompute would give.
  return result === 0xffff ? 0 : result;
}

/**
 * RFC 1624 incremental update of a checksum after `oldBytes` were replaced by `newBytes` (same
 * length). `oddOffset`: the edit starts at an odd byte offset from the start of the checksummed
 * data (the TCP header), so its first byte is the low byte of a 16-bit word. Works because
 * swapping the bytes of every word swaps the bytes of the one's-complement sum (RFC 1071 §2(B)).
 * A checksum that was wrong stays wrong by the same amount.
 */
export function adjustChecksum(checksum: number, oldBytes: Uint8Array, newBytes: Uint8Array, oddOffset: boolean): number {
  if (oldBytes.length !== newBytes.length) throw new RangeError('adjustChecksum: old and new lengths differ');
  let oldSum = onesComplementSum(oldBytes, 0, oldBytes.length);
  let newSum = onesComplementSum(newBytes, 0, newBytes.length);
  if (oddOffset) {
    oldSum = swap16(oldSum);
    newSum = swap16(newSum);
  }
  return adjustBySums(checksum, oldSum, newSum);
}

export type ChecksumMode = 'incremental' | 'fix' | 'keep';

/**
 * Overwrites pkt.data at payload offset `payloadIndex` with `newBytes` (same length, in place) and
 * updates the TCP checksum per `mode`:
 *  - incremental: RFC 1624 update (valid stays valid, wrong stays wrong by the same amount);
 *  - fix: full recompute — or incremental when the capture cut the segment, since the bytes a
 *    recompute needs are not there;
 *  - keep: checksum untouched.
 * No allocation: the old words are summed in place before being overwritten.
 */
export function applyPayloadEdit(pkt: DecodedPacket, payloadIndex: number, newBytes: Uint8Array, mode: ChecksumMode): void {
  if (pkt.kind !== PacketKind.TCP) throw new RangeError('applyPayloadEdit: not a TCP packet');
  if (payloadIndex < 0 || payloadIndex + newBytes.length > pkt.payloadLength) {
    throw new RangeError(`applyPayloadEdit: edit [${payloadIndex}, +${newBytes.length}) outside payload of ${pkt.payloadLength}`);
  }
  const d = pkt.data;
  const start = pkt.payloadOffset + payloadIndex;
  const end = start + newBytes.length;
  const oddOffset = ((start - pkt.l4Offset) & 1) === 1;
  const needSums = mode === 'incremental' || (mode === 'fix' && !tcpComplete(pkt));
  let oldSum = 0;
  if (needSums) oldSum = onesComplementSum(d, start, end);
  d.set(newBytes, start);
  if (mode === 'keep') return;
  if (!needSums) {
    writeTcpChecksum(pkt, computeTcpChecksum(pkt));
    return;
  }
  let newSum = onesComplementSum(d, start, end);
  if (oddOffset) {
    oldSum = swap16(oldSum);
    newSum = swap16(newSum);
  }
  writeTcpChecksum(pkt, adjustBySums(pkt.tcpChecksum, oldSum, newSum));
}

/**
 * Clears TCP flag bits in place (a normaliser's header edit: the ASA clears URG by default) and
 * updates the TCP checksum per `mode`, as applyPayloadEdit does for payload bytes. The flags byte
 * is the low byte of the header's seventh 16-bit word, so the incremental update is one word.
 */
export function clearTcpFlags(pkt: DecodedPacket, bits: number, mode: ChecksumMode): void {
  if (pkt.kind !== PacketKind.TCP) throw new RangeError('clearTcpFlags: not a TCP packet');
  const d = pkt.data;
  const i = pkt.l4Offset + 13;
  const oldWord = (d[i - 1]! << 8) | d[i]!;
  d[i] = d[i]! & ~bits & 0xff;
  pkt.flags &= ~bits;
  if (mode === 'keep') return;
  if (mode === 'fix' && tcpComplete(pkt)) {
    writeTcpChecksum(pkt, computeTcpChecksum(pkt));
    return;
  }
  writeTcpChecksum(pkt, adjustBySums(pkt.tcpChecksum, oldWord, (d[i - 1]! << 8) | d[i]!));
}
