/**
 * Test-side model: an independent, obviously-correct encoder for pcap and pcapng (either byte
 * order, several sections) and a reader that collects records as plain copies.
 */
import { Readable } from 'node:stream';
import { openCapture, openCaptureStream, type ReadTuning } from '../../src/capture/open.js';
import type { CaptureInterface, CaptureRecord, CaptureSource, ReadStats } from '../../src/capture/types.js';

export interface Got {
  packetNumber: number;
  fileOffset: number;
  interfaceIndex: number;
  linkType: number;
  tsSec: number;
  tsNsec: number;
  timestampKnown: boolean;
  tsRawHigh: number;
  tsRawLow: number;
  captureLength: number;
  originalLength: number;
  data: Buffer;
  comments: string[] | null;
  epbFlags: number;
  /**
   * How buffer/offset and the lazy `data` view agreed for this record, checked inside the callback:
   * the bytes at buffer[offset, offset + captureLength) (read BEFORE data was first touched),
   * whether the range lies inside the buffer, and whether `data` is one cached view of those bytes.
   */
  windowBytes: Buffer;
  windowInBounds: boolean;
  dataCachedAndEqual: boolean;
}

export function copyRecord(r: CaptureRecord): Got {
  const windowInBounds = r.offset >= 0 && r.offset + r.captureLength <= r.buffer.length;
  const windowBytes = Buffer.from(r.buffer.subarray(r.offset, r.offset + r.captureLength));
  const view = r.data;
  const dataCachedAndEqual =
    view === r.data &&
    view.length === r.captureLength &&
    view.buffer === r.buffer.buffer &&
    view.byteOffset === r.buffer.byteOffset + r.offset &&
    view.equals(windowBytes);
  return {
    windowBytes,
    windowInBounds,
    dataCachedAndEqual,
    packetNumber: r.packetNumber,
    fileOffset: r.fileOffset,
    interfaceIndex: r.interfaceIndex,
    linkType: r.linkType,
    tsSec: r.tsSec,
    tsNsec: r.tsNsec,
    timestampKnown: r.timestampKnown,
    tsRawHigh: r.tsRawHigh,
    tsRawLow: r.tsRawLow,
    captureLength: r.captureLength,
    originalLength: r.originalLength,
    data: Buffer.from(r.data),
    comments: r.comments ? [...r.comments] : null,
    epbFlags: r.epbFlags,
  };
}

export interface ReadResult {
  source: CaptureSource;
  records: Got[];
  stats: ReadStats | null;
  error: unknown;
  interfacesSeen: CaptureInterface[];
}

async function drain(source: CaptureSource): Promise<ReadResult> {
  const records: Got[] = [];
  const interfacesSeen: CaptureInterface[] = [];
  try {
    const stats = await source.run(
      (r) => records.push(copyRecord(r)),
      (i) => interfacesSeen.push(i),
    );
    return { source, records, stats, error: null, interfacesSeen };
  } catch (error) {
    return { source, records, stats: null, error, interfacesSeen };
  }
}

export async function readFile(path: string, tuning?: ReadTuning): Promise<ReadResult> {
  return drain(await openCapture(path, tuning));
}

/** `bytes` cut into chunks of the given sizes (cycled; at least 1 byte each). */
export function cutInto(bytes: Buffer, cuts: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let off = 0;
  let k = 0;
  while (off < bytes.length) {
    const n = Math.max(1, cuts[k++ % cuts.length]!);
    parts.push(bytes.subarray(off, off + n));
    off += n;
  }
  return parts;
}

/** Reads `bytes` delivered in chunks cut at the given sizes (cycled), through the stream path. */
export async function readChunked(bytes: Buffer, cuts: number[] = [65536], name = 'mem'): Promise<ReadResult> {
  const parts = cutInto(bytes, cuts);
  return drain(await openCaptureStream(Readable.from(parts, { objectMode: true }), name));
}

// ---- encoders ----

export function w16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}
export function w32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}
export function w64(v: bigint, le: boolean): Buffer {
  const b = Buffer.alloc(8);
  if (le) b.writeBigUInt64LE(BigInt.asUintN(64, v));
  else b.writeBigUInt64BE(BigInt.asUintN(64, v));
  return b;
}
const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

export function option(code: number, value: Buffer, le: boolean): Buffer {
  return Buffer.concat([w16(code, le), w16(value.length, le), pad(value)]);
}
export function options(opts: Buffer[], le: boolean): Buffer {
  return opts.length ? Buffer.concat([...opts, w32(0, le)]) : Buffer.alloc(0);
}
export function block(type: number, body: Buffer, le: boolean): Buffer {
  const b = pad(body);
  const len = 12 + b.length;
  return Buffer.concat([w32(type, le), w32(len, le), b, w32(len, le)]);
}
export function shb(le: boolean, opts: Buffer[] = []): Buffer {
  return block(0x0a0d0d0a, Buffer.concat([w32(0x1a2b3c4d, le), w16(1, le), w16(0, le), w64(-1n, le), options(opts, le)]), le);
}
export function idb(le: boolean, linkType: number, snaplen: number, opts: Buffer[] = []): Buffer {
  return block(1, Buffer.concat([w16(linkType, le), w16(0, le), w32(snaplen, le), options(opts, le)]), le);
}
export function epb(le: boolean, ifId: number, ts: bigint, data: Buffer, origLen = data.length, opts: Buffer[] = []): Buffer {
  return block(
    6,
    Buffer.concat([w32(ifId, le), w32(Number(ts >> 32n), le), w32(Number(ts & 0xffffffffn), le), w32(data.length, le), w32(origLen, le), pad(data), options(opts, le)]),
    le,
  );
}
export function pcapHeader(le: boolean, ns: boolean, snaplen: number, linkType: number): Buffer {
  return Buffer.concat([w32(ns ? 0xa1b23c4d : 0xa1b2c3d4, le), w16(2, le), w16(4, le), w32(0, le), w32(0, le), w32(snaplen, le), w32(linkType, le)]);
}
export function pcapRecord(le: boolean, sec: number, frac: number, data: Buffer, origLen = data.length): Buffer {
  return Buffer.concat([w32(sec, le), w32(frac, le), w32(data.length, le), w32(origLen, le), data]);
}

/** Wall time for a count in 10^-n / 2^-n units, by BigInt (the model for the converter). */
export function modelWall(count: bigint, base: 10 | 2, exp: number, offset = 0): { tsSec: number; tsNsec: number } {
  const units = base === 10 ? 10n ** BigInt(exp) : 1n << BigInt(exp);
  return { tsSec: Number(count / units) + offset, tsNsec: Number(((count % units) * 1_000_000_000n) / units) };
}
