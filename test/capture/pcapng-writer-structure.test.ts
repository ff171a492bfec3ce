/**
 * The pcapng writer following its input (followInput): random block sequences in both byte orders
 * (several sections, IDBs with options, NRB/ISB/custom/unknown blocks, EPB with options, SPB, PB)
 * read by our reader and written back: byte-identical when nothing changes (runs held over the
 * reader's buffers or copied), and, with packet bytes edited and comments added, read back with the
 * new bytes, the same timestamps, interfaces and input comments followed by the added ones.
 * A packet of an earlier section written after a later SHB gets its interface described again
 * in the current section (converted to its byte order), so tshark and our reader still see it right.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openCaptureStream, openCapture } from '../../src/capture/open.js';
import { createPcapngWriter } from '../../src/capture/pcapng-writer.js';
import { CaptureRecord, type CaptureBlock, type CaptureInterface } from '../../src/capture/types.js';
import { Readable } from 'node:stream';
import { haveTool, tshark } from '../helpers/shared.js';
import { block, epb, idb, option, readFile, shb, w16, w32, w64 } from './model.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pcapng-writer-structure-'));
const pad4 = (n: number) => (n + 3) & ~3;

const arbSection = fc.record({
  le: fc.boolean(),
  ifaces: fc.array(
    fc.record({ name: fc.string({ maxLength: 12 }), nsec: fc.boolean(), offset: fc.integer({ min: 0, max: 5 }), speed: fc.boolean() }),
    { minLength: 1, maxLength: 3 },
  ),
  items: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('epb' as const), iface: fc.nat(), ts: fc.bigInt({ min: 0n, max: 1n << 60n }), data: fc.uint8Array({ maxLength: 70 }), comment: fc.option(fc.string({ maxLength: 20 }), { nil: null }), flags: fc.boolean() }),
      fc.record({ kind: fc.constant('spb' as const), data: fc.uint8Array({ maxLength: 70 }) }),
      fc.record({ kind: fc.constant('pb' as const), iface: fc.nat(), ts: fc.bigInt({ min: 0n, max: 1n << 60n }), data: fc.uint8Array({ maxLength: 70 }) }),
      fc.record({ kind: fc.constantFrom('nrb' as const, 'isb' as const, 'custom' as const, 'unknown' as const), body: fc.uint8Array({ maxLength: 24 }) }),
    ),
    { maxLength: 12 },
  ),
});

type Section = typeof arbSection extends fc.Arbitrary<infer T> ? T : never;

function encodeSection(s: Section): Buffer {
  const le = s.le;
  const parts = [shb(le, [option(2, Buffer.from('hw'), le), option(4, Buffer.from('prop'), le)])];
  for (const i of s.ifaces) {
    const opts = [option(2, Buffer.from(i.name), le)];
    if (i.nsec) opts.push(option(9, Buffer.from([9]), le));
    if (i.offset) opts.push(option(14, w64(BigInt(i.offset), le), le));
    if (i.speed) opts.push(option(8, w64(1_000_000_000n, le), le));
    parts.push(idb(le, 1, 0, opts));
  }
  const n = s.ifaces.length;
  for (const it of s.items) {
    const data = Buffer.from('data' in it ? it.data : []);
    switch (it.kind) {
      case 'epb': {
        const opts = [option(5, w64(7n, le), le)];
        if (it.comment !== null) opts.unshift(option(1, Buffer.from(it.comment), le));
        if (it.flags) opts.push(option(2, w32(1, le), le));
        parts.push(epb(le, it.iface % n, it.ts, data, data.length + 3, opts));
        break;
      }
      case 'spb':
        parts.push(block(3, Buffer.concat([w32(data.length, le), data]), le));
        break;
      case 'pb': {
        const ts = it.ts;
        parts.push(block(2, Buffer.concat([w16(it.iface % n, le), w16(0, le), w32(Number(ts >> 32n), le), w32(Number(ts & 0xffffffffn), le), w32(data.length, le), w32(data.length, le), data, Buffer.alloc(pad4(data.length) - data.length)]), le));
        break;
      }
      case 'nrb':
        parts.push(block(4, Buffer.concat([w32(0, le), Buffer.from(it.body)]), le));
        break;
      case 'isb':
        parts.push(block(5, Buffer.concat([w32(0, le), w32(0, le), w32(0, le), Buffer.from(it.body)]), le));
        break;
      case 'custom':
        parts.push(block(0xbad, Buffer.concat([w32(32473, le), Buffer.from(it.body)]), le));
        break;
      case 'unknown':
        parts.push(block(0x0123, Buffer.from(it.body), le));
        break;
    }
  }
  return Buffer.concat(parts);
}

interface Edit {
  flip: boolean;
  note: string | null;
}

/**
 * Reads `bytes` (cut into chunks) and writes every record back through a following writer; records
 * for which edits says so get their packet bytes inverted in place in a copy of their block (as
 * the pipeline edits) and a comment added.
 */
async function rewrite(bytes: Buffer, out: string, chunk: number, hold: boolean, edits: (n: number) => Edit): Promise<void> {
  const parts: Buffer[] = [];
  for (let o = 0; o < bytes.length; o += chunk) parts.push(bytes.subarray(o, o + chunk));
  const source = await openCaptureStream(Readable.from(parts, { objectMode: true }), 'mem');
  const w = createPcapngWriter(out, { interfaces: [], followInput: true, holdInputRuns: hold });
  await source.run(
    (rec: CaptureRecord) => {
      const e = edits(rec.packetNumber);
      if (!e.flip && e.note === null) {
        w.write({ ...pick(rec), buffer: rec.buffer, offset: rec.offset, captureLength: rec.captureLength, blockOffset: rec.blockOffset, blockLength: rec.blockLength, fromInput: true }, rec.comments);
        return;
      }
      const copy = Buffer.from(rec.buffer.subarray(rec.blockOffset, rec.blockOffset + rec.blockLength));
      const off = rec.offset - rec.blockOffset;
      if (e.flip) for (let i = off; i < off + rec.captureLength; i++) copy[i] = copy[i]! ^ 0xff;
      const comments = e.note === null ? rec.comments : [...(rec.comments ?? []), e.note];
      w.write({ ...pick(rec), buffer: copy, offset: off, captureLength: rec.captureLength, blockOffset: 0, blockLength: copy.length }, comments);
    },
    undefined,
    () => w.releaseInput?.(),
    (b: CaptureBlock) => w.writeInputBlock(b),
  );
  await w.close();
}

function pick(r: CaptureRecord) {
  return { interfaceIndex: r.interfaceIndex, tsSec: r.tsSec, tsNsec: r.tsNsec, tsRawHigh: r.tsRawHigh, tsRawLow: r.tsRawLow, originalLength: r.originalLength, data: r.data, epbFlags: r.epbFlags };
}

describe('pcapng writer following its input (property)', () => {
  it('random sections in both byte orders: unchanged = byte-identical; edits and comments read back right', async () => {
    const out = path.join(tmp, 'p.pcapng');
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbSection, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 16, max: 400 }),
        fc.boolean(),
        fc.array(fc.record({ flip: fc.boolean(), note: fc.option(fc.string({ maxLength: 15 }), { nil: null }) }), { minLength: 1, maxLength: 8 }),
        async (sections, chunk, hold, editList) => {
          const input = Buffer.concat(sections.map(encodeSection));
          // Unchanged: the input, byte for byte.
          await rewrite(input, out, chunk, hold, () => ({ flip: false, note: null }));
          expect(fs.readFileSync(out).equals(input)).toBe(true);
          // Edited: same structure; every record as read with the edit applied.
          const edit = (n: number) => editList[n % editList.length]!;
          await rewrite(input, out, chunk, hold, edit);
          const a = await readFile(await writeTmp(input));
          const b = await readFile(out);
          expect(b.error).toBeNull();
          expect(b.records.length).toBe(a.records.length);
          expect(b.interfacesSeen.map((i) => [i.section, i.littleEndian, i.name])).toEqual(a.interfacesSeen.map((i) => [i.section, i.littleEndian, i.name]));
          for (let i = 0; i < a.records.length; i++) {
            const x = a.records[i]!;
            const y = b.records[i]!;
            const e = edit(x.packetNumber);
            const want = e.flip ? Buffer.from(x.data.map((v) => v ^ 0xff)) : x.data;
            expect(y.data.equals(want)).toBe(true);
            expect([y.interfaceIndex, y.originalLength, y.epbFlags, y.tsRawHigh, y.tsRawLow]).toEqual([x.interfaceIndex, x.originalLength, x.epbFlags, x.tsRawHigh, x.tsRawLow]);
            // An SPB has no timestamp (its record repeats the previous packet's): given a comment it becomes
            // an EPB stamped with that time in interface 0's resolution (less precise, and if_tsoffset
            // shifts it), which a later SPB of the section then repeats. Known times are kept exactly.
            expect(y.timestampKnown).toBe(x.timestampKnown || e.note !== null);
            if (x.timestampKnown) expect([y.tsSec, y.tsNsec]).toEqual([x.tsSec, x.tsNsec]);
            const wantComments = e.note === null ? x.comments : [...(x.comments ?? []), e.note];
            expect(y.comments).toEqual(wantComments);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

let tmpCount = 0;
async function writeTmp(b: Buffer): Promise<string> {
  const f = path.join(tmp, `in-${tmpCount++}.pcapng`);
  fs.writeFileSync(f, b);
  return f;
}

describe('a packet of an earlier section written after a later section header', () => {
  it('gets its interface described again in the current section, in that byte order', async () => {
    // Section 0 big-endian: IDB "old" (ns, if_tsoffset 10); section 1 little-endian: IDB "new".
    const s0 = Buffer.concat([shb(false), idb(false, 1, 0, [option(2, Buffer.from('old'), false), option(9, Buffer.from([9]), false), option(14, w64(10n, false), false)])]);
    const frame = Buffer.from('ffffffffffff020000000001080600010800060400010200000000017f0000010000000000007f000002', 'hex');
    const p0 = epb(false, 0, 1_700_000_000_123_456_789n, frame, frame.length, [option(1, Buffer.from('late'), false), option(2, w32(2, false), false), option(4, w64(5n, false), false)]);
    const s1 = Buffer.concat([shb(true), idb(true, 1, 0, [option(2, Buffer.from('new'), true)])]);
    const input = Buffer.concat([s0, p0, s1]);
    const inFile = await writeTmp(input);
    const out = path.join(tmp, 'late.pcapng');
    const w = createPcapngWriter(out, { interfaces: [], followInput: true });
    let held: { rec: ReturnType<typeof pick>; block: Buffer; off: number; comments: string[] | null } | null = null;
    const source = await openCapture(inFile);
    const ifaces: CaptureInterface[] = [];
    await source.run(
      (rec) => {
        // Hold the packet (a copy of its block, as the pipeline's hold-back queue keeps it).
        held = { rec: pick(rec), block: Buffer.from(rec.buffer.subarray(rec.blockOffset, rec.blockOffset + rec.blockLength)), off: rec.offset - rec.blockOffset, comments: rec.comments };
      },
      (i) => ifaces.push(i),
      undefined,
      (b) => w.writeInputBlock(b),
    );
    const h = held!;
    w.write({ ...h.rec, buffer: h.block, offset: h.off, captureLength: frame.length, blockOffset: 0, blockLength: h.block.length }, [...(h.comments ?? []), 'added']);
    await w.close();
    const r = await readFile(out);
    expect(r.error).toBeNull();
    expect(r.interfacesSeen.map((i) => [i.section, i.littleEndian, i.name, i.tsResolutionExponent, i.tsOffsetSeconds])).toEqual([
      [0, false, 'old', 9, 10],
      [1, true, 'new', 6, 0],
      [1, true, 'old', 9, 10],
    ]);
    expect(r.records.length).toBe(1);
    const x = r.records[0]!;
    expect(x.interfaceIndex).toBe(2);
    expect([x.tsSec, x.tsNsec]).toEqual([1_700_000_010, 123_456_789]);
    expect(x.comments).toEqual(['late', 'added']);
    expect(x.epbFlags).toBe(2);
    expect(x.data.equals(frame)).toBe(true);
    // epb_dropcount converted to little-endian.
    const outBytes = fs.readFileSync(out);
    expect(outBytes.includes(Buffer.concat([w16(4, true), w16(8, true), w64(5n, true)]))).toBe(true);
    if (haveTool('tshark')) {
      const f = tshark(['-r', out, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.comment']).trim();
      expect(f).toBe('1700000010.123456789\tlate,added');
    }
  });
});
