/**
 * CaptureSource.littleEndian and timePrecisionDigits: the byte order comes from the pcap header or
 * the first section header (not from an interface, so a section with no IDB still has one), and the
 * precision is null — unknown — while no interface has been seen.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openCaptureStream } from '../../src/capture/open.js';
import { epb, idb, option, pcapHeader, pcapRecord, readChunked, readFile, shb } from './model.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-byteorder-'));

describe.each([true, false])('byte order and precision (little-endian %s)', (le) => {
  it('a pcapng holding only a section header: byte order known, precision unknown (file and stream)', async () => {
    const bytes = shb(le);
    const f = path.join(tmp, `shb-${le}.pcapng`);
    fs.writeFileSync(f, bytes);
    for (const r of [await readFile(f), await readChunked(bytes, [5])]) {
      expect(r.error).toBeNull();
      expect(r.source.interfaces).toHaveLength(0);
      expect(r.source.littleEndian).toBe(le);
      expect(r.source.timePrecisionDigits).toBeNull();
    }
  });

  it('the first section decides the byte order; the finest interface the precision', async () => {
    const r = await readChunked(
      Buffer.concat([shb(le), idb(le, 1, 0), epb(le, 0, 1n, Buffer.alloc(20)), shb(!le), idb(!le, 1, 0, [option(9, Buffer.from([9]), !le)])]),
    );
    expect(r.error).toBeNull();
    expect(r.source.littleEndian).toBe(le);
    expect(r.source.timePrecisionDigits).toBe(9);
  });

  it('2^-n resolutions give all 9 nanosecond digits (as tshark frame.time_epoch: a 2^-n tick is no whole number of 10^-k s)', async () => {
    const r = await readChunked(Buffer.concat([shb(le), idb(le, 1, 0, [option(9, Buffer.from([0x80 | 20]), le)])]));
    expect(r.source.timePrecisionDigits).toBe(9); // 2^-20 s = 953.67431640625 ns
  });

  it.each([false, true])('pcap (nanosecond %s): from the file header, before any record', async (ns) => {
    const r = await readChunked(Buffer.concat([pcapHeader(le, ns, 65535, 1), pcapRecord(le, 1, 2, Buffer.alloc(20))]));
    expect(r.error).toBeNull();
    expect(r.source.littleEndian).toBe(le);
    expect(r.source.timePrecisionDigits).toBe(ns ? 9 : 6);
  });
});

it('before run() a pcapng source does not know its byte order yet', async () => {
  const src = await openCaptureStream(Readable.from([shb(false)], { objectMode: true }), 'mem');
  expect(src.littleEndian).toBeNull();
  expect(src.timePrecisionDigits).toBeNull();
  await src.run(() => undefined);
  expect(src.littleEndian).toBe(false);
});
