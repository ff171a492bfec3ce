/**
 * Maps a stream edit onto one packet: the part of the edit that falls inside the packet's payload
 * is written in place and the TCP checksum updated per the checksum mode. Bytes that already hold
 * the new value are left alone, so applying an edit twice (the current packet and the history
 * look-up, or a retransmission) changes nothing the second time.
 */
import { applyPayloadEdit, type ChecksumMode } from '../decode/checksum.js';
import type { DecodedPacket } from '../decode/packet.js';

/**
 * Writes `bytes` (stream offset `editOffset`) into the packet whose payload starts at stream
 * offset `packetOffset`. Returns the number of bytes that actually changed.
 */
export function applyStreamEdit(
  pkt: DecodedPacket,
  packetOffset: number,
  editOffset: number,
  bytes: Uint8Array,
  mode: ChecksumMode,
): number {
  const payloadEnd = packetOffset + pkt.payloadLength;
  const start = Math.max(packetOffset, editOffset);
  const end = Math.min(payloadEnd, editOffset + bytes.length);
  if (end <= start) return 0;
  // Trim the overlap to the first..last differing byte: nothing to do when it already agrees.
  const d = pkt.data;
  const base = pkt.payloadOffset - packetOffset;
  let first = start;
  while (first < end && d[base + first] === bytes[first - editOffset]) first++;
  if (first === end) return 0;
  let last = end;
  while (last > first && d[base + last - 1] === bytes[last - 1 - editOffset]) last--;
  let changed = 0;
  for (let i = first; i < last; i++) if (d[base + i] !== bytes[i - editOffset]) changed++;
  applyPayloadEdit(pkt, first - packetOffset, bytes.subarray(first - editOffset, last - editOffset), mode);
  return changed;
}
