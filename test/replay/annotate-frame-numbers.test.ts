/**
 * The annotated capture holds exactly the input packets, so that Wireshark's frame N is the
 * verdicts' `packet` N (`tshark -r ANN -Y 'frame.number==N'`). Synthesised RSTs are in OUT only;
 * the packet that triggered them says so, with the raw sequence numbers to find them in OUT.
 * Before, each RST was a frame of its own right after its trigger, and every later frame number
 * was off by two from the verdicts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { readVerdicts, replayToTemp, RESET_POLICY } from './helpers.js';

interface Rec {
  ts: bigint;
  data: Buffer;
  comments: string[];
}

async function readAll(file: string): Promise<Rec[]> {
  const src = await openCapture(file);
  const out: Rec[] = [];
  await src.run((r) => void out.push({ ts: BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNsec), data: Buffer.from(r.data), comments: r.comments ?? [] }));
  return out;
}

describe.skipIf(!haveShared)('annotated capture: frame N is verdict packet N', () => {
  it('reset on 07c-rcpt-101: no extra frames, every verdict packet is the same frame, the trigger names its RSTs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ann-frames-'));
    const policy = path.join(dir, 'reset.txt');
    writeFileSync(policy, RESET_POLICY);
    const input = path.join(GENERATED_DIR, '07c-rcpt-101.pcap');
    const r = await replayToTemp(input, { policy });
    expect(r.summary.packets.synthesized).toBe(2);
    const inRecs = await readAll(input);
    const ann = await readAll(r.annotate);
    expect(ann.length).toBe(inRecs.length);
    for (let i = 0; i < ann.length; i++) expect(ann[i]!.ts, `frame ${i + 1}`).toBe(inRecs[i]!.ts);

    const v = readVerdicts(r.verdicts);
    const trig = v.find((x) => x.action === 'reset')!;
    // Every packet after the trigger (the dropped rest of the connection) is its own frame.
    const drops = v.filter((x) => x.action === 'drop');
    expect(drops.length).toBe(r.summary.packets.dropped);
    for (const d of drops) expect(ann[d.packet - 1]!.comments.some((c) => c.startsWith('dropped:')), `packet ${d.packet}`).toBe(true);

    // The trigger's comment describes each RST with the numbers OUT's RST carries.
    const out = await readAll(r.out);
    const rsts = out.map((o) => decodePacket(1, o.data, new DecodedPacket())).filter((p) => (p.flags & TcpFlag.RST) !== 0);
    expect(rsts.length).toBe(2);
    const tc = ann[trig.packet - 1]!.comments;
    for (const [p, towards] of [[rsts[0]!, 'server'], [rsts[1]!, 'client']] as const) {
      expect(tc).toContain(`synthesised RST+ACK towards the ${towards}, written to OUT right after this packet (raw seq ${p.seq}, ack ${p.ack}; reset by match cmd RCPT count gt 100)`);
    }

    if (haveTool('tshark')) {
      const n = trig.packet;
      const t = tshark(['-r', r.annotate, '-Y', `frame.number==${n}`, '-T', 'fields', '-e', 'frame.comment']);
      expect(t).toContain('match cmd RCPT count gt 100: reset');
      expect(t).toContain('synthesised RST+ACK towards the client');
      const last = tshark(['-r', r.annotate, '-Y', `frame.number==${inRecs.length}`, '-T', 'fields', '-e', 'frame.comment']);
      expect(last).toContain('dropped: connection reset by match cmd RCPT count gt 100');
    }
  });
});
