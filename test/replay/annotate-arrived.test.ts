/**
 * Two things the outputs carry from the input, checked on real captures:
 * - the annotated capture shows a DROPPED packet as it arrived, even when the inspector changed
 *   its bytes before the drop (an X'd over-long command line, then drop-connection): OUT never
 *   has it, and the admin looks at the annotated capture to see what the client really sent;
 * - pcapng per-packet flags (epb_flags: direction, reception type) reach OUT and the annotated
 *   capture unchanged, as tshark reads them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { createPcapngWriter } from '../../src/capture/pcapng-writer.js';
import { executeReplay } from '../../src/cli/replay.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'annotate-arrived-'));

interface Rec {
  bytes: Buffer;
  comments: string[];
  epbFlags: number;
}

async function readAll(file: string): Promise<Rec[]> {
  const out: Rec[] = [];
  const src = await openCapture(file);
  await src.run((r) => void out.push({ bytes: Buffer.from(r.data), comments: r.comments ?? [], epbFlags: r.epbFlags }));
  return out;
}

describe.skipIf(!haveShared)('the annotated capture and pcapng flags', () => {
  it('every dropped packet is shown as it arrived, also the one X\'d before its drop (sv-errors)', async () => {
    const input = path.join(EXTERNAL_PCAPS, 'sv-errors.pcap');
    const ann = path.join(tmp, 'sv-errors.ann.pcapng');
    await executeReplay(input, { output: path.join(tmp, 'sv-errors.out.pcap'), annotate: ann, checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true });
    const inRecs = await readAll(input);
    const annRecs = await readAll(ann);
    expect(annRecs.length).toBe(inRecs.length); // nothing synthesised under the default policy
    const dropped = annRecs.map((r, i) => ({ r, i })).filter(({ r }) => r.comments.some((c) => c.startsWith('dropped')));
    expect(dropped.length).toBeGreaterThan(0);
    // The packet that triggered the drop was X-substituted first (its comment says so) ...
    expect(dropped.some(({ r }) => r.comments.some((c) => /x-substitute/.test(c)))).toBe(true);
    // ... and still every dropped packet carries the input's bytes.
    for (const { r, i } of dropped) expect(r.bytes.equals(inRecs[i]!.bytes), `packet ${i + 1}`).toBe(true);
  });

  it('epb_flags survive the replay into OUT and the annotated capture (tshark reads them)', async () => {
    // A real capture rewritten as pcapng with alternating inbound/outbound flags by our writer.
    const plain = path.join(GENERATED_DIR, '07c-rcpt-101.pcap');
    const src = await openCapture(plain);
    const flagged = path.join(tmp, 'flagged.pcapng');
    const w = createPcapngWriter(flagged, { interfaces: src.interfaces, userAppl: 'test' });
    let n = 0;
    await src.run((r) => {
      r.epbFlags = n++ % 2 === 0 ? 1 : 2;
      w.write(r);
    });
    await w.close();
    const out = path.join(tmp, 'flagged.out.pcapng');
    const ann = path.join(tmp, 'flagged.ann.pcapng');
    await executeReplay(flagged, { output: out, annotate: ann, checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true });
    const input = await readAll(flagged);
    const annRecs = await readAll(ann);
    expect(annRecs.map((r) => r.epbFlags)).toEqual(input.map((r) => r.epbFlags));
    const outRecs = await readAll(out);
    // OUT lacks the dropped packets: every forwarded one keeps its flags, in order.
    expect(outRecs.length).toBeGreaterThan(100);
    expect(outRecs.every((r) => r.epbFlags === 1 || r.epbFlags === 2)).toBe(true);
    if (haveTool('tshark')) {
      const dirs = tshark(['-r', ann, '-c', '4', '-T', 'fields', '-e', 'frame.packet_flags_direction']).trim().split('\n');
      expect(dirs).toEqual(['0x00000001', '0x00000002', '0x00000001', '0x00000002']);
    }
  });
});
