/**
 * `info` when the reading does not reach a clean end, and on captures whose times are unusual:
 * - SIGINT/SIGTERM on the real program reading a FIFO that stays open (Ctrl-C on
 *   `tcpdump -U -w - | smtp-inspect info -`): the summary of what was read, equal to the summary of
 *   the same bytes as a file, marked interrupted; exit 130;
 * - a capture cut inside a record: the summary of every packet before it (capinfos counts the
 *   same), the error in JSON and on stderr, exit 2;
 * - pcapng Simple Packet Blocks (no time): left out of first/last time and duration;
 * - a pcapng with only a section header: its byte order, no precision claim;
 * - times beyond Date's range (if_tsresol=0, counts 2^50 and 2^63+5): expanded years, never NaN.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectInfo, formatInfo } from '../../src/cli/info.js';
import { canObserveThreads, ensureBuilt, MAIN, recordEnds, runInterruptedOnFifo } from '../helpers/interrupted-run.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';
import { PcapngBuilder, pcapPackets } from './pcapng-build.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'si-info-partial-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
const haveFifo = haveTool('mkfifo');
if (!canObserveThreads) console.warn('[skip] /proc/<pid>/task/<tid>/wchan not readable: the interrupt tests cannot tell when the program is idle');

/** A little-endian µs pcap rewritten as a "modified" (Kuznetzov) pcap: magic a1b2cd34, 24-byte record headers. */
function toModifiedPcap(std: Buffer): Buffer {
  const head = Buffer.from(std.subarray(0, 24));
  head.writeUInt32LE(0xa1b2cd34, 0);
  const parts: Buffer[] = [head];
  for (let p = 24; p + 16 <= std.length; ) {
    const caplen = std.readUInt32LE(p + 8);
    const extra = Buffer.alloc(8);
    extra.writeUInt32LE(2, 0); // ifindex
    extra.writeUInt16LE(0x0800, 4); // protocol
    parts.push(std.subarray(p, p + 16), extra, std.subarray(p + 16, p + 16 + caplen));
    p += 16 + caplen;
  }
  return Buffer.concat(parts);
}

/** The first `n` records of `file` as a capture of their own. */
function prefix(bytes: Buffer, n: number): Buffer {
  return bytes.subarray(0, recordEnds(bytes)[n - 1]);
}

describe.skipIf(!haveShared || !haveFifo || !canObserveThreads)('info interrupted by a signal (the built CLI on a FIFO that stays open)', () => {
  beforeAll(() => ensureBuilt());
  // Four SMTP connections; the first half of its records holds one closed and one still open.
  const capture = path.join(EXTERNAL_PCAPS, 'sv-errors.pcap');

  it('SIGINT: the JSON summary of the packets read, as for the same bytes in a file, interrupted: true; exit 130', async () => {
    const bytes = readFileSync(capture);
    const n = Math.floor(recordEnds(bytes).length / 2);
    const half = prefix(bytes, n);
    const cut = path.join(tmp, 'half.pcap');
    writeFileSync(cut, half);
    const fifo = path.join(tmp, 'in1.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runInterruptedOnFifo(['info', '--json', '-'], fifo, half, 'SIGINT');
    expect(r.stderr).toBe(`smtp-inspect: interrupted: summary of the ${n} packet(s) read until the signal\n`);
    expect(r.status).toBe(130);
    const got = JSON.parse(r.stdout);
    const want = await collectInfo(cut);
    expect(want.interrupted).toBe(false);
    expect(got).toEqual({ ...want, file: '-', interrupted: true });
    expect(got.packets).toBe(n);
    expect(got.tcpConnections).toBe(2);
  }, 30_000);

  it.each(['kuznetzov', 'suse6_3pcap'])('SIGINT on a "modified" pcap (%s): the byte count covers its 24- or 28-byte record headers, as for the file; the format says modified', async (variant) => {
    if (variant !== 'kuznetzov' && !haveTool('editcap')) return;
    const bytes = readFileSync(capture);
    const n = Math.floor(recordEnds(bytes).length / 2);
    const std = path.join(tmp, `half-std-${variant}.pcap`);
    writeFileSync(std, prefix(bytes, n));
    const cut = path.join(tmp, `half-modified-${variant}.pcap`);
    if (variant === 'kuznetzov') writeFileSync(cut, toModifiedPcap(prefix(bytes, n)));
    else execFileSync('editcap', ['-F', variant, std, cut]);
    const half = readFileSync(cut);
    const fifo = path.join(tmp, `in-mod-${variant}.fifo`);
    execFileSync('mkfifo', [fifo]);
    const r = await runInterruptedOnFifo(['info', '--json', '-'], fifo, half, 'SIGINT');
    expect(r.status).toBe(130);
    const got = JSON.parse(r.stdout);
    const want = await collectInfo(cut);
    expect(want.inputBytes).toBe(half.length);
    // before: 8 bytes short (the last record's header counted as 16 bytes)
    expect(got).toEqual({ ...want, file: '-', interrupted: true });
    expect(got.modifiedPcap).toBe(true);
    expect(formatInfo(want)).toMatch(/\nFormat:\s+pcap \(modified: Kuznetzov\/patched-libpcap records\), little-endian, microseconds\n/);
  }, 30_000);

  it('SIGTERM: the text summary says it was interrupted; nothing read yet: no summary, exit 130', async () => {
    const bytes = readFileSync(capture);
    const fifo = path.join(tmp, 'in2.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runInterruptedOnFifo(['info', '-'], fifo, prefix(bytes, 5), 'SIGTERM');
    expect(r.status).toBe(130);
    expect(r.stdout).toMatch(/^File:\s+-\nRead:\s+interrupted \(SIGINT\/SIGTERM\): the counts cover the packets read until then\nFormat:\s+pcap, little-endian, microseconds\n/);
    expect(r.stdout).toMatch(/\nPackets:\s+5\n/);

    const empty = path.join(tmp, 'in3.fifo');
    execFileSync('mkfifo', [empty]);
    const none = await runInterruptedOnFifo(['info', '-'], empty, Buffer.alloc(0), 'SIGINT');
    expect(none.status).toBe(130);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('smtp-inspect: -: interrupted before the capture header was read: nothing to summarise\n');
  }, 30_000);
});

describe.skipIf(!haveShared)('info on a capture cut inside a record', () => {
  beforeAll(() => ensureBuilt());

  it('prints the summary of every packet before the fault (text and JSON with the error), then the error; exit 2', async () => {
    const bytes = readFileSync(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
    const ends = recordEnds(bytes);
    const k = ends.length - 3;
    const cut = path.join(tmp, 'cut-in-record.pcap');
    writeFileSync(cut, bytes.subarray(0, ends[k - 1]! + 16 + 7)); // header and 7 bytes of record k+1
    const clean = path.join(tmp, 'clean-prefix.pcap');
    writeFileSync(clean, bytes.subarray(0, ends[k - 1]));

    const json = run(['info', '--json', cut]);
    expect(json.status).toBe(2);
    const errLine = `smtp-inspect: ${cut}: byte offset ${ends[k - 1]}: input ends inside a pcap record`;
    expect(json.stderr.startsWith(errLine)).toBe(true);
    expect(json.stderr.trim().split('\n')).toHaveLength(1);
    const got = JSON.parse(json.stdout);
    const want = await collectInfo(clean);
    expect(got.error).toEqual({ code: 'E_CAPTURE_TRUNCATED', message: expect.stringMatching(/^input ends inside a pcap record/), offset: ends[k - 1], decompressed: false });
    expect({ ...got, file: clean, error: null }).toEqual(want);
    expect(got.packets).toBe(k);

    const text = run(['info', cut]);
    expect(text.status).toBe(2);
    expect(text.stdout).toContain(`Read:               stopped by a capture fault at byte offset ${ends[k - 1]} [E_CAPTURE_TRUNCATED]: the counts cover every packet before it\n`);
    expect(text.stdout).toMatch(new RegExp(`\\nPackets:\\s+${k}\\n`));
    expect(text.stderr.startsWith(errLine)).toBe(true);

    // gzip-compressed: the offset counts decompressed bytes, and says so
    const gz = path.join(tmp, 'cut-in-record.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(cut)));
    const zipped = run(['info', '--json', gz]);
    expect(zipped.status).toBe(2);
    expect(JSON.parse(zipped.stdout)).toMatchObject({ packets: k, gzip: true, error: { code: 'E_CAPTURE_TRUNCATED', offset: ends[k - 1], decompressed: true } });
    expect(zipped.stderr).toContain(`decompressed byte offset ${ends[k - 1]}`);
    expect(run(['info', gz]).stdout).toContain(`stopped by a capture fault at decompressed byte offset ${ends[k - 1]} [E_CAPTURE_TRUNCATED]`);

    if (haveTool('capinfos')) {
      // capinfos prints its counts, then the error (exit 1): the same packet count
      const c = spawnSync('capinfos', ['-T', '-r', '-c', cut], { encoding: 'utf8' });
      expect(c.stdout.trim().split('\t')[1]).toBe(String(k));
    }
  });
});

describe.skipIf(!haveShared)('info on pcapng shapes with unusual times', () => {
  const packets = haveShared ? pcapPackets(readFileSync(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'))) : [];
  const usec = (i: number): bigint => BigInt(packets[i]!.tsSec) * 1_000_000n + BigInt(packets[i]!.tsUsec);

  it('Simple Packet Blocks store no time: left out of first/last time and duration (n/a, JSON null when none has one)', async () => {
    // EPB, then SPBs, then EPB again, then a trailing SPB: times come from the EPBs only.
    const b = new PcapngBuilder().shb().idb(1);
    const last = packets.length - 1;
    packets.forEach((p, i) => (i === 0 || i === last - 1 ? b.epb(usec(i), p.data) : b.spb(p.data)));
    const mixed = path.join(tmp, 'mixed-spb.pcapng');
    writeFileSync(mixed, b.build());
    const info = await collectInfo(mixed);
    expect(info.packets).toBe(packets.length);
    expect(info.packetsWithoutTime).toBe(packets.length - 2);
    const iso = (i: number) => new Date(packets[i]!.tsSec * 1000).toISOString().replace('.000Z', `.${String(packets[i]!.tsUsec).padStart(6, '0')}Z`);
    expect(info.firstTime).toBe(iso(0));
    expect(info.lastTime).toBe(iso(last - 1));
    expect(info.tcpConnections).toBe(1);
    expect(formatInfo(info)).toMatch(new RegExp(`\\nPackets:\\s+${packets.length} \\(${packets.length - 2} with no time of their own: pcapng Simple Packet Blocks\\)\\n`));
    if (haveTool('tshark')) {
      const out = execFileSync('tshark', ['-n', '-r', mixed, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent' }, stdio: ['ignore', 'pipe', 'ignore'] });
      expect(out.trim().split('\n')).toHaveLength(packets.length);
    }

    const onlySpb = new PcapngBuilder().shb().idb(1);
    for (const p of packets) onlySpb.spb(p.data);
    const spb = path.join(tmp, 'only-spb.pcapng');
    writeFileSync(spb, onlySpb.build());
    const none = await collectInfo(spb);
    expect(none).toMatchObject({ packets: packets.length, packetsWithoutTime: packets.length, firstTime: null, lastTime: null, durationSeconds: null });
    expect(formatInfo(none)).toMatch(/\nFirst packet:\s+n\/a \(no packet stores a time\)\nLast packet:\s+n\/a \(no packet stores a time\)\nDuration:\s+n\/a/);
  });

  it('the text Duration is decimal at the capture precision, as capinfos prints it (not 2e-8)', async () => {
    const b = new PcapngBuilder().shb().idb(1, 0, 9);
    b.epb(1_700_000_000_000_000_000n, packets[0]!.data).epb(1_700_000_000_000_000_020n, packets[1]!.data);
    const ns = path.join(tmp, 'twenty-ns.pcapng');
    writeFileSync(ns, b.build());
    const info = await collectInfo(ns);
    expect(info.durationSeconds).toBe(2e-8);
    expect(formatInfo(info)).toMatch(/\nDuration:\s+0\.000000020 s\n/);
    if (haveTool('capinfos')) {
      const out = execFileSync('capinfos', ['-u', ns], { encoding: 'utf8' });
      expect(out).toMatch(/Capture duration:\s+0\.000000020 seconds/);
    }
    const us = await collectInfo(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
    expect(formatInfo(us)).toMatch(new RegExp(`\\nDuration:\\s+${us.durationSeconds!.toFixed(6).replace('.', '\\.')} s\\n`));
  });

  it('a section header alone: its byte order, and no precision claimed', async () => {
    for (const le of [true, false]) {
      const f = path.join(tmp, `shb-only-${le}.pcapng`);
      writeFileSync(f, new PcapngBuilder(le).shb().build());
      const info = await collectInfo(f);
      expect(info).toMatchObject({ byteOrder: le ? 'little-endian' : 'big-endian', timePrecisionDigits: null, interfaces: 0, packets: 0, firstTime: null });
      expect(formatInfo(info)).toMatch(new RegExp(`\\nFormat:\\s+pcapng, ${le ? 'little' : 'big'}-endian\\n`));
    }
  });

  it('times beyond Date (if_tsresol=0, counts 2^50 and 2^63+5): ISO 8601 expanded years, a finite duration, no NaN', async () => {
    const f = path.join(tmp, 'far-future.pcapng');
    writeFileSync(f, new PcapngBuilder(false).shb().idb(1, 0, 0).epb(2n ** 50n, packets[0]!.data).epb(2n ** 63n + 5n, packets[1]!.data).build());
    const info = await collectInfo(f);
    expect(info.firstTime).toBe('+35680317-09-25T18:57:04Z');
    // 2^63 + 5 seconds, as the nearest double (2^63)
    expect(info.lastTime).toBe('+292277026596-12-04T15:30:08Z');
    expect(info.durationSeconds).toBe(2 ** 63 - 2 ** 50);
    expect(info.timePrecisionDigits).toBe(0);
    const text = formatInfo(info);
    expect(text).not.toMatch(/NaN/);
    expect(text).toMatch(/\nFormat:\s+pcapng, big-endian, 0 fraction digits\n/);
    if (haveTool('capinfos')) {
      const c = spawnSync('capinfos', ['-T', '-r', '-a', f], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      expect(c.stdout.trim().split('\t')[1]).toBe('35680317-09-25 18:57:04');
    }
  });
});
