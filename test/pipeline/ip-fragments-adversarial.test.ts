/**
 * IP fragment sets made to disagree with themselves (fixtures/make-fragments.py, "adversarial"):
 * real sessions from the shared corpus whose fragments overlap with other bytes, claim a datagram
 * longer than IP allows, disagree on where the datagram ends, arrive again after the datagram was
 * reassembled, or are all a connection ever sends (so a reset has no unfragmented packet to take its
 * headers from). What the inspector saw and what OUT carries must agree, whatever the receiver's
 * reassembly policy; every packet is accounted for.
 */
import path from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FragmentedDatagram } from '../../src/pipeline/ip-defrag.js';
import type { QueueEntry } from '../../src/pipeline/queue-entry.js';
import { loadPackets, type CapturedPacket } from '../helpers/capture-packets.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { badChecksums, expectAccounted, FIXTURES, followStream, replayFragments } from './fragment-replay.js';
import { writeCapturedPcap } from './write-pcap.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ip-fragments-adv-'));

const fixture = (name: string): string => path.join(FIXTURES, name);

describe.skipIf(!haveShared)('overlapping fragments with different bytes', () => {
  // 12-unknown-commands: each segment of 25-299 bytes in 16-byte fragments, plus a second copy of its
  // first 16 payload bytes saying 'Z' * 16 before the last fragment (first copy inspected).
  it('every copy of a byte in OUT is the one inspected (the first): a last-copy-wins receiver sees the same bytes', async () => {
    const input = readFileSync(fixture('frag-v4-12-overlap.pcap'));
    const z = Buffer.from('Z'.repeat(16));
    expect(input.includes(z)).toBe(true);
    const r = await replayFragments(fixture('frag-v4-12-overlap.pcap'));
    expectAccounted(r);
    expect(r.summary.dropped).toBe(0);
    // Before, only the copies in edited datagrams were rewritten: 20 'Z' fragments reached OUT.
    expect(readFileSync(r.out).includes(z)).toBe(false);
    const overlaps = r.verdicts.filter((v) => v.rule === 'overlap-different-data');
    expect(overlaps.length).toBeGreaterThan(20);
    for (const v of overlaps) expect(v.detail).toContain('made to agree with the copy that was inspected');
    expect(r.verdicts.filter((v) => v.action === 'x-substitute')).toHaveLength(13);
    if (haveTool('tshark')) {
      const o = await replayFragments(path.join(GENERATED_DIR, '12-unknown-commands.pcap'));
      expect(followStream(r.out)).toBe(followStream(o.out));
      expect(badChecksums(r.out)).toBe('');
    }
  });
});

describe.skipIf(!haveShared)('a fragment set that cannot be one datagram', () => {
  it('longer than IP allows (a fragment at offset 65528): discarded in the ASA profile, not passed uninspected', async () => {
    const r = await replayFragments(fixture('frag-v4-12-oversize.pcap'));
    expectAccounted(r);
    const bad = r.verdicts.filter((v) => v.rule === 'ip fragment reassembly');
    expect(bad.length).toBeGreaterThan(0);
    for (const v of bad) expect(v.detail).toContain('beyond the largest IP datagram');
    // Before, such sets passed as captured: the banner reached OUT unmasked.
    expect(readFileSync(r.out).includes(Buffer.from('ESMTP Postfix'))).toBe(false);
    const a = await replayFragments(fixture('frag-v4-12-oversize.pcap'), { profile: 'analysis' });
    expectAccounted(a);
    expect(a.summary.dropped).toBe(0);
  });

  it('an early last fragment (ends at 32): the datagram ends there; the fragments past it are discarded, not passed', async () => {
    const r = await replayFragments(fixture('frag-v4-12-conflicting-end.pcap'));
    expectAccounted(r);
    const past = r.verdicts.filter((v) => v.rule === 'ip fragment reassembly');
    // The EHLO segment: 58 data bytes, fragments at 32-47 and 48-57 lie past the claimed end.
    expect(past).toHaveLength(2);
    for (const v of past) expect(v.detail).toContain('reaches past its end (32 data bytes)');
    if (haveTool('tshark')) expect(tshark(['-r', r.out, '-q', '-z', 'follow,tcp,ascii,0'])).not.toContain('EHLO client.example.test');
  });

  it('fragments that disagree on the end are found while collecting', () => {
    const dg = new FragmentedDatagram('k', 4, '192.0.2.1', '192.0.2.2', 0, 0);
    const data = Buffer.alloc(64, 0x41);
    dg.addData(data, 0, 16, 32);
    expect(dg.inconsistency(0, 24, false)).toBeNull();
    expect(dg.inconsistency(16, 8, true)).toContain('before data already seen');
    dg.setTotal(48);
    expect(dg.inconsistency(48, 8, false)).toContain('after the last fragment');
    expect(dg.inconsistency(32, 8, true)).toContain('two last fragments end at 48 and 40');
    expect(dg.inconsistency(40, 8, true)).toBeNull();
    expect(dg.inconsistency(65512, 8, false)).toContain('beyond the largest IP datagram');
  });
});

describe.skipIf(!haveShared)('a copy of a fragment after its datagram was reassembled', () => {
  it('is written with the datagram bytes as inspected (STARTTLS masked), not as captured', async () => {
    const src = fixture('frag-v4-12-unknown-commands.pcap');
    const ps = loadPackets(src);
    const word = Buffer.from('STARTTLS');
    const fragmentOf = (p: CapturedPacket): boolean => (p.data.readUInt16BE(14 + 6) & 0x3fff) !== 0;
    // the fragment of the server's EHLO reply that carries STARTTLS (masked by the inspector)
    const i = ps.findIndex((p) => fragmentOf(p) && p.data.includes(word));
    expect(i).toBeGreaterThan(0);
    const id = (p: CapturedPacket): number => p.data.readUInt16BE(14 + 4);
    // the first packet after the set (the fixture keeps a set's fragments together)
    let j = i + 1;
    while (id(ps[j]!) === id(ps[i]!)) j++;
    const late = { ...ps[i]!, tsSec: ps[j]!.tsSec, tsNsec: ps[j]!.tsNsec };
    const file = path.join(dir, 'late-copy.pcap');
    writeCapturedPcap(file, src, [...ps.slice(0, j + 1), late, ...ps.slice(j + 1)]);
    const r = await replayFragments(file);
    expectAccounted(r);
    expect(r.summary.dropped).toBe(0);
    const out = loadPackets(r.out);
    expect(out[i]!.data.includes(word)).toBe(false);
    // Before, the copy started a set of its own, still incomplete at the end: passed as captured.
    expect(out[j + 1]!.data).toEqual(out[i]!.data);
  });
});

describe.skipIf(!haveShared)('a reset on a connection whose every packet came in fragments', () => {
  it('synthesises the two RSTs with the link header of the fragments and the addresses of the unfragmented session', async () => {
    const policy = path.join(dir, 'reset.txt');
    writeFileSync(policy, ['policy-map type inspect esmtp rst_map', ' parameters', '  mask-banner', ' match cmd RCPT count gt 100', '  reset log', 'policy-map global_policy', ' class inspection_default', '  inspect esmtp rst_map', ''].join('\n'));
    const r = await replayFragments(fixture('frag-v4-07c-all8.pcap'), { policy });
    const o = await replayFragments(path.join(GENERATED_DIR, '07c-rcpt-101.pcap'), { policy });
    expectAccounted(r);
    // Before, no packet had given the connection RST headers: 0 synthesised.
    expect(o.summary.synthesized).toBe(2);
    expect(r.summary.synthesized).toBe(2);
    if (haveTool('tshark')) {
      const fields = ['-Y', 'tcp.flags.reset == 1', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'eth.src', '-e', 'eth.dst', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw', '-e', 'tcp.ack_raw', '-e', 'tcp.checksum.status'];
      const mine = tshark(['-r', r.out, ...fields]).trim();
      expect(mine.split('\n')).toHaveLength(2);
      expect(mine).toBe(tshark(['-r', o.out, ...fields]).trim());
      expect(badChecksums(r.out)).toBe('');
    }
  });
});

describe('the members of a set being written', () => {
  it('are let go as they are written: a flood of one set does not accumulate', () => {
    const dg = new FragmentedDatagram('k', 4, '192.0.2.1', '192.0.2.2', 0, 0);
    const entries: object[] = [];
    for (let i = 0; i < 1000; i++) {
      const e = {};
      entries.push(e);
      dg.members.push({ entry: e as QueueEntry, dataOffset: 0, length: 8, dataAt: 34, conflict: false });
      dg.count++;
      if (i % 3 === 2) for (let k = i - 2; k <= i; k++) expect(dg.takeMember(entries[k] as QueueEntry)?.entry).toBeNull();
      expect(dg.members.length).toBeLessThanOrEqual(3);
    }
    expect(dg.count).toBe(1000);
  });
});
