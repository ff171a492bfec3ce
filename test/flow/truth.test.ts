/**
 * Our reassembled bytes vs tshark's "follow TCP stream" for every SMTP stream of the public
 * captures (../shared/captures/external/truth). tshark's .bin files hold the captured bytes only
 * (gaps left out and listed separately), which is exactly what our sha256 covers (onData bytes).
 * All ports are tracked (the truth includes 465, 1080 and 8240 streams); streams are matched by
 * client and server endpoints, in order of appearance.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFlows, type FlowRecord } from '../../src/flow/flows-report.js';
import { EXTERNAL_PCAPS, EXTERNAL_TRUTH, haveShared } from '../helpers/shared.js';

interface TruthStream {
  stream: number;
  client: string;
  server: string;
  c2sBytes: number;
  s2cBytes: number;
  c2sSha: string;
  s2cSha: string;
  c2sGaps: string;
  s2cGaps: string;
  c2sConflict: number;
  s2cConflict: number;
}

function readTruth(name: string): TruthStream[] {
  const lines = readFileSync(path.join(EXTERNAL_TRUTH, name, 'streams.tsv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split('\t');
  const col = (row: string[], k: string) => row[head.indexOf(k)]!;
  return lines.slice(1).map((l) => {
    const row = l.split('\t');
    return {
      stream: Number(col(row, 'stream')),
      client: col(row, 'client'),
      server: col(row, 'server'),
      c2sBytes: Number(col(row, 'c2s_bytes')),
      s2cBytes: Number(col(row, 's2c_bytes')),
      c2sSha: col(row, 'c2s_sha256'),
      s2cSha: col(row, 's2c_sha256'),
      c2sGaps: col(row, 'c2s_gaps'),
      s2cGaps: col(row, 's2c_gaps'),
      c2sConflict: Number(col(row, 'c2s_overlap_conflict_bytes')),
      s2cConflict: Number(col(row, 's2c_overlap_conflict_bytes')),
    };
  });
}

function pcapFor(name: string): string | null {
  if (!existsSync(EXTERNAL_PCAPS)) return null;
  const f = readdirSync(EXTERNAL_PCAPS).find((x) => x === `${name}.pcap` || x === `${name}.pcapng`);
  return f ? path.join(EXTERNAL_PCAPS, f) : null;
}

/**
 * Our gaps as tshark lists them: `offset+length` with the offset in the .bin (earlier gap bytes
 * left out). tshark only shows a gap when data follows it, so trailing gaps are left out too.
 */
function gapText(gaps: [number, number][], bytes: number): string {
  const shown: string[] = [];
  let skipped = 0;
  for (const [o, l] of gaps) {
    if (o - skipped < bytes) shown.push(`${o - skipped}+${l}`);
    skipped += l;
  }
  return shown.length ? shown.join(';') : '-';
}

const names = haveShared && existsSync(EXTERNAL_TRUTH) ? readdirSync(EXTERNAL_TRUTH).filter((n) => pcapFor(n) !== null).sort() : [];

describe.skipIf(names.length === 0)('reassembly equals tshark follow on the public captures', () => {
  it.each(names)('%s', async (name) => {
    const truth = readTruth(name);
    expect(truth.length).toBeGreaterThan(0);
    const records: FlowRecord[] = [];
    const gaps = new Map<string, [number, number][]>();
    await runFlows(pcapFor(name)!, {
      flow: { serverPorts: null },
      onRecord: (r) => records.push(r),
      onGap: (id, dir, offset, length) => {
        const k = `${id}/${dir}`;
        gaps.set(k, [...(gaps.get(k) ?? []), [offset, length]]);
      },
    });
    const used = new Set<FlowRecord>();
    for (const t of truth) {
      const ours = records.find((r) => !used.has(r) && r.client === t.client && r.server === t.server);
      expect(ours, `stream ${t.stream} ${t.client} -> ${t.server} not found`).toBeDefined();
      used.add(ours!);
      const o = ours!;
      expect({
        stream: t.stream,
        c2s: [o.c2s.bytes, o.c2s.sha256, gapText(gaps.get(`${o.id}/0`) ?? [], o.c2s.bytes), o.c2s.overlapDifferentBytes],
        s2c: [o.s2c.bytes, o.s2c.sha256, gapText(gaps.get(`${o.id}/1`) ?? [], o.s2c.bytes), o.s2c.overlapDifferentBytes],
      }).toEqual({
        stream: t.stream,
        // overlap-different-data bytes: the later copies that differ from the first (tshark's
        // *_overlap_conflict_bytes, computed from tcp.payload of every frame)
        c2s: [t.c2sBytes, t.c2sSha, t.c2sGaps, t.c2sConflict],
        s2c: [t.s2cBytes, t.s2cSha, t.s2cGaps, t.s2cConflict],
      });
    }
  });
});
