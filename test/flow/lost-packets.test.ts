/**
 * Packets lost before the capture point, in both directions: each data packet of six generated
 * captures is deleted in turn, and the inspection must judge the rest as it does when that
 * packet's bytes are known to be missing at the moment they were lost (the same capture with the
 * packet's payload cut to nothing by the snaplen: a gap right there).
 *
 * The hard case is a reply lost while the client's next packet acknowledges it (a lost 354, with
 * the body acknowledging it): the body must wait until the reply is known to be lost — the
 * server's next packet, the ACK window, close — and go to the engine after the gap, never before
 * it as commands (regression of 6051a4a: the body was X'd line by line). Cross-direction reorders
 * (cross-direction-reorder.test.ts) must still lose nothing: the held bytes wait for the late
 * reply, which arrives.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEngineOptions } from '../../src/inspect/options.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { InspectionPipeline } from '../../src/pipeline/inspection-pipeline.js';
import type { PipelineProfile } from '../../src/pipeline/types.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';
import { MemoryWriter, captureRecordOf, loadPackets as load, sessionCaptureFiles as files, type CapturedPacket } from '../helpers/capture-packets.js';
import { GENERATED_DIR } from '../helpers/shared.js';

type Rec = CapturedPacket;

interface Run {
  /**
   * What the engine decided, in stream terms (packet numbers differ between the runs; per-packet
   * drop records too: the deleted packet is not there to be dropped).
   */
  decisions: string[];
  inPackets: number;
  accounted: number;
  forced: number;
  frames: Buffer[];
}

/**
 * Replays the packets (in order, skipping `skip`, cutting the payload of `cut`) through the
 * inspection pipeline with the default policy.
 */
function replay(recs: Rec[], profile: PipelineProfile, skip: number, cut: number, order?: number[]): Run {
  const out = new MemoryWriter();
  const verdicts: VerdictRecord[] = [];
  const p = new InspectionPipeline({ policy: defaultPolicy(), profile, engineOptions: parseEngineOptions([]), outputs: { packets: out, annotate: null, verdicts: (v) => verdicts.push(v), syslog: () => {} } });
  let n = 0;
  (order ?? recs.map((_, k) => k)).forEach((k, i) => {
    const x = recs[k]!;
    if (k === skip) return;
    // Timestamps stay in capture order when packets are reordered.
    p.process(captureRecordOf(x, ++n, recs[i]!.tsSec, recs[i]!.tsNsec, k === cut ? x.data.subarray(0, x.payloadAt) : x.data));
  });
  const s = p.finish();
  const decisions = verdicts
    .filter((v) => v.action !== 'note' && v.action !== 'forward' && v.action !== 'drop' && v.rule !== 'gap' && v.rule !== 'tcp out-of-order queue')
    .map((v) => `${v.direction ?? '-'} ${v.rule} ${v.action} ${v.detail ?? ''}`)
    .sort();
  return { decisions, inPackets: n, accounted: s.packets.forwarded + s.packets.dropped, forced: s.packets.forcedForward, frames: out.frames };
}

describe.skipIf(files.length === 0)('a data packet lost before the capture point', () => {
  if (files.length === 0) console.log('skipped: generated captures not available');
  for (const file of files) {
    const name = path.basename(file, '.pcap');
    for (const profile of ['asa', 'analysis'] as const) {
      it(`${name} (${profile}): each data packet deleted in turn is judged as a gap at the moment of loss`, () => {
        const recs = load(file);
        let tried = 0;
        recs.forEach((x, k) => {
          if (x.len === 0) return;
          tried++;
          const lost = replay(recs, profile, k, -1);
          const known = replay(recs, profile, -1, k);
          expect(lost.accounted, `packet ${k + 1} deleted: every packet accounted for`).toBe(lost.inPackets);
          expect(lost.forced, `packet ${k + 1} deleted: no packet forwarded undecided`).toBe(0);
          expect(lost.decisions, `packet ${k + 1} deleted`).toEqual(known.decisions);
        });
        expect(tried).toBeGreaterThan(5);
      });
    }
  }

  it.skipIf(!files.some((f) => f.includes('02-ehlo-basic')))("02-ehlo-basic without its 354: the body is not X'd", () => {
    const recs = load(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
    const k354 = recs.findIndex((x) => x.len > 0 && x.data.subarray(x.payloadAt, x.payloadAt + 4).toString('latin1') === '354 ');
    expect(k354).toBeGreaterThan(0);
    for (const profile of ['asa', 'analysis'] as const) {
      const lost = replay(recs, profile, k354, -1);
      expect(lost.decisions.filter((d) => d.includes('x-substitute'))).toEqual([]);
    }
  });

  it.skipIf(!files.some((f) => f.includes('04-starttls')))('04-starttls, STARTTLS recorded before the EHLO reply it acknowledges: the held packet goes out after the reply, in input order, with its edit', () => {
    const recs = load(path.join(GENERATED_DIR, '04-starttls.pcap'));
    const text = (x: Rec) => x.data.subarray(x.payloadAt).toString('latin1');
    const kReply = recs.findIndex((x) => text(x).startsWith('250-'));
    const kStarttls = recs.findIndex((x) => text(x).startsWith('STARTTLS'));
    expect(kStarttls).toBe(kReply + 1);
    const order = recs.map((_, k) => k);
    order[kReply] = kStarttls;
    order[kStarttls] = kReply;
    for (const profile of ['asa', 'analysis'] as const) {
      const plain = replay(recs, profile, -1, -1);
      const swapped = replay(recs, profile, -1, -1, order);
      expect(swapped.decisions).toEqual(plain.decisions);
      expect(swapped.forced).toBe(0);
      // OUT keeps the input order: the (edited) STARTTLS packet first, then the masked reply.
      expect(swapped.frames.length).toBe(plain.frames.length);
      expect(swapped.frames[kReply]).toEqual(plain.frames[kStarttls]);
      expect(swapped.frames[kStarttls]).toEqual(plain.frames[kReply]);
      expect(swapped.frames[kReply]!.toString('latin1')).toContain('XXXXXXXX');
      expect(swapped.frames[kStarttls]!.toString('latin1')).toContain('XXXXXXXA');
    }
  });
});
