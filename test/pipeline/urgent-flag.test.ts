/**
 * TCP urgent data on real bytes (fixtures/make-urgent.py: Linux MSG_OOB on loopback, both sides):
 * the ASA's TCP normaliser clears the URG flag by default (tcp-map `urgent-flag clear`, ASA CLI
 * configuration guide, Connection Settings), so the receiver takes the urgent byte in band — the
 * bytes the inspection judged. OUT must carry no URG flag on an inspected connection, with the
 * checksum updated per --checksum and nothing else changed.
 *
 * Regression: OUT kept URG, so a receiver without SO_OOBINLINE would pull the byte out of the
 * stream and read other bytes than were inspected.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeTcpChecksum, type ChecksumMode } from '../../src/decode/checksum.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import { parseEngineOptions } from '../../src/inspect/options.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';
import { InspectionPipeline } from '../../src/pipeline/inspection-pipeline.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { MemoryWriter, captureRecordOf, loadPackets, type CapturedPacket } from '../helpers/capture-packets.js';

const FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'urgent-oob.pcap');

function replay(recs: CapturedPacket[], checksumMode: ChecksumMode): { frames: Buffer[]; verdicts: VerdictRecord[] } {
  const out = new MemoryWriter();
  const verdicts: VerdictRecord[] = [];
  const p = new InspectionPipeline({ policy: defaultPolicy(), checksumMode, engineOptions: parseEngineOptions([]), outputs: { packets: out, annotate: null, verdicts: (v) => verdicts.push(v), syslog: () => {} } });
  recs.forEach((x, i) => p.process(captureRecordOf(x, i + 1, x.tsSec, x.tsNsec)));
  p.finish();
  return { frames: out.frames, verdicts };
}

/** How far the stored TCP checksum is from the right one (one's complement; 0 = correct). */
function checksumError(pkt: DecodedPacket): number {
  let s = computeTcpChecksum(pkt) + (~pkt.tcpChecksum & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff ? 0 : s;
}

describe('URG flag (the ASA normaliser default: urgent-flag clear)', () => {
  const recs = loadPackets(FILE);
  const urgent = recs.map((x, k) => ((x.flags & TcpFlag.URG) !== 0 ? k : -1)).filter((k) => k >= 0);

  it('the fixture is what it says: one urgent segment from each side, 1 byte each', () => {
    expect(urgent.length).toBe(2);
    expect(urgent.map((k) => recs[k]!.toServer).sort()).toEqual([false, true]);
    expect(urgent.every((k) => recs[k]!.len === 1)).toBe(true);
  });

  for (const mode of ['incremental', 'fix'] as const) {
    it(`--checksum ${mode}: OUT carries no URG flag; each such packet changes only there and in its checksum`, () => {
      const { frames, verdicts } = replay(recs, mode);
      expect(frames.length).toBe(recs.length);
      const a = new DecodedPacket();
      const b = new DecodedPacket();
      frames.forEach((f, k) => {
        decodePacket(recs[k]!.linkType, f, b);
        expect(b.flags & TcpFlag.URG, `frame ${k + 1}`).toBe(0);
      });
      for (const k of urgent) {
        const input = recs[k]!.data;
        const output = frames[k]!;
        decodePacket(recs[k]!.linkType, input, a);
        decodePacket(recs[k]!.linkType, output, b);
        expect(b.flags).toBe(a.flags & ~TcpFlag.URG);
        // The urgent byte stays in the payload (the server's one masked with the rest of its keyword).
        expect(b.payloadLength).toBe(1);
        // Header bytes other than the flags and the checksum are untouched.
        const diff: number[] = [];
        for (let i = 0; i < b.payloadOffset; i++) if (input[i] !== output[i]) diff.push(i - b.l4Offset);
        expect(diff.filter((i) => i !== 13 && i !== 16 && i !== 17)).toEqual([]);
        // Loopback captures carry offloaded (wrong) checksums: incremental keeps them exactly as wrong,
        // fix makes them right.
        expect(checksumError(b)).toBe(mode === 'fix' ? 0 : checksumError(a));
      }
      const notes = verdicts.filter((v) => v.rule === 'tcp-urgent-flag');
      expect(notes.map((v) => v.packet)).toEqual(urgent.map((k) => k + 1));
    });
  }
});
