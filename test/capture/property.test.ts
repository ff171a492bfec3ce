/**
 * Property tests: random records through the model encoder and our readers (both byte orders,
 * µs/ns pcap, pcapng tsresol powers of 10 and 2, tsoffset, several sections), through our writers
 * and back, with the input cut into chunks anywhere.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TsConverter } from '../../src/capture/timestamp.js';
import { createPcapWriter } from '../../src/capture/pcap-writer.js';
import { createPcapngWriter } from '../../src/capture/pcapng-writer.js';
import type { CaptureInterface } from '../../src/capture/types.js';
import { epb, idb, modelWall, option, pcapHeader, pcapRecord, readChunked, readFile, shb, w64, type Got } from './model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'si-prop-'));
let n = 0;
const tmpFile = (ext: string): string => path.join(tmp, `f${n++}.${ext}`);

/** rec.buffer/rec.offset point at the record's bytes, and rec.data is one cached view of them. */
function expectWindowAgrees(g: Got, bytes: Buffer): void {
  expect(g.windowInBounds).toBe(true);
  expect(g.windowBytes.equals(bytes)).toBe(true);
  expect(g.dataCachedAndEqual).toBe(true);
}

const cuts = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));

describe('TsConverter', () => {
  const resolution = fc.oneof(
    fc.record({ base: fc.constant(10 as const), exp: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ base: fc.constant(2 as const), exp: fc.integer({ min: 0, max: 40 }) }),
  );
  it('toWall agrees with the BigInt model for every count and resolution', () => {
    fc.assert(
      fc.property(resolution, u32, u32, fc.integer({ min: -1000, max: 1000 }), ({ base, exp }, hi, lo, off) => {
        const out = { tsSec: 0, tsNsec: 0 };
        new TsConverter(base, exp, off).toWall(hi, lo, out);
        expect(out).toEqual(modelWall((BigInt(hi) << 32n) | BigInt(lo), base, exp, off));
      }),
      { numRuns: 2000 },
    );
  });
  it('fromWall inverts toWall for 10^-0..10^-9 (exact) and keeps wall time for the rest', () => {
    fc.assert(
      fc.property(resolution, fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 999_999_999 }), ({ base, exp }, sec, nsec) => {
        // Only wall times the resolution can store in 64 bits.
        fc.pre(BigInt(sec + 1) * (base === 10 ? 10n ** BigInt(exp) : 1n << BigInt(exp)) < 1n << 64n);
        const c = new TsConverter(base, exp, 0);
        const raw = { high: 0, low: 0 };
        c.fromWall(sec, nsec, raw);
        const back = { tsSec: 0, tsNsec: 0 };
        c.toWall(raw.high, raw.low, back);
        expect(back.tsSec).toBe(sec);
        const unitNs = base === 10 ? 10 ** Math.max(0, 9 - exp) : 1e9 / 2 ** exp;
        expect(nsec - back.tsNsec).toBeGreaterThanOrEqual(0);
        expect(nsec - back.tsNsec).toBeLessThan(unitNs + 1); // one unit, plus 1 ns from flooring both ways
        if (c.fast) {
          const units = BigInt(sec) * 10n ** BigInt(exp) + BigInt(Math.floor(nsec / 10 ** (9 - exp)));
          expect((BigInt(raw.high) << 32n) | BigInt(raw.low)).toBe(units);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('pcap reader and writer', () => {
  const rec = fc.record({ sec: u32, frac: fc.integer({ min: 0, max: 999_999_999 }), data: bytes, extra: fc.integer({ min: 0, max: 3 }) });
  it('reads random records in both byte orders and resolutions, whatever the chunking, and writes them back identically', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), fc.array(rec, { maxLength: 20 }), cuts, async (le, ns, recs, cutList) => {
        const records = recs.map((r) => ({ ...r, frac: ns ? r.frac : r.frac % 1_000_000 }));
        const file = Buffer.concat([pcapHeader(le, ns, 65535, 1), ...records.map((r) => pcapRecord(le, r.sec, r.frac, r.data, r.data.length + r.extra))]);
        const got = await readChunked(file, cutList);
        expect(got.error).toBeNull();
        expect(got.records.length).toBe(records.length);
        let off = 24;
        got.records.forEach((g, i) => {
          const r = records[i]!;
          expect(g).toMatchObject({ packetNumber: i + 1, fileOffset: off, tsSec: r.sec, tsNsec: ns ? r.frac : r.frac * 1000, captureLength: r.data.length, originalLength: r.data.length + r.extra });
          expect(g.data.equals(r.data)).toBe(true);
          expectWindowAgrees(g, r.data);
          off += 16 + r.data.length;
        });
        expect(got.stats!.truncatedRecords).toBe(records.filter((r) => r.extra > 0).length);
        const out = tmpFile('pcap');
        const w = createPcapWriter(out, got.source.pcapHeader!);
        for (const g of got.records) w.write(g);
        await w.close();
        expect(readFileSync(out).equals(file)).toBe(true);
        rmSync(out);
      }),
      { numRuns: 150 },
    );
  });
});

interface ModelIface {
  linkType: number;
  base: 10 | 2;
  exp: number;
  offset: number;
}
const modelIface = fc.record({
  linkType: fc.constantFrom(1, 101, 113, 276),
  base: fc.constantFrom(10 as const, 2 as const),
  exp: fc.integer({ min: 0, max: 12 }),
  offset: fc.integer({ min: -100, max: 100000 }),
});
const modelPacket = fc.record({
  iface: fc.nat(),
  ts: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  data: bytes,
  comments: fc.array(fc.string({ maxLength: 30 }), { maxLength: 2 }),
  flags: fc.constantFrom(0, 1, 2, 0x201),
});
const section = fc.record({ le: fc.boolean(), ifaces: fc.array(modelIface, { minLength: 1, maxLength: 3 }), packets: fc.array(modelPacket, { maxLength: 8 }) });


describe('pcapng reader and writer', () => {
  it('reads random multi-section files (mixed byte orders, tsresol 10^-n/2^-n, tsoffset, comments) whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(section, { minLength: 1, maxLength: 3 }), cuts, async (sections, cutList) => {
        const parts: Buffer[] = [];
        const expected: { ifaceGlobal: number; linkType: number; wall: { tsSec: number; tsNsec: number }; ts: bigint; data: Buffer; comments: string[] | null; flags: number }[] = [];
        const expectedIfaces: { linkType: number; base: number; exp: number; offset: number; section: number }[] = [];
        sections.forEach((s, si) => {
          const le = s.le;
          parts.push(shb(le));
          const first = expectedIfaces.length;
          for (const i of s.ifaces) {
            parts.push(idb(le, i.linkType, 65535, [option(9, Buffer.from([(i.base === 2 ? 0x80 : 0) | i.exp]), le), option(14, w64(BigInt(i.offset), le), le)]));
            expectedIfaces.push({ linkType: i.linkType, base: i.base, exp: i.exp, offset: i.offset, section: si });
          }
          for (const p of s.packets) {
            const id = p.iface % s.ifaces.length;
            const iface = s.ifaces[id]!;
            const opts = [...p.comments.map((c) => option(1, Buffer.from(c, 'utf8'), le)), ...(p.flags ? [option(2, Buffer.from(new Uint32Array([p.flags]).buffer), le)] : [])];
            if (p.flags && !le) opts[opts.length - 1]!.writeUInt32BE(p.flags, 4);
            // Wall seconds are Numbers: exact below 2^53 (any real capture; 2^64 units of 10^-4 s and finer always are).
            fc.pre(modelWall(p.ts, iface.base, iface.exp).tsSec <= Number.MAX_SAFE_INTEGER);
            parts.push(epb(le, id, p.ts, p.data, p.data.length, opts));
            expected.push({ ifaceGlobal: first + id, linkType: iface.linkType, wall: modelWall(p.ts, iface.base, iface.exp, iface.offset), ts: p.ts, data: p.data, comments: p.comments.length ? p.comments : null, flags: p.flags });
          }
        });
        const file = Buffer.concat(parts);
        const got = await readChunked(file, cutList);
        expect(got.error).toBeNull();
        expect(got.source.interfaces.map((i) => ({ linkType: i.linkType, base: i.tsResolutionBase, exp: i.tsResolutionExponent, offset: i.tsOffsetSeconds, section: i.section }))).toEqual(expectedIfaces);
        expect(got.interfacesSeen.length).toBe(expectedIfaces.length);
        expect(got.records.length).toBe(expected.length);
        got.records.forEach((g, k) => {
          const e = expected[k]!;
          expect(g.interfaceIndex).toBe(e.ifaceGlobal);
          expect(g.linkType).toBe(e.linkType);
          expect({ tsSec: g.tsSec, tsNsec: g.tsNsec }).toEqual(e.wall);
          expect((BigInt(g.tsRawHigh) << 32n) | BigInt(g.tsRawLow)).toBe(e.ts);
          expect(g.data.equals(e.data)).toBe(true);
          expectWindowAgrees(g, e.data);
          expect(g.comments).toEqual(e.comments);
          expect(g.epbFlags).toBe(e.flags);
        });

        // Our writer (one little-endian section, all interfaces) reads back to the same packets.
        const out = tmpFile('pcapng');
        const w = createPcapngWriter(out, { interfaces: got.source.interfaces as CaptureInterface[] });
        for (const g of got.records) w.write(g, g.comments);
        await w.close();
        const back = await readFile(out);
        expect(back.error).toBeNull();
        expect(back.records.map((r) => [r.interfaceIndex, r.linkType, r.tsSec, r.tsNsec, r.tsRawHigh, r.tsRawLow, r.data.toString('hex'), r.comments, r.epbFlags])).toEqual(
          got.records.map((r) => [r.interfaceIndex, r.linkType, r.tsSec, r.tsNsec, r.tsRawHigh, r.tsRawLow, r.data.toString('hex'), r.comments, r.epbFlags]),
        );
        rmSync(out);
      }),
      { numRuns: 120 },
    );
  });

  it('writes pcap-sourced packets (µs and ns) as EPBs with the matching if_tsresol', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(fc.record({ sec: u32, frac: fc.integer({ min: 0, max: 999_999_999 }), data: bytes }), { maxLength: 10 }), async (ns, recs) => {
        const file = Buffer.concat([pcapHeader(true, ns, 65535, 1), ...recs.map((r) => pcapRecord(true, r.sec, ns ? r.frac : r.frac % 1e6, r.data))]);
        const got = await readChunked(file);
        const out = tmpFile('pcapng');
        const w = createPcapngWriter(out, { interfaces: got.source.interfaces });
        for (const g of got.records) w.write(g);
        await w.close();
        const back = await readFile(out);
        expect(back.source.interfaces[0]!.tsResolutionExponent).toBe(ns ? 9 : 6);
        expect(back.records.map((r) => [r.tsSec, r.tsNsec, r.data.toString('hex')])).toEqual(got.records.map((r) => [r.tsSec, r.tsNsec, r.data.toString('hex')]));
        rmSync(out);
      }),
      { numRuns: 80 },
    );
  });
});
