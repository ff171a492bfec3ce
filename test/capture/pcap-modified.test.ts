/**
 * The "modified" (Kuznetzov, patched-libpcap) pcap: magic a1b2cd34, µs timestamps, 24-byte record
 * headers (the standard 16 + ifindex, protocol, pkt_type, pad). tshark and editcap read it; it was
 * refused (E_CAPTURE_UNSUPPORTED). Built from a real Postfix session in both byte orders; read
 * records equal the standard pcap's, tshark agrees, replay's OUT is the standard pcap (as `editcap
 * -F pcap` writes) with the same records as replaying the standard file. A cut inside a 24-byte
 * header is a truncation at that record.
 *
 * The same magic also marks SuSE 6.3's variant (ss990915: 28-byte record headers), which `editcap -F
 * suse6_3pcap` writes and tshark reads; nothing in the file header tells the two apart, so the
 * layout is chosen from the first records, as Wireshark's reader does. Regression: it failed at
 * its second record (E_CAPTURE_RECORD_TOO_LARGE).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../src/errors.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';
import { readChunked, readFile, w16, w32 } from './model.js';

const SRC = path.join(GENERATED_DIR, '12-unknown-commands.pcap');
const present = haveShared && existsSync(SRC);
if (!present) console.warn(`skipping pcap-modified: ${SRC} not present`);

/** The standard µs pcap `std` rewritten in the modified format, in byte order `le`. */
function toModified(std: Buffer, le: boolean): Buffer {
  const sle = std.readUInt32LE(0) === 0xa1b2c3d4;
  const r32 = (o: number): number => (sle ? std.readUInt32LE(o) : std.readUInt32BE(o));
  const parts = [w32(0xa1b2cd34, le), w16(2, le), w16(4, le), w32(0, le), w32(0, le), w32(r32(16), le), w32(r32(20), le)];
  for (let p = 24, i = 0; p + 16 <= std.length; i++) {
    const caplen = r32(p + 8);
    parts.push(w32(r32(p), le), w32(r32(p + 4), le), w32(caplen, le), w32(r32(p + 12), le));
    parts.push(w32(i % 3, le), w16(0x0800, le), Buffer.from([i % 5, 0])); // ifindex, protocol, pkt_type, pad
    parts.push(std.subarray(p + 16, p + 16 + caplen));
    p += 16 + caplen;
  }
  return Buffer.concat(parts);
}

describe.skipIf(!present)('modified (Kuznetzov) pcap', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pcap-modified-'));
  const std = present ? readFileSync(SRC) : Buffer.alloc(0);

  for (const le of [true, false]) {
    const name = `modified-${le ? 'le' : 'be'}.pcap`;
    it(`${name}: records as in the standard pcap; tshark agrees`, async () => {
      const file = path.join(dir, name);
      writeFileSync(file, toModified(std, le));
      const want = await readFile(SRC);
      const got = await readFile(file);
      expect(got.error).toBeNull();
      expect(got.source.pcapHeader?.modified).toBe(true);
      const key = (r: typeof got.records[number]) => [r.packetNumber, r.tsSec, r.tsNsec, r.originalLength, r.data.toString('hex')];
      expect(got.records.map(key)).toEqual(want.records.map(key));
      if (haveTool('tshark')) {
        const fields = (f: string) => tshark(['-r', f, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len']);
        expect(fields(file)).toBe(fields(SRC));
      }
    });

    it(`${name}: replay writes the standard pcap with the records of the standard file's replay`, async () => {
      const file = path.join(dir, `r-${name}`);
      writeFileSync(file, toModified(std, le));
      const r = await replayToTemp(file);
      const ref = await replayToTemp(SRC);
      expect(r.summary.packets.modified).toBeGreaterThan(0);
      const out = readFileSync(r.out);
      expect(out.readUInt32BE(0)).toBe(le ? 0xd4c3b2a1 : 0xa1b2c3d4); // standard µs magic, input byte order
      const key = (x: { tsSec: number; tsNsec: number; data: Buffer }) => [x.tsSec, x.tsNsec, x.data.toString('hex')];
      expect((await readFile(r.out)).records.map(key)).toEqual((await readFile(ref.out)).records.map(key));
    });
  }

  it('a cut inside a 24-byte record header is a truncation at that record, after the records before it', async () => {
    const mod = toModified(std, true);
    // Second record starts at 24 + 24 + caplen of the first.
    const second = 24 + 24 + mod.readUInt32LE(24 + 8);
    // The stream path too (chunks of 7 bytes: header boundaries everywhere).
    const streamed = await readChunked(mod.subarray(0, second + 20), [7]);
    expect(streamed.records.length).toBe(1);
    expect((streamed.error as CaptureError).code).toBe('E_CAPTURE_TRUNCATED');
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, mod.subarray(0, second + 20));
    const res = await readFile(cut);
    expect(res.records.length).toBe(1);
    expect(res.error).toBeInstanceOf(CaptureError);
    expect((res.error as CaptureError).code).toBe('E_CAPTURE_TRUNCATED');
    expect((res.error as CaptureError).offset).toBe(second);
  });

  it.skipIf(!haveTool('editcap'))('SuSE 6.3 variant (28-byte record headers, written by editcap): records and replay as the standard pcap', async () => {
    const file = path.join(dir, 'suse6_3.pcap');
    execFileSync('editcap', ['-F', 'suse6_3pcap', SRC, file]);
    const bytes = readFileSync(file);
    expect(bytes.readUInt32LE(0)).toBe(0xa1b2cd34);
    // editcap's layout: the second record starts 28 + caplen after the first.
    const want = await readFile(SRC);
    expect(bytes.readUInt32LE(24 + 28 + want.records[0]!.captureLength + 8)).toBe(want.records[1]!.captureLength);
    const got = await readFile(file);
    expect(got.error).toBeNull();
    const key = (r: typeof got.records[number]) => [r.packetNumber, r.tsSec, r.tsNsec, r.originalLength, r.data.toString('hex')];
    expect(got.records.map(key)).toEqual(want.records.map(key));
    const r = await replayToTemp(file);
    const ref = await replayToTemp(SRC);
    expect(readFileSync(r.out).equals(readFileSync(ref.out))).toBe(true);
  });

  it.skipIf(!haveTool('editcap'))('Red Hat 6.1 variant (standard magic, longer record headers): the error says how to convert it', async () => {
    const file = path.join(dir, 'rh6_1.pcap');
    execFileSync('editcap', ['-F', 'rh6_1pcap', SRC, file]);
    const got = await readFile(file);
    expect((got.error as CaptureError).code).toBe('E_CAPTURE_RECORD_TOO_LARGE');
    expect((got.error as CaptureError).message).toContain('convert it first: editcap -F pcap IN OUT');
    // a record gone bad later in a standard file is plain corruption: no such hint
    const std = readFileSync(SRC);
    const third = 24 + 16 + std.readUInt32LE(24 + 8) + 16 + std.readUInt32LE(24 + 16 + std.readUInt32LE(24 + 8) + 8);
    const bad = Buffer.from(std);
    bad.writeUInt32LE(0x7fffffff, third + 8);
    const late = path.join(dir, 'late-corrupt.pcap');
    writeFileSync(late, bad);
    const res = await readFile(late);
    expect(res.records.length).toBe(2);
    expect((res.error as CaptureError).code).toBe('E_CAPTURE_RECORD_TOO_LARGE');
    expect((res.error as CaptureError).message).not.toContain('editcap');
  });
});
