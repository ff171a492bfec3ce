/**
 * A pcapng block that carries no packet (custom, journal, NRB, ISB...) keeps its place among the
 * packets in OUT and in the annotated capture, also when the packets read before it are still held
 * (IP fragments until their datagram is complete, packets whose bytes the inspector has not
 * decided). Wireshark numbers custom blocks as frames, and verdict packet N is tshark frame N of
 * the input; the annotated capture promises the same numbering.
 *
 * Regression: the block was written as soon as it was read, ahead of the held packets: with a
 * custom block between two fragments of a datagram the annotated capture had it as frame 4 and
 * the first fragment as frame 5 (input: fragment 4, block 5), so every comment from there on sat
 * one frame off its packet.
 *
 * Input: fixtures/frag-v4-12-unknown-commands.pcap (a real Postfix session, its server greeting and
 * EHLO reply and one command sent as IPv4 fragments; make-fragments.py) as pcapng with custom
 * blocks right after the first fragment of each fragmented datagram and a trailing one.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPackets } from '../helpers/capture-packets.js';
import { pcapngLayout } from '../helpers/pcapng-layout.js';
import { haveTool, tshark } from '../helpers/shared.js';
import { block, epb, idb, shb, w32 } from '../capture/model.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'frag-v4-12-unknown-commands.pcap');
const le = true;
const custom = (type: number, text: string): Buffer => block(type, Buffer.concat([w32(32473, le), Buffer.from(text)]), le);


describe('input blocks keep their place among held packets', () => {
  const packets = loadPackets(SRC);
  // First fragments: More Fragments set, offset 0 (Ethernet + IPv4 flags/offset word at 20).
  const firsts = packets.flatMap((p, i) => ((p.data.readUInt16BE(20) & 0x3fff) === 0x2000 ? [i] : []));
  const dir = mkdtempSync(path.join(tmpdir(), 'held-blocks-'));
  const input = path.join(dir, 'in.pcapng');
  const parts = [shb(le), idb(le, packets[0]!.linkType, 262144)];
  packets.forEach((p, i) => {
    parts.push(epb(le, 0, BigInt(p.tsSec) * 1_000_000n + BigInt(Math.floor(p.tsNsec / 1000)), p.data));
    if (firsts.includes(i)) parts.push(custom(i % 2 === 0 ? 0xbad : 0x40000bad, `after ${i + 1}`));
  });
  parts.push(custom(0xbad, 'end'));
  writeFileSync(input, Buffer.concat(parts));

  it('the fixture is what it says: several fragmented datagrams', () => {
    expect(firsts.length).toBeGreaterThanOrEqual(3);
  });

  it('OUT and the annotated capture have each block right after the packet it followed', async () => {
    const r = await replayToTemp(input, {}, '.pcapng');
    expect(r.summary.packets.dropped).toBe(0);
    const want = pcapngLayout(input);
    expect(pcapngLayout(r.annotate)).toEqual(want);
    // OUT leaves out the 'do not copy' blocks, the others in place.
    const noCopy = new Set(firsts.filter((i) => i % 2 !== 0).map((i) => `after ${i + 1}`));
    expect(pcapngLayout(r.out)).toEqual(want.filter((x) => !noCopy.has(x)));
  });

  it.skipIf(!haveTool('tshark'))('annotated frame N is verdict packet N (tshark)', async () => {
    const r = await replayToTemp(input, {}, '.pcapng');
    const verdicts = readVerdicts(r.verdicts).filter((v) => v.rule === 'unknown-command' || v.rule === 'mask-banner');
    expect(verdicts.length).toBeGreaterThan(0);
    const comments = new Map(
      tshark(['-r', r.annotate, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.comment'])
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    for (const v of verdicts) expect(comments.get(String(v.packet)), `frame ${v.packet}`).toContain(v.rule);
    // The input's first fragments (tshark frame numbers, custom blocks counted) carry their own note.
    const firstFrames = tshark(['-r', input, '-Y', 'ip.flags.mf == 1 && ip.frag_offset == 0', '-T', 'fields', '-e', 'frame.number']).trim().split('\n');
    expect(firstFrames.length).toBe(firsts.length);
    for (const f of firstFrames) expect(comments.get(f), `frame ${f}`).toMatch(/^IP fragment \(data bytes 0-/);
  });
});
