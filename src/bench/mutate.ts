/**
 * Mutations of real captures at byte and structure level: byte flips, truncation, length-field
 * corruption (pcap record lengths, pcapng block lengths, IP/TCP length fields, anywhere a 16/32-bit
 * word could be a length), block duplication and deletion.
 */
import { Prng } from './prng.js';

const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 0x40000, 0x40001, 0x10000000, 24, 28, 12];
const INTERESTING_16 = [0, 1, 0x7fff, 0x8000, 0xffff, 20, 19, 40, 4, 5];

export type Mutation = 'flip' | 'truncate' | 'length32' | 'length16' | 'duplicate' | 'delete' | 'record-length';

export const MUTATIONS: readonly Mutation[] = ['flip', 'truncate', 'length32', 'length16', 'duplicate', 'delete', 'record-length'];

/** Offsets of classic-pcap record headers (caplen at +8, origlen at +12), following the lengths. */
function pcapRecordOffsets(b: Buffer): number[] {
  if (b.length < 24) return [];
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) return blockOffsets(b);
  const out: number[] = [];
  let off = 24;
  while (off + 16 <= b.length && out.length < 100_000) {
    out.push(off);
    const cap = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
    off += 16 + cap;
  }
  return out;
}

/** Offsets of pcapng blocks (type at +0, length at +4). */
function blockOffsets(b: Buffer): number[] {
  const out: number[] = [];
  let off = 0;
  const le = b.length >= 12 && b.readUInt32LE(8) === 0x1a2b3c4d;
  while (off + 12 <= b.length && out.length < 100_000) {
    out.push(off);
    const len = le ? b.readUInt32LE(off + 4) : b.readUInt32BE(off + 4);
    if (len < 12) break;
    off += len;
  }
  return out;
}

export function mutate(input: Buffer, rng: Prng, op: Mutation): Buffer {
  const b = Buffer.from(input);
  if (b.length === 0) return b;
  const at = rng.int(0, b.length - 1);
  switch (op) {
    case 'flip': {
      const n = rng.int(1, 16);
      for (let i = 0; i < n; i++) {
        const j = rng.int(0, b.length - 1);
        b[j] = b[j]! ^ (1 << rng.int(0, 7));
      }
      return b;
    }
    case 'truncate':
      return b.subarray(0, rng.int(0, b.length - 1));
    case 'length32':
      if (at + 4 <= b.length) {
        const v = rng.pick(INTERESTING_32);
        if (rng.chance(0.5)) b.writeUInt32LE(v >>> 0, at);
        else b.writeUInt32BE(v >>> 0, at);
      }
      return b;
    case 'length16':
      if (at + 2 <= b.length) b.writeUInt16BE(rng.pick(INTERESTING_16), at);
      return b;
    case 'record-length': {
      // Corrupt a real length field: a pcap record's caplen/origlen or a pcapng block length.
      const offs = pcapRecordOffsets(b);
      if (offs.length === 0) return b;
      const rec = rng.pick(offs);
      const field = rec + rng.pick([4, 8, 12]);
      if (field + 4 <= b.length) b.writeUInt32LE(rng.pick(INTERESTING_32) >>> 0, field);
      return b;
    }
    case 'duplicate': {
      const len = rng.int(1, Math.min(4096, b.length - at));
      const dest = rng.int(0, b.length);
      return Buffer.concat([b.subarray(0, dest), b.subarray(at, at + len), b.subarray(dest)]);
    }
    case 'delete': {
      const len = rng.int(1, Math.min(4096, b.length - at));
      return Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
    }
  }
}

/** 1-4 random mutations in a row. */
export function mutateRandomly(input: Buffer, rng: Prng): { output: Buffer; ops: Mutation[] } {
  const ops: Mutation[] = [];
  let out = input;
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) {
    const op = rng.pick(MUTATIONS);
    ops.push(op);
    out = mutate(out, rng, op);
  }
  return { output: out, ops };
}
