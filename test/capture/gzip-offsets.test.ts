/**
 * Errors in a gzip-compressed capture say which offset they give: every parser offset counts bytes
 * of the decompressed stream ("decompressed byte offset N"), and a decompression failure also says
 * where in the compressed file (how far zlib decoded cleanly, or where the compressed input ends).
 * The stable codes do not change.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/errors.js';
import { pcapHeader, pcapRecord, readFile, w32 } from './model.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-gzoff-'));

/** A pcap of `n` 1000-byte records whose bytes deflate codes with Huffman blocks (damage there is detected early). */
function noisyPcap(n: number): Buffer {
  const parts = [pcapHeader(true, false, 65535, 1)];
  for (let i = 0; i < n; i++) {
    const d = Buffer.alloc(1000);
    for (let j = 0; j < d.length; j++) d[j] = (j * 7919 + i * 31 + (j >> 5)) & 0xff;
    parts.push(pcapRecord(true, i, 0, d));
  }
  return Buffer.concat(parts);
}

function write(name: string, b: Buffer): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, b);
  return f;
}

describe('gzip error offsets', () => {
  const raw = noisyPcap(400); // 406 KB inflated
  const gz = gzipSync(raw, { level: 1 });

  it('a gzip file cut short: packets before delivered, then E_CAPTURE_GZIP at a decompressed offset, ending at the compressed length', async () => {
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    const r = await readFile(write('cut.pcap.gz', cut));
    const e = r.error as CaptureError;
    expect(e).toBeInstanceOf(CaptureError);
    expect(e.code).toBe('E_CAPTURE_GZIP');
    expect(e.decompressed).toBe(true);
    expect(r.records.length).toBeGreaterThan(0);
    // The decompressed offset is past every delivered record and within the inflated size.
    const last = r.records[r.records.length - 1]!;
    expect(e.offset!).toBeGreaterThanOrEqual(last.fileOffset + 16 + last.captureLength);
    expect(e.offset!).toBeLessThan(raw.length);
    expect(e.describe()).toMatch(new RegExp(`^.*cut\\.pcap\\.gz: decompressed byte offset ${e.offset}: gzip decompression failed: unexpected end of file \\(the compressed input ends at compressed byte offset ${cut.length}\\) \\[E_CAPTURE_GZIP\\]$`));
  });

  it('corrupt compressed bytes: the message says how far the compressed input decoded cleanly (up to the damage)', async () => {
    // A damaged CRC in the trailer: every packet is delivered, then zlib's check fails at the end.
    const badCrc = Buffer.from(gz);
    badCrc.writeUInt32LE(badCrc.readUInt32LE(gz.length - 8) ^ 1, gz.length - 8);
    // An invalid first deflate block type (BTYPE 11, right after the 10-byte gzip header): nothing decodes.
    const badStart = Buffer.from(gz);
    badStart[10] = 0xff;
    for (const [name, bytes, packets] of [['crc', badCrc, 400], ['start', badStart, 0]] as const) {
      // (nothing decodes: the failure surfaces while opening, looking for the format)
      const r = await readFile(write(`${name}.pcap.gz`, bytes)).catch((error: unknown) => ({ error, records: [] }));
      const e = r.error as CaptureError;
      expect(e.code).toBe('E_CAPTURE_GZIP');
      // Every packet zlib decoded before the failure is delivered before the error (a bad CRC in
      // the trailer: all of them).
      expect(r.records).toHaveLength(packets);
      const m = /decompressed byte offset (\d+): gzip decompression failed: .* \(compressed input decoded cleanly up to compressed byte offset (\d+)\) \[E_CAPTURE_GZIP\]$/.exec(e.describe());
      expect(m, e.describe()).not.toBeNull();
      expect(Number(m![1])).toBe(e.offset);
      // Decompressed bytes handed over when the failure surfaced: past every delivered packet.
      expect(e.offset!).toBeGreaterThanOrEqual(packets === 0 ? 0 : 24 + 1016 * r.records.length);
      expect(e.offset!).toBeLessThanOrEqual(packets === 0 ? 0 : raw.length);
      expect(Number(m![2])).toBeLessThanOrEqual(name === 'crc' ? gz.length - 8 : 10);
    }
  });

  it('a corrupt record inside gzip: the same code, its offset marked as decompressed; uncompressed input says plain "byte offset"', async () => {
    const rec = Buffer.concat([w32(1, true), w32(0, true), w32(0x7fffffff, true), w32(0x7fffffff, true)]);
    const bytes = Buffer.concat([raw.subarray(0, 24 + 1016 * 3), rec, Buffer.alloc(100)]);
    const plain = await readFile(write('big.pcap', bytes));
    const zipped = await readFile(write('big.pcap.gz', gzipSync(bytes)));
    const offset = 24 + 1016 * 3 + 8;
    for (const [r, word] of [[plain, 'byte offset'], [zipped, 'decompressed byte offset']] as const) {
      const e = r.error as CaptureError;
      expect([e.code, e.offset]).toEqual(['E_CAPTURE_RECORD_TOO_LARGE', offset]);
      expect(r.records).toHaveLength(3);
      expect(e.describe()).toContain(`: ${word} ${offset}: corrupt pcap record`);
    }
    expect((plain.error as CaptureError).decompressed).toBe(false);
  });

  it('a gzip of something that is not a capture: decompressed byte offset 0', async () => {
    const r = await readFile(write('text.gz', gzipSync(Buffer.from('hello world this is text\n')))).catch((error: unknown) => ({ error }));
    const e = r.error as CaptureError;
    expect(e.code).toBe('E_CAPTURE_BAD_MAGIC');
    expect(e.describe()).toContain('text.gz: decompressed byte offset 0: not a pcap');
  });
});
