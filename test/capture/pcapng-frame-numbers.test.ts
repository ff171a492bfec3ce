/**
 * Packet numbers are Wireshark frame numbers, also in a pcapng holding blocks that Wireshark shows
 * as frames without carrying a packet: custom blocks (0xBAD, 0x40000BAD; wiretap returns them as
 * REC_TYPE_CUSTOM_BLOCK records) and systemd journal export blocks. Before, such blocks were not
 * counted, so every verdict after one named the wrong frame (verdict `packet` 4 = tshark frame 6
 * after two custom blocks), and `replay --check` failed ("tshark on OUT: 70 packet(s) (expected 67)").
 * Input: a real Postfix session that the ASA default policy drops (07c-rcpt-101: RCPT #101) as
 * pcapng with those blocks between its packets.
 */
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkReplayInvariant } from '../../src/pipeline/invariant.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { loadPackets } from '../helpers/capture-packets.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';
import { block, epb, idb, option, readFile, shb, w32 } from './model.js';

const SRC = path.join(GENERATED_DIR, '07c-rcpt-101.pcap');
const present = haveShared && existsSync(SRC);
if (!present) console.warn(`skipping pcapng-frame-numbers: ${SRC} not present`);

const le = true;
const custom = (type: number, text: string): Buffer => block(type, Buffer.concat([w32(32473, le), Buffer.from(text)]), le);
const journal = (usec: bigint): Buffer => block(9, Buffer.from(`__REALTIME_TIMESTAMP=${usec}\nMESSAGE=postfix/smtpd: connect\n`), le);

describe.skipIf(!present)('packet numbers count the blocks Wireshark shows as frames', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pcapng-frames-'));
  const input = path.join(dir, 'in.pcapng');
  const packets = present ? loadPackets(SRC) : [];
  const parts = [shb(le), idb(le, packets[0]?.linkType ?? 1, 262144, [option(9, Buffer.from([9]), le)])];
  let frameBlocks = 0;
  packets.forEach((p, i) => {
    parts.push(epb(le, 0, BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec), p.data));
    if (i === 1 || i === 100) parts.push(custom(0xbad, `copy ${i}`)), frameBlocks++;
    if (i === 3 || i === 150) parts.push(custom(0x40000bad, `no copy ${i}`)), frameBlocks++;
    if (i === 5) parts.push(journal(BigInt(p.tsSec) * 1_000_000n)), frameBlocks++;
  });
  if (present) writeFileSync(input, Buffer.concat(parts));

  it.skipIf(!haveTool('tshark'))('a record\'s packet number is its tshark frame number', async () => {
    const r = await readFile(input);
    expect(r.error).toBeNull();
    expect(r.stats?.otherFrames).toBe(frameBlocks);
    // tshark: frames with an interface are the packets; the others are the custom/journal blocks.
    const frames = tshark(['-r', input, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.interface_id', '-e', 'frame.len'])
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(frames.length).toBe(packets.length + frameBlocks);
    const packetFrames = frames.filter((f) => f[1] !== '').map((f) => [Number(f[0]), Number(f[2])]);
    expect(r.records.map((x) => [x.packetNumber, x.originalLength])).toEqual(packetFrames);
  });

  it.skipIf(!haveTool('tshark'))('verdicts name the tshark frame; the annotated capture comments that frame; --check passes', async () => {
    const r = await replayToTemp(input, {}, '.pcapng');
    expect(r.summary.packets.dropped).toBeGreaterThan(0);
    const times = new Map(
      tshark(['-r', input, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch'])
        .trim()
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    const verdicts = readVerdicts(r.verdicts);
    const drop = verdicts.find((v) => v.action === 'drop-connection')!;
    expect(drop.detail).toMatch(/RCPT #101/);
    // The frame tshark shows under that number carries the 101st RCPT.
    const info = tshark(['-r', input, '-Y', `frame.number == ${drop.packet}`, '-T', 'fields', '-e', 'smtp.req.command']).trim();
    expect(info).toBe('RCPT');
    for (const v of verdicts) {
      const t = times.get(String(v.packet))!;
      const [s, f] = t.split('.') as [string, string];
      expect(v.time, `packet ${v.packet}`).toBe(`${new Date(Number(s) * 1000).toISOString().slice(0, 19)}.${f}Z`);
    }
    const annotated = new Set(
      tshark(['-r', r.annotate, '-Y', 'frame.comment', '-T', 'fields', '-e', 'frame.number'])
        .trim()
        .split('\n')
        .map(Number),
    );
    for (const v of verdicts) if (v.action !== 'note') expect(annotated.has(v.packet), `packet ${v.packet}`).toBe(true);
    const report = await checkReplayInvariant({ input, summary: r.summary, out: r.out, verdicts: r.verdicts });
    expect(report.problems).toEqual([]);
    expect(report.checks.join('\n')).toMatch(/tshark reads OUT: \d+ frame\(s\)/);
    // OUT leaves out the "do not copy" custom blocks (a manipulated file); the annotated capture keeps every block.
    const types = (f: string): number[] => {
      const b = readFileSync(f);
      const t: number[] = [];
      for (let p = 0; p + 12 <= b.length; p += b.readUInt32LE(p + 4)) t.push(b.readUInt32LE(p));
      return t;
    };
    const others = (f: string): number[] => types(f).filter((t) => t === 0xbad || t === 0x40000bad || t === 9);
    expect(others(input)).toEqual([0xbad, 0x40000bad, 9, 0xbad, 0x40000bad]);
    expect(others(r.annotate)).toEqual(others(input));
    expect(others(r.out)).toEqual([0xbad, 9, 0xbad]);
  });
});
