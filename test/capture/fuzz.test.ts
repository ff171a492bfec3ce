/**
 * Fuzz (bounded, a few seconds): random bytes and mutated real captures never make the reader
 * fail with anything but a CaptureError, and never make it allocate beyond its bound: the read
 * window grows only as bytes arrive, so its size stays within the input size plus one chunk.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CaptureError } from '../../src/errors.js';
import { READ_CHUNK_BYTES } from '../../src/capture/limits.js';
import { GENERATED_DIR, EXTERNAL_PCAPS, haveShared } from '../helpers/shared.js';
import { readChunked } from './model.js';

afterEach(() => vi.restoreAllMocks());

/** Runs the reader on `bytes`; returns the largest Buffer.allocUnsafe request seen. */
async function fuzzOnce(bytes: Buffer, cuts: number[]): Promise<number> {
  let biggest = 0;
  const real = Buffer.allocUnsafe;
  const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
    biggest = Math.max(biggest, size);
    return real(size);
  });
  try {
    const r = await readChunked(bytes, cuts);
    if (r.error !== null && !(r.error instanceof CaptureError)) throw r.error;
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
  } finally {
    spy.mockRestore();
  }
  return biggest;
}

const bound = (input: Buffer): number => Math.max(READ_CHUNK_BYTES, 2 * input.length) + 1024 * 1024;

describe('fuzz', () => {
  const prefixes = [
    Buffer.from('d4c3b2a1', 'hex'),
    Buffer.from('a1b23c4d', 'hex'),
    Buffer.from('0a0d0d0a', 'hex'),
    Buffer.from('1f8b', 'hex'),
    Buffer.alloc(0),
  ];
  it('random bytes behind every magic', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 400 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }), async (prefix, body, cuts) => {
        const bytes = Buffer.concat([prefix, Buffer.from(body)]);
        expect(await fuzzOnce(bytes, cuts)).toBeLessThanOrEqual(bound(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('a short input claiming a 100 MiB block (allowed on D-Bus) is a truncation, not a 100 MiB allocation', async () => {
    const { idb, shb, w32 } = await import('./model.js');
    const bytes = Buffer.concat([shb(true), idb(true, 231, 0), w32(6, true), w32(100 * 1024 * 1024, true), w32(0, true), Buffer.alloc(1000)]);
    expect(await fuzzOnce(bytes, [100])).toBeLessThanOrEqual(READ_CHUNK_BYTES);
    const r = await readChunked(bytes, [100]);
    expect((r.error as CaptureError).code).toBe('E_CAPTURE_TRUNCATED');
    expect((r.error as CaptureError).offset).toBe(48);
  });

  it('the same block on an Ethernet interface is beyond its bound: refused at its length field', async () => {
    const { idb, shb, w32 } = await import('./model.js');
    const bytes = Buffer.concat([shb(true), idb(true, 1, 0), w32(6, true), w32(100 * 1024 * 1024, true), w32(0, true), Buffer.alloc(1000)]);
    expect(await fuzzOnce(bytes, [100])).toBeLessThanOrEqual(READ_CHUNK_BYTES);
    const r = await readChunked(bytes, [100]);
    expect((r.error as CaptureError).code).toBe('E_CAPTURE_RECORD_TOO_LARGE');
    expect((r.error as CaptureError).offset).toBe(52);
  });

  const seeds = haveShared
    ? ['02-ehlo-basic.pcap', '18c-dumpcap-pcapng.pcapng', '18d-nanosecond.pcap', '18a-any-linux-sll2.pcap'].map((f) => readFileSync(path.join(GENERATED_DIR, f)))
      .concat(readdirSync(EXTERNAL_PCAPS).filter((f) => f.endsWith('.pcapng')).map((f) => readFileSync(path.join(EXTERNAL_PCAPS, f))))
    : [];
  it.skipIf(!haveShared)('mutated real captures (bytes overwritten, lengths set to extremes, cut anywhere)', async () => {
    const mutation = fc.record({
      seed: fc.nat(),
      edits: fc.array(fc.record({ at: fc.nat(), value: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x01, 0x10) , width: fc.constantFrom(1, 4) }), { minLength: 1, maxLength: 6 }),
      cut: fc.option(fc.nat()),
    });
    await fc.assert(
      fc.asyncProperty(mutation, fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 3 }), async (m, cuts) => {
        const base = seeds[m.seed % seeds.length]!;
        let bytes = Buffer.from(base.subarray(0, Math.min(base.length, 20000)));
        for (const e of m.edits) bytes.fill(e.value, e.at % bytes.length, Math.min(bytes.length, (e.at % bytes.length) + e.width));
        if (m.cut !== null) bytes = bytes.subarray(0, m.cut % (bytes.length + 1));
        expect(await fuzzOnce(bytes, cuts)).toBeLessThanOrEqual(bound(bytes));
      }),
      { numRuns: 400 },
    );
  });
});
