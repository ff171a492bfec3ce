/**
 * Real captures cut with editcap: picked up midstream (handshake deleted), with segments missing
 * (deleted, never retransmitted), and cut by a snaplen. Checked against tshark follow where it
 * can judge, and against the uncut capture's byte counts otherwise.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFlows, type FlowRecord } from '../../src/flow/flows-report.js';
import type { Direction } from '../../src/flow/types.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { tsharkFollow } from './tshark-follow.js';

const ready = haveShared && haveTool('editcap') && haveTool('tshark');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'flow-cut-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** editcap IN OUT frames... (deletes the listed frames / ranges). */
function cut(input: string, name: string, frames: string[]): string {
  const out = path.join(tmp, name);
  execFileSync('editcap', [input, out, ...frames]);
  return out;
}

async function flows(file: string, serverPorts: number[] | null = [25, 587, 2525]) {
  const records: FlowRecord[] = [];
  const gaps = new Map<string, [number, number][]>();
  await runFlows(file, {
    flow: { serverPorts },
    onRecord: (r) => records.push(r),
    onGap: (id, dir, offset, length) => gaps.set(`${id}/${dir}`, [...(gaps.get(`${id}/${dir}`) ?? []), [offset, length]]),
  });
  return { records, gaps: (id: number, dir: Direction) => gaps.get(`${id}/${dir}`) ?? [] };
}

/** Our gaps in tshark's coordinates (offset within the captured bytes only). */
function asFollowGaps(gaps: [number, number][]): [number, number][] {
  let skipped = 0;
  return gaps.map(([o, l]) => {
    const r: [number, number] = [o - skipped, l];
    skipped += l;
    return r;
  });
}

function expectSameAsFollow(file: string, r: FlowRecord, gaps: (id: number, dir: Direction) => [number, number][]) {
  const f = tsharkFollow(file, 0);
  const clientNode = f.node0 === r.client ? 0 : 1;
  expect([f.node0, f.node1].sort()).toEqual([r.client, r.server].sort());
  const c2s = f.bytes[clientNode]!;
  const s2c = f.bytes[1 - clientNode]!;
  expect([r.c2s.bytes, r.c2s.sha256]).toEqual([c2s.length, sha(c2s)]);
  expect([r.s2c.bytes, r.s2c.sha256]).toEqual([s2c.length, sha(s2c)]);
  expect(asFollowGaps(gaps(r.id, 0))).toEqual(f.gaps[clientNode]);
  expect(asFollowGaps(gaps(r.id, 1))).toEqual(f.gaps[1 - clientNode]);
}

const large = path.join(GENERATED_DIR, '16a-large-8mib.pcap');
const largeSnap = path.join(GENERATED_DIR, '16c-large-8mib-snaplen96.pcap');
const zeekSmtp = path.join(EXTERNAL_PCAPS, 'zeek-smtp.pcap');

describe.skipIf(!ready || !existsSync(large))('captures cut with editcap', () => {
  it('midstream pickup: handshake, banner and EHLO deleted; client found by the server port', async () => {
    const file = cut(large, 'midstream.pcap', ['1-6']);
    const { records, gaps } = await flows(file);
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r.clientBy).toBe('port');
    expect(r.server.endsWith(':25')).toBe(true);
    expect(r.c2s.gaps + r.s2c.gaps).toBe(0);
    expectSameAsFollow(file, r, gaps);
  });

  it('a missing segment becomes one gap at its offset, delivery continues after it', async () => {
    // frame 18: 8192 client bytes after 26+32+28+6+8192+32768 bytes, never retransmitted
    const file = cut(large, 'missing-one.pcap', ['18']);
    const full = await flows(large);
    const { records, gaps } = await flows(file);
    const r = records[0]!;
    expect(gaps(r.id, 0)).toEqual([[41052, 8192]]);
    expect(r.c2s.bytes + r.c2s.gapBytes).toBe(full.records[0]!.c2s.bytes);
    expect(r.s2c.sha256).toBe(full.records[0]!.s2c.sha256);
    expectSameAsFollow(file, r, gaps);
  });

  it('several missing segments, including server bytes', async () => {
    const file = cut(large, 'missing-many.pcap', ['8', '19', '22-23', '30']);
    const { records, gaps } = await flows(file);
    const r = records[0]!;
    expect(r.c2s.gaps).toBeGreaterThanOrEqual(2);
    expect(r.s2c.gaps).toBe(1);
    expectSameAsFollow(file, r, gaps);
  });

  it('a deleted segment that the sender retransmitted is recovered from the retransmission', async () => {
    const file = cut(zeekSmtp, 'zeek-retrans.pcap', ['33']);
    const { records } = await flows(file);
    expect(records[0]!.c2s.sha256).toBe('6b02117f3223ae7f97573fce0d6b39f00c40a306816400f3f19a5f7cde6f4163');
    expect(records[0]!.c2s.gaps).toBe(0);
  });

  it('snaplen 96 (editcap -s): captured bytes + gap bytes = the uncut stream, every cut is a gap', async () => {
    const full = (await flows(large)).records[0]!;
    const file = path.join(tmp, 'snap96.pcap');
    execFileSync('editcap', ['-s', '96', large, file]);
    const { records } = await flows(file);
    const r = records[0]!;
    expect(r.c2s.gaps).toBeGreaterThan(0);
    expect(r.c2s.bytes + r.c2s.gapBytes).toBe(full.c2s.bytes);
    expect(r.s2c.bytes + r.s2c.gapBytes).toBe(full.s2c.bytes);
    expect(r.close).toBe(full.close);
  });

  it.skipIf(!existsSync(largeSnap))('a capture made with tcpdump -s 96: every byte is delivered or a gap, as tshark counts them', async () => {
    const { records } = await flows(largeSnap);
    const r = records[0]!;
    // tcp.len = payload length claimed by the IP header, per direction, for frames with a payload
    const lens = tshark(['-n', '-r', largeSnap, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.len']);
    const sums = new Map<string, number>();
    for (const line of lens.trim().split('\n')) {
      const [port, len] = line.split('\t');
      sums.set(port!, (sums.get(port!) ?? 0) + Number(len));
    }
    expect(r.c2s.bytes + r.c2s.gapBytes).toBe(sums.get(r.client.split(':').at(-1)!));
    expect(r.s2c.bytes + r.s2c.gapBytes).toBe(sums.get('25'));
    expect(r.c2s.gaps).toBeGreaterThan(100);
  });
});
