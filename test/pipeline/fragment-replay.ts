/**
 * Shared by the IP fragment tests: a replay into files with the verdicts read back, the
 * packets-accounted-for check, and tshark's judgements of OUT (reassembled stream, bad checksums).
 */
import path from 'node:path';
import { expect } from 'vitest';
import type { ReplayCliOptions } from '../../src/cli/replay.js';
import { tshark } from '../helpers/shared.js';
import { readVerdicts, replayToTemp, type VerdictLine } from '../replay/helpers.js';

export const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');

export type FragmentVerdict = VerdictLine;

export interface FragmentRun {
  out: string;
  verdicts: FragmentVerdict[];
  summary: { in: number; out: number; dropped: number; forwarded: number; synthesized: number };
}

/** Replays `file` (ASA profile unless `extra` says otherwise) with the replay tests' temp-dir runner. */
export async function replayFragments(file: string, extra: Partial<ReplayCliOptions> = {}): Promise<FragmentRun> {
  const r = await replayToTemp(file, extra, '.pcap');
  const p = r.summary.packets;
  return { out: r.out, verdicts: readVerdicts(r.verdicts), summary: { in: p.in, out: p.out, dropped: p.dropped, forwarded: p.forwarded, synthesized: p.synthesized } };
}

/** Every input packet is forwarded or dropped, and every dropped one has its drop record. */
export function expectAccounted(r: FragmentRun): void {
  expect(r.summary.in).toBe(r.summary.forwarded + r.summary.dropped);
  expect(r.verdicts.filter((v) => v.action === 'drop')).toHaveLength(r.summary.dropped);
}

/** tshark's reassembled TCP stream 0 (it reassembles IP fragments itself). */
export const followStream = (file: string): string => tshark(['-r', file, '-q', '-z', 'follow,tcp,raw,0']);

/** Frames whose TCP or IP checksum tshark judges bad (empty: none). */
export const badChecksums = (file: string): string =>
  tshark(['-r', file, '-o', 'tcp.check_checksum:TRUE', '-Y', 'tcp.checksum.status == 0 || ip.checksum.status == 0', '-T', 'fields', '-e', 'frame.number']).trim();
