/**
 * pcapng blocks that carry no packet (NRB, ISB, DSB, custom, unknown) larger than the reader
 * buffers (MAX_OTHER_BLOCK_BYTES, 8 MiB) are passed over unbuffered when their framing is sound,
 * as capinfos/tshark read them (Wireshark's block limit is 128 MiB): every packet around them is
 * read, in a child whose peak RSS (VmHWM) stays under 100 MB, from a file, a pipe and gzip. A block
 * cut by the end of input is still E_CAPTURE_TRUNCATED at its start, a trailer that does not match
 * E_CAPTURE_CORRUPT at the trailer; SHB and IDB keep the bound. replay leaves such a block out of
 * OUT and the annotated capture and says so (checked with tshark/capinfos).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/errors.js';
import { MAX_OTHER_BLOCK_BYTES, READ_CHUNK_BYTES } from '../../src/capture/limits.js';
import { openCaptureStream } from '../../src/capture/open.js';
import type { SkippedBlock } from '../../src/capture/types.js';
import { REPO_ROOT, haveTool } from '../helpers/shared.js';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { block, cutInto, epb, idb, readChunked, readFile, shb, w32 } from './model.js';

const MiB = 1024 * 1024;
const BAR = 100 * 1000 * 1000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-bigblock-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const haveProc = fs.existsSync('/proc/self/status');
const built = ensureBuiltCli();
const OPEN_JS = pathToFileURL(path.join(REPO_ROOT, 'dist/capture/open.js')).href;
const DSB = 0x0000000a;
const CUSTOM = 0x00000bad;

/** An Ethernet/IPv4/TCP frame tshark decodes (ports 1025 -> 25), numbered by its IP id. */
function frame(n: number): Buffer {
  const f = Buffer.alloc(54);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40, 16);
  f.writeUInt16BE(n, 18);
  f[22] = 64;
  f[23] = 6;
  f.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  f.writeUInt16BE(1025, 34);
  f.writeUInt16BE(25, 36);
  f[46] = 0x50;
  f[47] = 0x02; // SYN
  f.writeUInt16BE(1024, 48);
  return f;
}
const packet = (n: number): Buffer => epb(true, 0, BigInt(n) * 1_000_000n, frame(n));
const HEAD = Buffer.concat([shb(true), idb(true, 1, 0), packet(1)]);

/** A DSB holding a TLS key log of about `bytes` (what editcap --inject-secrets tls,FILE writes). */
function keyLogDsb(bytes: number): Buffer {
  const line = `CLIENT_RANDOM ${'ab'.repeat(32)} ${'cd'.repeat(48)}\n`;
  const log = Buffer.from(line.repeat(Math.ceil(bytes / line.length)));
  return block(DSB, Buffer.concat([w32(0x544c534b, true), w32(log.length, true), log]), true);
}

/**
 * HEAD, a block of `type` and total length `len` (zeros inside, never written: a sparse file),
 * then packets 2 and 3. `cutAt`: the file ends there instead (relative to the block's start).
 */
function sparseWithBlock(name: string, type: number, len: number, cutAt?: number): { file: string; blockAt: number } {
  const f = path.join(tmp, name);
  const fd = fs.openSync(f, 'w');
  const blockAt = HEAD.length;
  fs.writeSync(fd, Buffer.concat([HEAD, w32(type, true), w32(len, true)]), 0, HEAD.length + 8, 0);
  if (cutAt === undefined) {
    const tail = Buffer.concat([w32(len, true), packet(2), packet(3)]);
    fs.writeSync(fd, tail, 0, tail.length, blockAt + len - 4);
  } else fs.ftruncateSync(fd, blockAt + cutAt);
  fs.closeSync(fd);
  return { file: f, blockAt };
}

/** `file` gzip'd by streaming (a 200 MiB input never sits in this process's memory). */
async function gzipFile(file: string): Promise<string> {
  const out = `${file}.gz`;
  await pipeline(fs.createReadStream(file, { highWaterMark: MiB }), createGzip({ level: 1 }), fs.createWriteStream(out));
  return out;
}

interface ChildResult {
  code: string | null;
  offset: number | null;
  message: string;
  packets: number[];
  skipped: SkippedBlock[];
  stats: { skippedBlocks?: number; skippedBlockBytes?: number } | null;
  hwmBytes: number;
}

/** Reads with the built reader in a fresh node (a file, or '-' fed by `cat FILE |`); peak RSS from /proc. */
function readInChild(file: string, via: 'file' | 'pipe' = 'file'): ChildResult {
  const script = `
    import { readFileSync } from 'node:fs';
    const { openCapture } = await import(${JSON.stringify(OPEN_JS)});
    const packets = [], skipped = [];
    let code = null, offset = null, message = '', stats = null;
    try {
      const src = await openCapture(process.env.SI_INPUT);
      stats = await src.run((r) => packets.push(r.data.readUInt16BE(18)), undefined, undefined, undefined, (b) => skipped.push({ ...b }));
    } catch (e) { code = e.code ?? 'THROWN'; offset = e.offset ?? null; message = String(e.message); }
    const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    process.stdout.write(JSON.stringify({ code, offset, message, packets, skipped, stats, hwmBytes: hwm }));
  `;
  const node = JSON.stringify(process.execPath);
  const cmd = via === 'pipe' ? `cat "$SI_FILE" | ${node} --input-type=module -e "$SI_SCRIPT"` : `${node} --input-type=module -e "$SI_SCRIPT"`;
  const r = spawnSync('/bin/sh', ['-c', cmd], {
    env: { ...process.env, SI_FILE: file, SI_INPUT: via === 'pipe' ? '-' : file, SI_SCRIPT: script },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ChildResult;
}

describe.skipIf(!haveProc || !built)('oversized non-packet blocks between packets (child process, peak RSS)', () => {
  const cases = [
    ['a 9 MiB Decryption Secrets Block', DSB, 9 * MiB + 12],
    ['a 200 MiB custom block', CUSTOM, 200 * MiB + 12],
  ] as const;
  for (const [name, type, len] of cases) {
    it(`${name}: every packet read, the block reported, from a file, a pipe and gzip`, async () => {
      const { file, blockAt } = sparseWithBlock(`big-${type}.pcapng`, type, len);
      const gz = await gzipFile(file);
      for (const [input, via] of [[file, 'file'], [file, 'pipe'], [gz, 'file'], [gz, 'pipe']] as const) {
        const r = readInChild(input, via);
        const where = `${input} via ${via}`;
        expect(r.code, `${where}: ${r.message}`).toBeNull();
        expect(r.packets, where).toEqual([1, 2, 3]);
        expect(r.skipped, where).toEqual([{ type, fileOffset: blockAt, length: len, littleEndian: true, section: 0 }]);
        expect(r.stats, where).toMatchObject({ skippedBlocks: 1, skippedBlockBytes: len });
        expect(r.hwmBytes, where).toBeLessThan(BAR);
      }
    });
  }

  it('a 200 MiB block cut by the end of input: E_CAPTURE_TRUNCATED at the block, after the packet before it', async () => {
    const len = 200 * MiB + 12;
    for (const cut of [100 * MiB, len - 2]) {
      const { file, blockAt } = sparseWithBlock(`cut-${cut}.pcapng`, CUSTOM, len, cut);
      for (const [input, via] of [[file, 'file'], [file, 'pipe'], [await gzipFile(file), 'file']] as const) {
        const r = readInChild(input, via);
        expect(r, `${input} via ${via}`).toMatchObject({ code: 'E_CAPTURE_TRUNCATED', offset: blockAt, packets: [1], skipped: [] });
        expect(r.message).toContain(`(${cut} of ${len} bytes present)`);
        expect(r.hwmBytes).toBeLessThan(BAR);
      }
    }
  });

  it('a 200 MiB block whose trailing length differs: E_CAPTURE_CORRUPT at its trailer', () => {
    const len = 200 * MiB + 12;
    const { file, blockAt } = sparseWithBlock('badtrailer.pcapng', CUSTOM, len);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, w32(len + 4, true), 0, 4, blockAt + len - 4);
    fs.closeSync(fd);
    const r = readInChild(file);
    expect(r).toMatchObject({ code: 'E_CAPTURE_CORRUPT', offset: blockAt + len - 4, packets: [1], skipped: [] });
    expect(r.message).toContain(`trailing block length ${len + 4} differs from the leading ${len}`);
  });
});

/** Every packet's IP id, the blocks skipped and the error of reading `bytes` cut into the given chunks. */
async function readCut(bytes: Buffer, cuts: number[]): Promise<{ ids: number[]; skipped: SkippedBlock[]; error: unknown; stats: unknown }> {
  const src = await openCaptureStream(Readable.from(cutInto(bytes, cuts), { objectMode: true }), 'mem');
  const ids: number[] = [];
  const skipped: SkippedBlock[] = [];
  try {
    const stats = await src.run((r) => ids.push(r.data.readUInt16BE(18)), undefined, undefined, undefined, (b) => skipped.push({ ...b }));
    return { ids, skipped, error: null, stats };
  } catch (error) {
    return { ids, skipped, error, stats: null };
  }
}

describe('passing over a block in process (chunk boundaries anywhere)', () => {
  const dsb = keyLogDsb(MAX_OTHER_BLOCK_BYTES + 1);
  const bytes = Buffer.concat([HEAD, dsb, packet(2), dsb, packet(3)]);
  const firstAt = HEAD.length;
  const secondAt = firstAt + dsb.length + packet(2).length;

  it('the bound itself: a block of exactly 8 MiB goes to onBlock; 4 bytes more is skipped', async () => {
    for (const [len, skip] of [[MAX_OTHER_BLOCK_BYTES, false], [MAX_OTHER_BLOCK_BYTES + 4, true]] as const) {
      const b = block(DSB, Buffer.alloc(len - 12), true);
      const src = await openCaptureStream(Readable.from([Buffer.concat([HEAD, b, packet(2)])], { objectMode: true }), 'mem');
      const seen: number[] = [];
      const skipped: number[] = [];
      await src.run(() => undefined, undefined, undefined, (blk) => seen.push(blk.length), (blk) => skipped.push(blk.length));
      expect(skipped).toEqual(skip ? [len] : []);
      expect(seen.includes(len)).toBe(!skip);
    }
  });

  it('two key-log DSBs over the bound, cut around every trailer byte: both skipped, every packet read', async () => {
    for (let k = -6; k <= 6; k++) {
      const first = firstAt + dsb.length - 4 + k;
      const r = await readCut(bytes, [first, secondAt - first + k, bytes.length]);
      expect(r.error).toBeNull();
      expect(r.ids).toEqual([1, 2, 3]);
      expect(r.skipped.map((b) => [b.type, b.fileOffset, b.length])).toEqual([
        [DSB, firstAt, dsb.length],
        [DSB, secondAt, dsb.length],
      ]);
      expect(r.stats).toMatchObject({ skippedBlocks: 2, skippedBlockBytes: 2 * dsb.length });
    }
  });

  it('any chunking gives the same result (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 4096, max: 3 * MiB }), { minLength: 1, maxLength: 6 }), async (cuts) => {
        const r = await readCut(bytes, cuts);
        expect(r.error).toBeNull();
        expect(r.ids).toEqual([1, 2, 3]);
        expect(r.skipped.map((b) => b.fileOffset)).toEqual([firstAt, secondAt]);
      }),
      { numRuns: 15 },
    );
  });

  it('a regular file read ahead in small chunks (the block cut by every chunk end) gives the same', async () => {
    const f = path.join(tmp, 'two-dsb.pcapng');
    fs.writeFileSync(f, bytes);
    for (const tuning of [{}, { chunkBytes: 64 * 1024, reserveBytes: 1024 }, { chunkBytes: 1000, reserveBytes: 0, readDepth: 1 }]) {
      const r = await readFile(f, tuning);
      expect(r.error).toBeNull();
      expect(r.records.map((x) => x.data.readUInt16BE(18))).toEqual([1, 2, 3]);
      expect(r.stats).toMatchObject({ packets: 3, bytes: bytes.length, skippedBlocks: 2 });
    }
  });

  it('an absurd length not backed by data (0xfffffffc in a 200-byte tail): E_CAPTURE_TRUNCATED at the block, nothing big allocated', async () => {
    for (const type of [DSB, 4, 5, CUSTOM, 0x40000bad, 0x1234]) {
      const input = Buffer.concat([HEAD, w32(type, true), w32(0xfffffffc, true), Buffer.alloc(200)]);
      const real = Buffer.allocUnsafe;
      let biggest = 0;
      const spy = (size: number): Buffer => {
        biggest = Math.max(biggest, size);
        return real(size);
      };
      Buffer.allocUnsafe = spy as typeof Buffer.allocUnsafe;
      let r;
      try {
        r = await readChunked(input, [7]);
      } finally {
        Buffer.allocUnsafe = real;
      }
      const e = r.error as CaptureError;
      expect([e.code, e.offset]).toEqual(['E_CAPTURE_TRUNCATED', HEAD.length]);
      expect(e.message).toContain(`(208 of ${0xfffffffc} bytes present)`);
      expect(r.records).toHaveLength(1);
      expect(biggest).toBeLessThanOrEqual(READ_CHUNK_BYTES);
    }
  });

  it('a block length that is no multiple of 4 is still corrupt at its length field, however large', async () => {
    const r = await readChunked(Buffer.concat([HEAD, w32(DSB, true), w32(MAX_OTHER_BLOCK_BYTES + 6, true), Buffer.alloc(100)]));
    const e = r.error as CaptureError;
    expect([e.code, e.offset]).toEqual(['E_CAPTURE_CORRUPT', HEAD.length + 4]);
  });

  it('section header and interface description blocks keep the bound (they are parsed): E_CAPTURE_RECORD_TOO_LARGE at the length', async () => {
    const big = MAX_OTHER_BLOCK_BYTES + 4;
    const idbBig = Buffer.concat([shb(true), w32(1, true), w32(big, true), Buffer.alloc(100)]);
    const shbBig = Buffer.concat([HEAD, w32(0x0a0d0d0a, true), w32(big, true), w32(0x1a2b3c4d, true), Buffer.alloc(100)]);
    for (const [input, at] of [[idbBig, 28 + 4], [shbBig, HEAD.length + 4]] as const) {
      const e = (await readChunked(input)).error as CaptureError;
      expect([e.code, e.offset]).toEqual(['E_CAPTURE_RECORD_TOO_LARGE', at]);
    }
  });
});

const haveTshark = haveTool('tshark') && haveTool('capinfos');

describe.skipIf(!built || !haveTshark)('replay: an oversized block is left out of OUT and the annotated capture, and said so', () => {
  it('a 9 MiB TLS key-log DSB between packets (the editcap --inject-secrets case)', () => {
    const dsb = keyLogDsb(9 * MiB);
    const input = path.join(tmp, 'keylog.pcapng');
    fs.writeFileSync(input, Buffer.concat([HEAD, dsb, packet(2)]));
    // What Wireshark's tools make of the input: 2 packets, 1 secrets block.
    expect(spawnSync('capinfos', [input], { encoding: 'utf8' }).stdout).toMatch(/Number of decryption secrets in file: 1/);
    const out = path.join(tmp, 'keylog.out.pcapng');
    const ann = path.join(tmp, 'keylog.ann.pcapng');
    const r = spawnSync(process.execPath, [CLI_MAIN, 'replay', input, '-o', out, '--annotate', ann, '--summary'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const said =
      `pcapng Decryption Secrets Block (type 0x0000000a) at input byte offset ${HEAD.length}, ${dsb.length} bytes: ` +
      'larger than the 8 MiB a block is buffered, passed over unread and left out of OUT and the annotated capture';
    expect(r.stderr).toContain(`smtp-inspect: warning: ${said}`);
    expect(r.stdout).toContain(`NOTE: input block skipped: ${said}`);
    for (const f of [out, ann]) {
      const t = spawnSync('tshark', ['-r', f, '-T', 'fields', '-e', 'ip.id'], { encoding: 'utf8' });
      expect(t.status, t.stderr).toBe(0);
      expect(t.stdout.trim().split('\n')).toEqual(['0x0001', '0x0002']);
      const info = spawnSync('capinfos', [f], { encoding: 'utf8' }).stdout;
      expect(info).toMatch(/Number of packets:\s+2\b/);
      expect(info).not.toMatch(/decryption secrets/i);
    }
    // Nothing else was dropped: OUT is the input without the DSB, byte for byte.
    expect(fs.readFileSync(out).equals(Buffer.concat([HEAD, packet(2)]))).toBe(true);
  });

  it('info counts the skipped block and reads every packet', () => {
    const { file } = sparseWithBlock('info-big.pcapng', CUSTOM, 20 * MiB + 12);
    const r = spawnSync(process.execPath, [CLI_MAIN, 'info', file, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ packets: 3, skippedBlocks: 1 });
    const text = spawnSync(process.execPath, [CLI_MAIN, 'info', file], { encoding: 'utf8' }).stdout;
    expect(text).toMatch(/Blocks skipped:\s+1 \(pcapng blocks carrying no packet, over 8 MiB: passed over, not read\)/);
  });
});
