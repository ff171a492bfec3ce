/**
 * Real captures: every file of the shared corpus reads without error and round-trips (pcap byte
 * for byte); files made here with real tools' checks: big-endian pcap and multi-section pcapng
 * read by tshark, comments shown as frame.comment, gzip, a file cut inside a record.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { CaptureError } from '../../src/errors.js';
import { openCapture } from '../../src/capture/open.js';
import { createPcapWriter } from '../../src/capture/pcap-writer.js';
import { createWriterLike } from '../../src/capture/writer-like.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { epb, idb, option, readChunked, readFile, shb } from './model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'si-corpus-'));
const captures = haveShared
  ? [GENERATED_DIR, EXTERNAL_PCAPS].flatMap((d) => readdirSync(d).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(d, f)))
  : [];
const haveTshark = haveTool('tshark');

/** tshark's view of a file: per packet time, lengths, interface, comment. */
function tsharkView(file: string): string {
  return tshark(['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id', '-e', 'frame.comment']);
}

describe.skipIf(!haveShared)('shared corpus', () => {
  it('has captures to test', () => {
    expect(captures.length).toBeGreaterThan(30);
  });

  it.each(captures.map((f) => [path.basename(f), f]))('%s reads cleanly and round-trips', async (_name, file) => {
    const r = await readFile(file);
    expect(r.error).toBeNull();
    expect(r.records.length).toBeGreaterThan(0);
    expect(r.stats!.bytes).toBe(readFileSync(file).length);
    // The chunked stream path gives the same records.
    const c = await readChunked(readFileSync(file), [4093, 17]);
    expect(c.records.map((x) => [x.fileOffset, x.tsSec, x.tsNsec, x.data.toString('hex')])).toEqual(r.records.map((x) => [x.fileOffset, x.tsSec, x.tsNsec, x.data.toString('hex')]));

    const out = path.join(tmp, 'rt-' + path.basename(file));
    const src = await openCapture(file);
    const w = createWriterLike(src, out);
    await src.run((rec) => w.write(rec, rec.comments));
    await w.close();
    if (src.format === 'pcap') {
      expect(readFileSync(out).equals(readFileSync(file))).toBe(true);
    } else {
      const back = await readFile(out);
      expect(back.records.map((x) => [x.interfaceIndex, x.tsSec, x.tsNsec, x.originalLength, x.data.toString('hex'), x.comments])).toEqual(
        r.records.map((x) => [x.interfaceIndex, x.tsSec, x.tsNsec, x.originalLength, x.data.toString('hex'), x.comments]),
      );
      if (haveTshark) expect(tsharkView(out)).toBe(tsharkView(file));
    }
  });

  it('a real capture cut inside a record: every earlier packet delivered, error names file and offset', async () => {
    const file = path.join(GENERATED_DIR, '02-ehlo-basic.pcap');
    const full = await readFile(file);
    const third = full.records[2]!;
    const cutAt = third.fileOffset + 16 + 5;
    const cut = path.join(tmp, 'cut.pcap');
    writeFileSync(cut, readFileSync(file).subarray(0, cutAt));
    const r = await readFile(cut);
    expect(r.records).toHaveLength(2);
    const e = r.error as CaptureError;
    expect(e).toBeInstanceOf(CaptureError);
    expect(e.code).toBe('E_CAPTURE_TRUNCATED');
    expect(e.offset).toBe(third.fileOffset);
    expect(e.describe()).toContain(`${cut}: byte offset ${third.fileOffset}`);
  });

  it.each([['02-ehlo-basic.pcap'], ['18c-dumpcap-pcapng.pcapng']])('reads %s gzip-compressed (made with zlib) transparently', async (name) => {
    const file = path.join(GENERATED_DIR, name);
    const gz = path.join(tmp, name + '.gz');
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const plain = await readFile(file);
    const r = await readFile(gz);
    expect(r.error).toBeNull();
    expect(r.source.gzip).toBe(true);
    expect(r.records.map((x) => x.data.toString('hex'))).toEqual(plain.records.map((x) => x.data.toString('hex')));
  });

  it('a gzip file cut short: packets before delivered, then E_CAPTURE_GZIP', async () => {
    const file = path.join(GENERATED_DIR, '16a-large-8mib.pcap');
    const gz = gzipSync(readFileSync(file));
    const cut = path.join(tmp, 'cut.pcap.gz');
    writeFileSync(cut, gz.subarray(0, gz.length >> 1));
    const r = await readFile(cut);
    expect(r.records.length).toBeGreaterThan(10);
    expect((r.error as CaptureError).code).toBe('E_CAPTURE_GZIP');
    expect((r.error as CaptureError).file).toBe(cut);
  });
});

describe.skipIf(!haveShared || !haveTshark)('checked by tshark', () => {
  it('a big-endian nanosecond pcap written by our writer reads the same in tshark', async () => {
    const file = path.join(GENERATED_DIR, '18d-nanosecond.pcap');
    const src = await openCapture(file);
    const out = path.join(tmp, 'be.pcap');
    const w = createPcapWriter(out, { ...src.pcapHeader!, littleEndian: false });
    await src.run((r) => w.write(r));
    await w.close();
    expect(readFileSync(out).subarray(0, 4).toString('hex')).toBe('a1b23c4d');
    expect(tsharkView(out)).toBe(tsharkView(file));
    const r = await readFile(out);
    expect(r.source.pcapHeader!.littleEndian).toBe(false);
    expect(r.records.length).toBe(21);
  });

  it('a multi-section pcapng with differing byte orders reads the same in tshark and here', async () => {
    const file = path.join(GENERATED_DIR, '18c-dumpcap-pcapng.pcapng');
    const src = await readFile(file);
    const parts: Buffer[] = [];
    // Section 0 little-endian (µs), section 1 big-endian (ns) with a comment per packet.
    parts.push(shb(true), idb(true, 1, 262144));
    src.records.slice(0, 10).forEach((r) => parts.push(epb(true, 0, BigInt(r.tsSec) * 1_000_000n + BigInt(Math.floor(r.tsNsec / 1000)), r.data)));
    parts.push(shb(false), idb(false, 1, 262144, [option(9, Buffer.from([9]), false)]));
    src.records.slice(10).forEach((r, k) => parts.push(epb(false, 0, BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNsec), r.data, r.data.length, [option(1, Buffer.from(`pkt ${k}`), false)])));
    const out = path.join(tmp, 'multi.pcapng');
    writeFileSync(out, Buffer.concat(parts));
    const r = await readFile(out);
    expect(r.error).toBeNull();
    expect(r.source.interfaces.map((i) => [i.index, i.section, i.littleEndian, i.tsResolutionExponent])).toEqual([
      [0, 0, true, 6],
      [1, 1, false, 9],
    ]);
    expect(r.records.length).toBe(21);
    const lines = tsharkView(out).trim().split('\n');
    expect(lines).toHaveLength(21);
    lines.forEach((line, k) => {
      const [epoch, len, , , comment] = line.split('\t');
      const rec = r.records[k]!;
      expect(epoch).toBe(`${rec.tsSec}.${String(rec.tsNsec).padStart(9, '0')}`);
      expect(Number(len)).toBe(rec.originalLength);
      expect(comment ?? '').toBe(rec.comments ? rec.comments.join(',') : '');
    });
  });

  it('pcapng written with comments: tshark shows them as frame.comment', async () => {
    const src = await openCapture(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
    const out = path.join(tmp, 'comments.pcapng');
    const { createPcapngWriter } = await import('../../src/capture/pcapng-writer.js');
    const w = createPcapngWriter(out, { interfaces: src.interfaces, userAppl: 'smtp-inspect test' });
    await src.run((r) => w.write(r, r.packetNumber % 2 ? [`verdict ${r.packetNumber}: mask-banner`, 'ünïcödé'] : null));
    await w.close();
    const comments = tshark(['-r', out, '-T', 'fields', '-e', 'frame.comment']).split('\n').slice(0, 3);
    expect(comments).toEqual(['verdict 1: mask-banner,ünïcödé', '', 'verdict 3: mask-banner,ünïcödé']);
    const sel = tshark(['-r', out, '-Y', 'frame.comment contains "verdict 5:"', '-T', 'fields', '-e', 'frame.number']).trim();
    expect(sel).toBe('5');
  });
});
