/**
 * replay's summary says how much of the TCP streams the capture never had: gaps (what Wireshark
 * flags "previous segment not captured" and Zeek counts as missed_bytes) and payload cut by the
 * snaplen. Both are bytes the inspector could not see. Before, the summary had no such line: a
 * replay of a capture with holes read as clean as one without.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { createPcapWriter } from '../../src/capture/pcap-writer.js';
import type { WritablePacket } from '../../src/capture/types.js';
import { runReplay } from '../../src/cli/replay.js';
import { formatSummary } from '../../src/output/summary.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const cap = (name: string) => path.join(GENERATED_DIR, name);

/** The capture without its packet number `skip` (1-based), re-written by our pcap writer. */
async function without(src: string, skip: number, dest: string): Promise<void> {
  const s = await openCapture(src);
  const w = createPcapWriter(dest, s.pcapHeader!);
  await s.run((r) => {
    if (r.packetNumber === skip) return;
    const p: WritablePacket = { ...r, data: Buffer.from(r.data) };
    w.write(p);
  });
  await w.close();
}

describe.skipIf(!haveShared)('replay summary: TCP gaps and snaplen-cut payload', () => {
  it('a capture missing the client\'s 267-byte DATA segment: 1 gap, 267 bytes, 1 connection (tshark sees the lost segment too)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'summary-gaps-'));
    const file = path.join(dir, 'gap.pcap');
    // Packet 15 of 02-ehlo-basic is the client's 267-byte message segment.
    await without(cap('02-ehlo-basic.pcap'), 15, file);
    if (haveTool('tshark')) {
      const lost = tshark(['-r', file, '-Y', 'tcp.analysis.lost_segment', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').filter((l) => l !== '');
      expect(lost.length).toBe(1);
    }
    const r = await replayToTemp(file, { asaOoo: false, profile: 'analysis' });
    expect(r.summary.gaps).toMatchObject({ count: 1, bytes: 267, connections: 1, cutPackets: 0 });
    expect(formatSummary(r.summary, null, false, { gaps: true })).toContain('TCP gaps: 1 gap(s), 267 byte(s) never captured (not inspected), in 1 connection(s)\n');

    // The command prints it (summary on stdout when no output is '-').
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await runReplay(file, { output: path.join(dir, 'cli-out.pcap'), summary: true, checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: false, profile: 'analysis' });
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toMatch(/^packets out: .*\nTCP gaps: 1 gap\(s\), 267 byte\(s\) never captured/m);
  });

  it('the complete capture: no gaps, and the line says so', async () => {
    const r = await replayToTemp(cap('02-ehlo-basic.pcap'));
    expect(formatSummary(r.summary, null, false, { gaps: true })).toContain('TCP gaps: none (no stream bytes missing from the capture)\n');
    // live prints its own capture-loss line: the default leaves this one out.
    expect(formatSummary(r.summary)).not.toContain('TCP gaps');
  });

  it('16c (tcpdump -s 96): the payload cut by the snaplen is counted, as frame.len - frame.cap_len says', async () => {
    const file = cap('16c-large-8mib-snaplen96.pcap');
    let packets = 0;
    let bytes = 0;
    const s = await openCapture(file);
    await s.run((rec) => {
      if (rec.originalLength > rec.captureLength) {
        packets++;
        bytes += rec.originalLength - rec.captureLength;
      }
    });
    expect(packets).toBe(172);
    const r = await replayToTemp(file);
    expect(r.summary.gaps).toMatchObject({ count: 0, cutPackets: packets, cutBytes: bytes });
    expect(formatSummary(r.summary, null, false, { gaps: true })).toContain(`TCP gaps: none; payload cut by the snaplen: ${bytes} byte(s) in ${packets} packet(s) (not inspected)\n`);
  });
});
