/**
 * A verdict's `time` is the capture time of its `packet` (as Suricata's eve `timestamp` and
 * `pcap_cnt` name the same packet), also when the engine decides about a packet's bytes only after
 * that packet was written — and the annotated capture still carries the note, on the packet at
 * hand, naming the packet it is about. Before, such a verdict had the later packet's time beside
 * the earlier packet's number (sv-bug-6053: packet 4 stamped with packet 8's time; 16c: packet 8
 * with packet 10's), and no frame of the annotated capture showed the note at all.
 */
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { isoTime } from '../../src/output/time.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from './helpers.js';

interface Rec {
  tsSec: number;
  tsNsec: number;
  comments: string[];
}

async function readAll(file: string): Promise<Rec[]> {
  const src = await openCapture(file);
  const out: Rec[] = [];
  await src.run((r) => void out.push({ tsSec: r.tsSec, tsNsec: r.tsNsec, comments: r.comments ?? [] }));
  return out;
}

const CASES = [
  { file: path.join(EXTERNAL_PCAPS, 'sv-bug-6053.pcap'), rule: 'server-anomaly', about: 4, noted: 8, digits: 6 },
  { file: path.join(GENERATED_DIR, '16c-large-8mib-snaplen96.pcap'), rule: 'gap', about: 8, noted: 10, digits: 6 },
];

describe.skipIf(!haveShared)('verdict time is the time of its packet', () => {
  it.each(CASES.map((c) => [path.basename(c.file), c] as const))('%s', async (_name, c) => {
    if (!fs.existsSync(c.file)) return;
    const input = await readAll(c.file);
    const r = await replayToTemp(c.file);
    const v = readVerdicts(r.verdicts);
    expect(v.length).toBeGreaterThan(0);
    for (const x of v) {
      const p = input[x.packet - 1]!;
      expect(x.time, `${x.rule} ${x.action} packet ${x.packet}`).toBe(isoTime(p.tsSec, p.tsNsec, c.digits));
    }
    // The late note: its verdict names the packet whose bytes it is about...
    expect(v.some((x) => x.rule === c.rule && x.action === 'note' && x.packet === c.about)).toBe(true);
    // ...and the annotated capture has it on the packet where it was decided, naming that packet.
    const ann = await readAll(r.annotate);
    expect(ann.length).toBe(input.length);
    expect(ann[c.noted - 1]!.comments.some((t) => t.startsWith(`${c.rule}: note (`) && t.endsWith(`[on packet ${c.about}, already written]`))).toBe(true);
  });
});
