/**
 * Test-only: the records of a capture for decode tests. Uses the project's reader (openCapture)
 * when it exists; until then a minimal classic-pcap reader (whole file in memory; test files are small).
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/shared.js';

export interface TestRecord {
  number: number;
  linkType: number;
  data: Buffer;
  originalLength: number;
}

interface CaptureRecordLike {
  packetNumber: number;
  linkType: number;
  data: Buffer;
  originalLength: number;
}
interface OpenModule {
  openCapture(p: string): Promise<{ run(cb: (r: CaptureRecordLike) => void): Promise<unknown> }>;
}

const OPEN_TS = path.join(REPO_ROOT, 'src/capture/open.ts');

/** Every record of a capture (copied: the reader's views are valid only during its callback). */
export async function readRecords(file: string): Promise<TestRecord[]> {
  if (existsSync(OPEN_TS)) {
    const mod = (await import('../../src/capture/open.js' as string)) as OpenModule;
    const src = await mod.openCapture(file);
    const out: TestRecord[] = [];
    await src.run((r) => {
      out.push({ number: r.packetNumber, linkType: r.linkType, data: Buffer.from(r.data), originalLength: r.originalLength });
    });
    return out;
  }
  return readClassicPcap(readFileSync(file));
}

/** Minimal classic pcap parser (both byte orders, us/ns): enough for tests, not for input we do not control. */
export function readClassicPcap(buf: Buffer): TestRecord[] {
  const magicLE = buf.readUInt32LE(0);
  let le: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) le = true;
  else if (buf.readUInt32BE(0) === 0xa1b2c3d4 || buf.readUInt32BE(0) === 0xa1b23c4d) le = false;
  else throw new Error('not a classic pcap');
  const r32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = r32(20) & 0xffff;
  const out: TestRecord[] = [];
  let off = 24;
  let n = 0;
  while (off + 16 <= buf.length) {
    const caplen = r32(off + 8);
    const origlen = r32(off + 12);
    if (off + 16 + caplen > buf.length) throw new Error(`record at ${off} runs off the file`);
    out.push({ number: ++n, linkType, data: Buffer.from(buf.subarray(off + 16, off + 16 + caplen)), originalLength: origlen });
    off += 16 + caplen;
  }
  return out;
}

/** A classic little-endian microsecond pcap holding the given frames (for building test inputs). */
export function buildPcap(linkType: number, frames: readonly Buffer[], snaplen = 262144): Buffer {
  const parts: Buffer[] = [];
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(snaplen, 16);
  hdr.writeUInt32LE(linkType, 20);
  parts.push(hdr);
  frames.forEach((f, i) => {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(1_700_000_000 + i, 0);
    rh.writeUInt32LE(f.length, 8);
    rh.writeUInt32LE(f.length, 12);
    parts.push(rh, f);
  });
  return Buffer.concat(parts);
}
