/**
 * The regular-file path (chunk reads in flight on the thread pool, each buffer with a reserve for
 * the record cut by the previous chunk's end, and the growable-window fallback for units longer
 * than the reserve), run with tiny random chunk/reserve sizes and read depths so that boundaries
 * fall everywhere: the same records as
 * the stream path, buffer/offset agreeing with data, truncation errors at the right offset after
 * every earlier record, stop() after the current record.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import fs, { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CaptureError } from '../../src/errors.js';
import { openCapture } from '../../src/capture/open.js';
import { epb, idb, option, pcapHeader, pcapRecord, readChunked, readFile, shb, type Got } from './model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'si-readahead-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
let n = 0;
function tmpFileWith(bytes: Buffer, ext: string): string {
  const f = path.join(tmp, `f${n++}.${ext}`);
  writeFileSync(f, bytes);
  return f;
}

const tuning = fc.record({ chunkBytes: fc.integer({ min: 1, max: 400 }), reserveBytes: fc.integer({ min: 0, max: 300 }), readDepth: fc.integer({ min: 1, max: 4 }) });
const bytes = fc.uint8Array({ maxLength: 250 }).map((a) => Buffer.from(a));

function expectSameRecords(got: Got[], want: Got[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect([g.packetNumber, g.fileOffset, g.interfaceIndex, g.linkType, g.tsSec, g.tsNsec, g.tsRawHigh, g.tsRawLow, g.captureLength, g.originalLength, g.comments, g.epbFlags]).toEqual([
      w.packetNumber,
      w.fileOffset,
      w.interfaceIndex,
      w.linkType,
      w.tsSec,
      w.tsNsec,
      w.tsRawHigh,
      w.tsRawLow,
      w.captureLength,
      w.originalLength,
      w.comments,
      w.epbFlags,
    ]);
    expect(g.data.equals(w.data)).toBe(true);
    expect(g.windowInBounds).toBe(true);
    expect(g.windowBytes.equals(w.data)).toBe(true);
    expect(g.dataCachedAndEqual).toBe(true);
  });
}

function pcapFile(le: boolean, recs: { sec: number; frac: number; data: Buffer }[]): Buffer {
  return Buffer.concat([pcapHeader(le, false, 65535, 1), ...recs.map((r) => pcapRecord(le, r.sec, r.frac, r.data))]);
}
const pcapRecs = fc.array(fc.record({ sec: fc.nat(), frac: fc.integer({ min: 0, max: 999_999 }), data: bytes }), { maxLength: 25 });

function pcapngFile(le: boolean, packets: { data: Buffer; comment: string | null }[]): Buffer {
  return Buffer.concat([
    shb(le),
    idb(le, 1, 65535),
    ...packets.map((p, i) => epb(le, 0, BigInt(i) * 1_000_001n, p.data, p.data.length, p.comment === null ? [] : [option(1, Buffer.from(p.comment, 'utf8'), le)])),
  ]);
}
const pcapngPackets = fc.array(fc.record({ data: bytes, comment: fc.option(fc.string({ maxLength: 20 }), { nil: null }) }), { maxLength: 20 });

describe('regular-file read-ahead', () => {
  it('pcap: any chunk and reserve size gives the records of the stream path; bytes = file size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), pcapRecs, tuning, async (le, recs, t) => {
        const file = pcapFile(le, recs);
        const want = await readChunked(file);
        const got = await readFile(tmpFileWith(file, 'pcap'), t);
        expect(got.error).toBeNull();
        expectSameRecords(got.records, want.records);
        expect(got.stats).toEqual(want.stats);
        expect(got.stats!.bytes).toBe(file.length);
      }),
      { numRuns: 200 },
    );
  });

  it('pcapng: any chunk and reserve size gives the records of the stream path (comments, offsets)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), pcapngPackets, tuning, async (le, packets, t) => {
        const file = pcapngFile(le, packets);
        const want = await readChunked(file);
        expect(want.error).toBeNull();
        const got = await readFile(tmpFileWith(file, 'pcapng'), t);
        expect(got.error).toBeNull();
        expectSameRecords(got.records, want.records);
        expect(got.stats).toEqual(want.stats);
      }),
      { numRuns: 150 },
    );
  });

  it('a file cut anywhere: every record before the cut delivered, then E_CAPTURE_TRUNCATED at the cut record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), pcapRecs, tuning, fc.nat(), async (le, recs, t, cutSeed) => {
        const file = pcapFile(le, recs);
        fc.pre(file.length > 24);
        const cutAt = 24 + (cutSeed % (file.length - 24));
        const whole = await readChunked(file);
        const inside = whole.records.filter((r) => r.fileOffset + 16 + r.captureLength > cutAt);
        const got = await readFile(tmpFileWith(file.subarray(0, cutAt), 'pcap'), t);
        expectSameRecords(got.records, whole.records.slice(0, whole.records.length - inside.length));
        if (inside.length === 0 || inside[0]!.fileOffset === cutAt) {
          expect(got.error).toBeNull();
        } else {
          const e = got.error as CaptureError;
          expect(e).toBeInstanceOf(CaptureError);
          expect([e.code, e.offset]).toEqual(['E_CAPTURE_TRUNCATED', inside[0]!.fileOffset]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('records longer than the reserve switch to the window path mid-file and still read whole', async () => {
    const recs = Array.from({ length: 40 }, (_, i) => ({ sec: i, frac: i, data: Buffer.alloc(i % 5 === 0 ? 3000 + i : 40 + i, i) }));
    const file = pcapFile(true, recs);
    const got = await readFile(tmpFileWith(file, 'pcap'), { chunkBytes: 1000, reserveBytes: 100 });
    expect(got.error).toBeNull();
    expectSameRecords(got.records, (await readChunked(file)).records);
  });

  it('random and length-mangled inputs: only CaptureErrors, allocations bounded by the bytes present', async () => {
    const magic = fc.constantFrom('d4c3b2a1', 'a1b2c3d4', '4d3cb2a1', '0a0d0d0a4d3c2b1a', '0a0d0d0a1a2b3c4d', '');
    const real = Buffer.allocUnsafe;
    await fc.assert(
      fc.asyncProperty(magic, fc.uint8Array({ maxLength: 600 }), tuning, async (m, body, t) => {
        const input = Buffer.concat([Buffer.from(m, 'hex'), Buffer.from(body)]);
        const f = tmpFileWith(input, 'bin');
        let biggest = 0;
        const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
          biggest = Math.max(biggest, size);
          return real(size);
        });
        try {
          const r = await readFile(f, t);
          if (r.error !== null && !(r.error instanceof CaptureError)) throw r.error;
        } catch (err) {
          if (!(err instanceof CaptureError)) throw err;
        } finally {
          spy.mockRestore();
        }
        expect(biggest).toBeLessThanOrEqual(2 * (input.length + t.reserveBytes + t.chunkBytes) + t.chunkBytes);
      }),
      { numRuns: 300 },
    );
  });

  it('short reads from the thread pool are filled up, never leave a hole', async () => {
    const realRead = fs.read;
    let shortened = 0;
    // Every pool read returns at most 7 bytes (as a read interrupted early would).
    vi.spyOn(fs, 'read').mockImplementation(((fd: number, buf: Buffer, off: number, len: number, pos: number | null, cb: (e: NodeJS.ErrnoException | null, n: number, b: Buffer) => void) => {
      if (len > 7) shortened++;
      return realRead(fd, buf, off, Math.min(len, 7), pos, cb);
    }) as unknown as typeof fs.read);
    const recs = Array.from({ length: 30 }, (_, i) => ({ sec: i, frac: i, data: Buffer.alloc(20 + i, i) }));
    const file = pcapFile(false, recs);
    const got = await readFile(tmpFileWith(file, 'pcap'), { chunkBytes: 100, reserveBytes: 64, readDepth: 2 });
    vi.restoreAllMocks();
    expect(shortened).toBeGreaterThan(5);
    expect(got.error).toBeNull();
    expectSameRecords(got.records, (await readChunked(file)).records);
  });

  it('stop() in a callback ends the read after that record', async () => {
    const recs = Array.from({ length: 50 }, (_, i) => ({ sec: i, frac: 0, data: Buffer.alloc(30, i) }));
    const file = tmpFileWith(pcapFile(true, recs), 'pcap');
    const src = await openCapture(file, { chunkBytes: 128, reserveBytes: 64 });
    const seen: number[] = [];
    const stats = await src.run((r) => {
      seen.push(r.packetNumber);
      if (r.packetNumber === 7) src.stop();
    });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(stats.packets).toBe(7);
    expect(stats.bytes).toBe(24 + 7 * 46);
  });

  it('an exception thrown by the consumer propagates (after the in-flight read settles) and nothing more is delivered', async () => {
    const recs = Array.from({ length: 20 }, (_, i) => ({ sec: i, frac: 0, data: Buffer.alloc(30, i) }));
    const src = await openCapture(tmpFileWith(pcapFile(true, recs), 'pcap'), { chunkBytes: 200, reserveBytes: 64 });
    const seen: number[] = [];
    await expect(
      src.run((r) => {
        seen.push(r.packetNumber);
        if (r.packetNumber === 5) throw new Error('consumer failed');
      }),
    ).rejects.toThrow('consumer failed');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });
});
