/** Writes captured packets (test/helpers/capture-packets.ts) back as a classic µs pcap, with the header of the capture they came from. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CapturedPacket } from '../helpers/capture-packets.js';

export function writeCapturedPcap(file: string, headerFrom: string, packets: readonly CapturedPacket[]): void {
  const head = readFileSync(headerFrom).subarray(0, 24);
  if (head.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${headerFrom}: not a little-endian µs pcap`);
  const parts: Buffer[] = [head];
  for (const p of packets) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(p.tsSec, 0);
    h.writeUInt32LE(Math.floor(p.tsNsec / 1000), 4);
    h.writeUInt32LE(p.data.length, 8);
    h.writeUInt32LE(p.data.length, 12);
    parts.push(h, p.data);
  }
  writeFileSync(file, Buffer.concat(parts));
}
