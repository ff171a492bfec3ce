/**
 * pcapng OUT of an edited capture, per-packet options that describe the packet's bytes or header:
 * - epb_hash (pack_hash in a Packet Block): a digest of the packet (draft-ietf-opsawg-pcapng §4.3.1).
 *   On a packet the inspection edited, MD-5 and SHA-1 are recomputed over the bytes written, the
 *   other algorithms (CRC32, XOR, 2s complement, Toeplitz: not recomputable faithfully) are left
 *   out; unedited packets keep every hash byte for byte.
 * - an obsolete Packet Block's Drops Count header field: when the PB is re-encoded as an EPB
 *   (edited and losing a hash, or carrying the annotated capture's comments) it becomes
 *   epb_dropcount, so tshark shows the same frame.drop_count.
 * Input: the packets of a real Postfix session (12-unknown-commands: the ASA X-es out its unknown
 * commands) in a big-endian section, as EPBs with hashes and as PBs with drop counts.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { loadPackets } from '../helpers/capture-packets.js';
import { replayToTemp } from '../replay/helpers.js';
import { block, epb, idb, option, options, shb, w16, w32, w64 } from './model.js';

const SRC = path.join(GENERATED_DIR, '12-unknown-commands.pcap');
const present = haveShared && existsSync(SRC);
if (!present) console.warn(`skipping pcapng-edited-packets: ${SRC} not present`);

const pad4 = (n: number): number => (n + 3) & ~3;

/** Obsolete Packet Block (type 2): 16-bit interface id and drops count. */
function pb(le: boolean, ifId: number, drops: number, ts: bigint, data: Buffer, opts: Buffer[]): Buffer {
  const body = Buffer.concat([w16(ifId, le), w16(drops, le), w32(Number(ts >> 32n), le), w32(Number(ts & 0xffffffffn), le), w32(data.length, le), w32(data.length, le), data, Buffer.alloc(pad4(data.length) - data.length), options(opts, le)]);
  return block(2, body, le);
}

const md5 = (d: Buffer): Buffer => Buffer.concat([Buffer.from([3]), createHash('md5').update(d).digest()]);
const sha1 = (d: Buffer): Buffer => Buffer.concat([Buffer.from([4]), createHash('sha1').update(d).digest()]);
const crc = (d: Buffer, le: boolean): Buffer => Buffer.concat([Buffer.from([2]), w32(crc32(d), le)]);

interface PacketBlock {
  type: number;
  data: Buffer;
  opts: { code: number; value: Buffer }[];
}

/** Every packet block (EPB, PB, SPB) of a pcapng file, in order, with its options. */
function packetBlocks(file: Buffer): PacketBlock[] {
  const out: PacketBlock[] = [];
  let le = true;
  for (let p = 0; p + 12 <= file.length; ) {
    if (file.readUInt32LE(p) === 0x0a0d0d0a) le = file.readUInt32LE(p + 8) === 0x1a2b3c4d;
    const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
    const u16 = (o: number): number => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
    const type = u32(p);
    const len = u32(p + 4);
    if (type === 6 || type === 2) {
      const cap = u32(p + 20);
      const opts: PacketBlock['opts'] = [];
      for (let q = p + 28 + pad4(cap); q + 4 <= p + len - 4; ) {
        const code = u16(q);
        const olen = u16(q + 2);
        if (code === 0) break;
        opts.push({ code, value: Buffer.from(file.subarray(q + 4, q + 4 + olen)) });
        q += 4 + pad4(olen);
      }
      out.push({ type, data: Buffer.from(file.subarray(p + 28, p + 28 + cap)), opts });
    } else if (type === 3) out.push({ type, data: Buffer.from(file.subarray(p + 16, p + len - 4)), opts: [] });
    p += len;
  }
  return out;
}

describe.skipIf(!present)('pcapng OUT: options describing edited packets', () => {
  const le = false;
  const dir = mkdtempSync(path.join(tmpdir(), 'pcapng-edited-'));
  const input = path.join(dir, 'in.pcapng');
  const packets = present ? loadPackets(SRC) : [];
  // Every third packet a PB (drops = its index; pack_hash MD-5 or CRC32, alternately), the others EPBs with MD-5, SHA-1 and CRC32 hashes.
  const parts = [shb(le, [option(4, Buffer.from('hash test'), le)]), idb(le, 1, 262144, [option(9, Buffer.from([9]), le)])];
  packets.forEach((p, i) => {
    const ts = BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec);
    if (i % 3 === 1) parts.push(pb(le, 0, i, ts, p.data, [option(3, i % 2 === 0 ? md5(p.data) : crc(p.data, le), le)]));
    else parts.push(epb(le, 0, ts, p.data, p.data.length, [option(1, Buffer.from(`own ${i}`), le), option(3, md5(p.data), le), option(3, sha1(p.data), le), option(3, crc(p.data, le), le), option(4, w64(BigInt(i), le), le)]));
  });
  if (present) writeFileSync(input, Buffer.concat(parts));

  it('edited packets: MD-5/SHA-1 recomputed, CRC32 left out; unedited ones keep their blocks byte for byte', async () => {
    const r = await replayToTemp(input);
    for (const file of [r.out, r.annotate]) {
      const got = packetBlocks(readFileSync(file));
      const sent = packetBlocks(readFileSync(input));
      expect(got.length).toBe(sent.length);
      let edited = 0;
      got.forEach((g, i) => {
        const s = sent[i]!;
        for (const o of g.opts.filter((x) => x.code === 3)) {
          if (o.value[0] === 3) expect(o.value).toEqual(md5(g.data));
          if (o.value[0] === 4) expect(o.value).toEqual(sha1(g.data));
        }
        const kinds = (b: PacketBlock): number[] => b.opts.filter((x) => x.code === 3).map((x) => x.value[0]!);
        if (!g.data.equals(s.data)) {
          edited++;
          expect(kinds(g)).toEqual(kinds(s).filter((k) => k === 3 || k === 4));
        } else {
          expect(kinds(g)).toEqual(kinds(s));
          if (file === r.out) expect(g).toEqual(s);
        }
      });
      // The session's ten unknown commands (EPBs and PBs among them) were X-ed out.
      expect(edited).toBeGreaterThanOrEqual(10);
      // Edited PBs: with MD-5 kept as PBs, with CRC32 re-encoded as EPBs (the option has to go).
      const editedPb = got.filter((g, i) => sent[i]!.type === 2 && !g.data.equals(sent[i]!.data));
      expect(editedPb.some((g) => g.type === 6)).toBe(true);
      if (file === r.out) expect(editedPb.some((g) => g.type === 2)).toBe(true);
    }
  });

  it.skipIf(!haveTool('tshark'))('tshark shows the same drop counts, flags and times in OUT and the annotated capture as in IN', async () => {
    const r = await replayToTemp(input);
    const fields = (f: string): string => tshark(['-r', f, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.drop_count', '-e', 'frame.time_epoch']);
    const want = fields(input);
    expect(want.split('\n').filter((l) => /\t\d+\t/.test(l)).length).toBeGreaterThan(20);
    expect(fields(r.out)).toBe(want);
    expect(fields(r.annotate)).toBe(want);
  });
});
