/**
 * Faults: a full disk (OUT on /dev/full) ends with one clear line and exit 3, no stack trace; a
 * capture cut in the middle of a record, or corrupt in the middle (a record/block length that
 * lies), is processed up to the fault: OUT and the verdicts are exactly those of a clean capture
 * holding only the packets before the fault, and the error names the fault's byte offset (exit 2).
 * (A closed pipe is covered with the replay CLI tests.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { executeReplay, runReplay, type ReplayCliOptions } from '../../src/cli/replay.js';
import { action } from '../../src/cli/errors.js';
import { CaptureError, EXIT } from '../../src/errors.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-faults-'));
const base = (extra: Partial<ReplayCliOptions> = {}): ReplayCliOptions => ({ checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true, ...extra });

/** Runs the replay command's action in-process; returns its exit code and stderr. */
async function cli(input: string, opts: ReplayCliOptions): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  const before = process.exitCode;
  try {
    await action(runReplay)(input, opts);
    return { code: Number(process.exitCode ?? 0), stderr };
  } finally {
    spy.mockRestore();
    process.exitCode = before;
  }
}

/** Byte offsets of every record header of a classic pcap. */
function pcapRecordOffsets(b: Buffer): number[] {
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const out: number[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    out.push(off);
    off += 16 + (le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8));
  }
  return out;
}

/** Byte offsets of every block of a (little-endian) pcapng, and which are packets (EPB). */
function pcapngBlocks(b: Buffer): Array<{ off: number; type: number }> {
  const out: Array<{ off: number; type: number }> = [];
  for (let off = 0; off + 12 <= b.length; ) {
    out.push({ off, type: b.readUInt32LE(off) });
    off += b.readUInt32LE(off + 4);
  }
  return out;
}

interface Outcome {
  out: Buffer;
  verdicts: string;
  inputError: CaptureError | null;
  packetsIn: number;
}

async function replay(file: string, name: string): Promise<Outcome> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'out' + path.extname(file));
  const verdicts = path.join(dir, 'v.jsonl');
  const r = await executeReplay(file, base({ output: out, verdicts }));
  const e = r.inputError;
  if (e !== null && !(e instanceof CaptureError)) throw e;
  return { out: fs.readFileSync(out), verdicts: fs.readFileSync(verdicts, 'utf8'), inputError: e, packetsIn: r.summary.packets.in };
}

/** The fault case against the clean prefix: same OUT bytes, same verdicts, the error naming `offset`. */
async function expectProcessedUpTo(damaged: Buffer, prefix: Buffer, ext: string, offset: number, packets: number, name: string): Promise<CaptureError> {
  const bad = path.join(tmp, `${name}-damaged${ext}`);
  const good = path.join(tmp, `${name}-prefix${ext}`);
  fs.writeFileSync(bad, damaged);
  fs.writeFileSync(good, prefix);
  const a = await replay(bad, `${name}-a`);
  const b = await replay(good, `${name}-b`);
  expect(b.inputError).toBeNull();
  expect(b.packetsIn).toBe(packets);
  expect(a.inputError).not.toBeNull();
  expect(a.packetsIn).toBe(packets);
  expect(a.out.equals(b.out), 'OUT holds exactly the packets before the fault').toBe(true);
  expect(a.verdicts).toBe(b.verdicts);
  expect(a.inputError!.offset).toBe(offset);
  const c = await cli(bad, base({ output: path.join(tmp, `${name}-cli${ext}`) }));
  expect(c.code).toBe(EXIT.USAGE_OR_INPUT);
  expect(c.stderr).toContain(`byte offset ${offset}`);
  expect(c.stderr).not.toMatch(/\n\s+at /);
  return a.inputError!;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('output faults', () => {
  it.skipIf(!haveShared || !fs.existsSync('/dev/full'))('a full disk (-o /dev/full): one clear line, exit 3, no stack trace', async () => {
    const r = await cli(path.join(GENERATED_DIR, '07c-rcpt-101.pcap'), base({ output: '/dev/full' }));
    expect(r.code).toBe(EXIT.OUTPUT);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^smtp-inspect: .*(ENOSPC|no space|full)/i);
    expect(lines[0]).toMatch(/\[E_OUTPUT/);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it.skipIf(!haveShared || !fs.existsSync('/dev/full'))('a full disk for the verdicts file: exit 3 as well', async () => {
    const r = await cli(path.join(GENERATED_DIR, '07c-rcpt-101.pcap'), base({ output: path.join(tmp, 'ok.pcap'), verdicts: '/dev/full' }));
    expect(r.code).toBe(EXIT.OUTPUT);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});

describe.skipIf(!haveShared)('input faults: everything before the fault is processed and written', () => {
  const rcpt = haveShared ? fs.readFileSync(path.join(GENERATED_DIR, '07c-rcpt-101.pcap')) : Buffer.alloc(0);
  const offs = haveShared ? pcapRecordOffsets(rcpt) : [];

  it('pcap cut in the middle of a record header', async () => {
    const k = offs.length - 3; // after the 101st RCPT: the drop verdicts are before the fault
    const at = offs[k]!;
    const e = await expectProcessedUpTo(rcpt.subarray(0, at + 9), rcpt.subarray(0, at), '.pcap', at, k, 'cut-header');
    expect(e.code).toBe('E_CAPTURE_TRUNCATED');
  });

  it('pcap cut in the middle of a record body', async () => {
    const k = Math.floor(offs.length / 2);
    const at = offs[k]!;
    const e = await expectProcessedUpTo(rcpt.subarray(0, at + 16 + 20), rcpt.subarray(0, at), '.pcap', at, k, 'cut-body');
    expect(e.code).toBe('E_CAPTURE_TRUNCATED');
  });

  it('pcap corrupt in the middle: a record length claiming 2 GB', async () => {
    const k = offs.length - 5;
    const at = offs[k]!;
    const bad = Buffer.from(rcpt);
    bad.writeUInt32LE(0x7fffffff, at + 8);
    bad.writeUInt32LE(0x7fffffff, at + 12);
    // the error points at the lying field (caplen)
    const e = await expectProcessedUpTo(bad, rcpt.subarray(0, at), '.pcap', at + 8, k, 'corrupt-len');
    expect(e.code).toMatch(/^E_CAPTURE_(CORRUPT|RECORD_TOO_LARGE)$/);
  });

  it('pcapng corrupt in the middle: a block whose trailing length disagrees', async () => {
    const ng = fs.readFileSync(path.join(GENERATED_DIR, '18c-dumpcap-pcapng.pcapng'));
    const blocks = pcapngBlocks(ng);
    const epbs = blocks.filter((b) => b.type === 6);
    const k = Math.floor(epbs.length / 2);
    const at = epbs[k]!.off;
    const len = ng.readUInt32LE(at + 4);
    const bad = Buffer.from(ng);
    bad.writeUInt32LE(len + 4, at + len - 4);
    // the error points at the trailing length that disagrees
    const e = await expectProcessedUpTo(bad, ng.subarray(0, at), '.pcapng', at + len - 4, k, 'ng-trailer');
    expect(e.code).toMatch(/^E_CAPTURE_/);
  });

  it('pcapng cut in the middle of a block', async () => {
    const ng = fs.readFileSync(path.join(GENERATED_DIR, '18c-dumpcap-pcapng.pcapng'));
    const epbs = pcapngBlocks(ng).filter((b) => b.type === 6);
    const k = epbs.length - 2;
    const at = epbs[k]!.off;
    const e = await expectProcessedUpTo(ng.subarray(0, at + 30), ng.subarray(0, at), '.pcapng', at, k, 'ng-cut');
    expect(e.code).toBe('E_CAPTURE_TRUNCATED');
  });
});
