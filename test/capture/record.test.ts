/**
 * CaptureRecord's two views of the same bytes: buffer/offset (set by readers without allocating)
 * and the lazily made, cached `data` view (what existing consumers and writers use).
 */
import { describe, expect, it } from 'vitest';
import { CaptureRecord } from '../../src/capture/types.js';
import { Readable } from 'node:stream';
import { openCaptureStream } from '../../src/capture/open.js';
import { epb, idb, option, pcapHeader, pcapRecord, readChunked, shb } from './model.js';

describe('CaptureRecord', () => {
  it('setBytes points at a window range; data is made on first access, cached, and remade after re-pointing', () => {
    const window = Buffer.from('0123456789abcdef', 'latin1');
    const rec = new CaptureRecord();
    rec.setBytes(window, 4, 3);
    expect([rec.buffer, rec.offset, rec.captureLength]).toEqual([window, 4, 3]);
    const first = rec.data;
    expect(first.toString('latin1')).toBe('456');
    expect(rec.data).toBe(first);
    expect(first.buffer).toBe(window.buffer); // a view, not a copy
    rec.setBytes(window, 10, 2);
    expect(rec.data).not.toBe(first);
    expect(rec.data.toString('latin1')).toBe('ab');
  });

  it('assigning data (live capture, tests) re-points buffer/offset/captureLength at it', () => {
    const rec = new CaptureRecord();
    rec.setBytes(Buffer.alloc(100), 50, 10);
    const bytes = Buffer.from('hello', 'latin1');
    rec.data = bytes;
    expect(rec.data).toBe(bytes);
    expect([rec.buffer, rec.offset, rec.captureLength]).toEqual([bytes, 0, 5]);
  });

  it('a fresh record has empty bytes and no comments', () => {
    const rec = new CaptureRecord();
    expect(rec.data.length).toBe(0);
    expect([rec.offset, rec.captureLength, rec.comments]).toEqual([0, 0, null]);
  });

  it('readers re-point one record object: buffer/offset address the record inside the read window', async () => {
    const a = Buffer.from('first packet', 'latin1');
    const b = Buffer.from('second', 'latin1');
    const file = Buffer.concat([pcapHeader(true, false, 65535, 1), pcapRecord(true, 1, 2, a), pcapRecord(true, 3, 4, b)]);
    const seen: { rec: CaptureRecord; offset: number; bufferLength: number; bytes: string }[] = [];
    const src = await openCaptureStream(Readable.from([file], { objectMode: true }), 'mem');
    await src.run((rec) => seen.push({ rec, offset: rec.offset, bufferLength: rec.buffer.length, bytes: rec.buffer.toString('latin1', rec.offset, rec.offset + rec.captureLength) }));
    expect(seen.map((s) => s.bytes)).toEqual(['first packet', 'second']);
    expect(seen[0]!.rec).toBe(seen[1]!.rec);
    // File header 24 + record header 16; the second record follows the first's 12 bytes and its header.
    expect(seen.map((s) => s.offset)).toEqual([40, 68]);
    expect(seen[0]!.bufferLength).toBeGreaterThan(file.length); // the window, not the record
  });

  it('pcapng EPBs without options leave comments null and flags 0; a record after one with comments does not inherit them', async () => {
    const le = true;
    const comment = option(1, Buffer.from('hello', 'latin1'), le);
    const file = Buffer.concat([shb(le), idb(le, 1, 65535, []), epb(le, 0, 1n, Buffer.from('aa', 'hex'), 1, [comment]), epb(le, 0, 2n, Buffer.from('bb', 'hex'), 1, [])]);
    const got = await readChunked(file, [7]);
    expect(got.error).toBeNull();
    expect(got.records.map((r) => [r.comments, r.epbFlags, r.data.toString('hex')])).toEqual([
      [['hello'], 0, 'aa'],
      [null, 0, 'bb'],
    ]);
  });
});
