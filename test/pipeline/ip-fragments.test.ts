/**
 * IP fragments of SMTP traffic are reassembled before inspection, as the ASA does, and the edits
 * and drops are written back into the fragments. The fixtures are real sessions from the shared
 * corpus (Postfix with swaks and a scripted client) sent as IPv4/IPv6 fragments, some sets in
 * reverse order (fixtures/make-fragments.py). Before, every fragment was passed uninspected: the
 * banner was not masked, 5 of 13 unknown commands were X'd, and the ASA queue dropped packets.
 * tshark judges OUT: it reassembles the fragments itself, so its TCP stream of our fragmented OUT
 * must equal its stream of our OUT for the unfragmented session, and every checksum must hold.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ASA_FRAGMENT_LIMITS, DatagramState, FragmentedDatagram, FragmentTable, fragmentFields } from '../../src/pipeline/ip-defrag.js';
import { decodePacket } from '../../src/decode/decode.js';
import { onesComplementSum } from '../../src/decode/checksum.js';
import { DecodedPacket } from '../../src/decode/packet.js';
import { loadPackets, type CapturedPacket } from '../helpers/capture-packets.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { badChecksums, expectAccounted, FIXTURES, followStream, replayFragments, type FragmentVerdict } from './fragment-replay.js';
import { writeCapturedPcap } from './write-pcap.js';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ip-fragments-flood-'));

/** What the inspector did, as a multiset of rule|action (drop records counted apart: one per packet). */
function actions(v: FragmentVerdict[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const r of v) {
    if (r.action === 'drop') continue;
    const k = `${r.rule}|${r.action}`;
    m[k] = (m[k] ?? 0) + 1;
  }
  return m;
}


describe.skipIf(!haveShared)('fragmented sessions are inspected as the unfragmented ones', () => {
  const cases = [
    ['frag-v4-12-unknown-commands.pcap', '12-unknown-commands.pcap', 'IPv4, 64-byte fragments'],
    ['frag-v6-17-ipv6-loopback.pcap', '17-ipv6-loopback.pcap', 'IPv6 Fragment headers'],
    ['frag-v4-07c-rcpt-101.pcap', '07c-rcpt-101.pcap', 'IPv4, 24-byte fragments, dropped at RCPT 101'],
  ] as const;

  it.each(cases)('%s (%s → %s)', async (fragmented, original, _what) => {
    const f = await replayFragments(path.join(FIXTURES, fragmented));
    const o = await replayFragments(path.join(GENERATED_DIR, original));
    expect(actions(f.verdicts)).toEqual(actions(o.verdicts));
    expectAccounted(f);
    expect(f.summary.in).toBeGreaterThan(o.summary.in); // it really is fragmented
    if (haveTool('tshark')) {
      expect(followStream(f.out)).toBe(followStream(o.out));
      expect(badChecksums(f.out)).toBe('');
    }
  });

  it('12: the banner is masked and all 13 unknown commands are X-ed, inside fragments', async () => {
    const f = await replayFragments(path.join(FIXTURES, 'frag-v4-12-unknown-commands.pcap'));
    expect(f.verdicts.filter((v) => v.action === 'x-substitute')).toHaveLength(13);
    expect(f.verdicts.filter((v) => v.rule === 'mask-banner')).toHaveLength(1);
    expect(f.summary.dropped).toBe(0);
  });

  it('07c: every fragment from the 101st RCPT on is dropped, with the rule that dropped it', async () => {
    const f = await replayFragments(path.join(FIXTURES, 'frag-v4-07c-rcpt-101.pcap'));
    const drops = f.verdicts.filter((v) => v.action === 'drop');
    expect(drops.length).toBeGreaterThan(0);
    expect(new Set(drops.map((d) => d.rule))).toEqual(new Set(['match cmd RCPT count gt 100']));
    if (haveTool('tshark')) {
      const c2s = tshark(['-r', f.out, '-q', '-z', 'follow,tcp,ascii,0']);
      expect(c2s.match(/RCPT TO:/g)).toHaveLength(100);
    }
  });
});

describe('a fragment set that never completes', () => {
  const file = path.join(FIXTURES, 'frag-v4-02-incomplete.pcap');

  it('ASA profile: its fragments are discarded after the fragment timeout, each with a verdict', async () => {
    const r = await replayFragments(file);
    const drops = r.verdicts.filter((v) => v.rule === 'ip fragment reassembly');
    // The third fragmented datagram (the EHLO reply, 64-byte fragments) lost its second fragment.
    expect(drops.length).toBeGreaterThan(1);
    for (const d of drops) {
      expect(d.action).toBe('drop');
      expect(d.detail).toContain('fragment timeout 5');
      expect(d.server).toMatch(/:25$/);
    }
    expectAccounted(r);
    if (haveTool('tshark')) expect(Number(tshark(['-r', r.out, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length)).toBe(r.summary.out);
  });

  it('analysis profile: they pass as captured, uninspected', async () => {
    const r = await replayFragments(file, { profile: 'analysis' });
    expect(r.verdicts.filter((v) => v.rule === 'ip fragment reassembly')).toHaveLength(0);
    expectAccounted(r);
  });
});

describe('FragmentedDatagram (property)', () => {
  it('completes exactly when every byte arrived, in any order, with duplicates; the assembly is the datagram', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.integer({ min: 1, max: 20 }), fc.array(fc.nat(), { maxLength: 40 }), (payload, unit, order) => {
        const size = unit * 8;
        const pieces: [number, number][] = [];
        for (let o = 0; o < payload.length; o += size) pieces.push([o, Math.min(size, payload.length - o)]);
        // Some order of the pieces, with duplicates, then every piece once more so the set completes.
        const seq = [...order.map((i) => pieces[i % pieces.length]!), ...pieces];
        const header = Buffer.from('450000000001000040060000c0000201c0000202', 'hex');
        const dg = new FragmentedDatagram('k', 4, '192.0.2.1', '192.0.2.2', 0, 0);
        dg.header = header;
        const src = Buffer.from(payload);
        let completeAt = -1;
        const seen = new Set<number>();
        seq.forEach(([off, len], i) => {
          if (completeAt < 0) expect(dg.complete).toBe(false);
          dg.addData(src, off, len, off);
          if (off + len === payload.length) dg.setTotal(payload.length);
          seen.add(off);
          if (completeAt < 0 && dg.complete) completeAt = i;
        });
        expect(seen.size).toBe(pieces.length);
        expect(dg.complete).toBe(true);
        // complete at the first moment every piece had arrived
        const firstAll = seq.findIndex((_, i) => new Set(seq.slice(0, i + 1).map((p) => p[0])).size === pieces.length);
        expect(completeAt).toBe(firstAll);
        const out = dg.assemble();
        expect(out.subarray(header.length)).toEqual(src);
        expect(out.readUInt16BE(2)).toBe(header.length + payload.length);
        expect(out.readUInt16BE(6) & 0x3fff).toBe(0);
        // the rewritten IPv4 header checksum verifies
        expect(onesComplementSum(out, 0, header.length)).toBe(0xffff);
      }),
    );
  });
});

describe('a flood of fragment sets that never complete', () => {
  it('stays within the fragment database: 200 collected, the rest of port 25 discarded, other ports passed; every packet accounted for', async () => {
    const ps = loadPackets(path.join(FIXTURES, 'frag-v4-12-unknown-commands.pcap'));
    // Packet 4: the first fragment of the server's banner (from port 25).
    const first = ps[3]!;
    const ipAt = 14;
    expect(first.data.readUInt16BE(ipAt + 6) & 0x2000).toBe(0x2000);
    const flood: CapturedPacket[] = [];
    for (let i = 0; i < 3000; i++) {
      for (const port of [25, 8080]) {
        const data = Buffer.from(first.data);
        data.writeUInt16BE((i * 2 + (port === 25 ? 0 : 1)) & 0xffff, ipAt + 4); // IP ID
        data.writeUInt16BE(port, ipAt + 20); // TCP source port, in the fragment's data
        flood.push({ ...first, data });
      }
    }
    const file = path.join(dir, 'flood.pcap');
    writeCapturedPcap(file, path.join(FIXTURES, 'frag-v4-12-unknown-commands.pcap'), flood);
    const r = await replayFragments(file);
    expectAccounted(r);
    const full = r.verdicts.filter((v) => v.detail.includes('fragment database full (200 fragments awaiting reassembly)'));
    expect(full).toHaveLength(2800);
    expect(r.summary.dropped).toBe(2800);
    expect(r.summary.forwarded).toBe(3200);
  });
});

describe('a datagram in more fragments than the chain limit', () => {
  it('every one of its fragments is discarded, also those after the 24th (they do not start a set of their own)', async () => {
    // 09b-body-line-998's message sent as 57 fragments, in reverse order (make-fragments.py).
    const r = await replayFragments(path.join(FIXTURES, 'frag-v4-09b-chain.pcap'));
    const chain = r.verdicts.filter((v) => v.rule === 'ip fragment reassembly' && v.detail.includes('fragment chain 24'));
    expect(chain).toHaveLength(57);
    expect(new Set(chain.map((v) => v.packet)).size).toBe(57);
    expectAccounted(r);
  });
});

describe('the bytes kept for late copies of fragments are bounded', () => {
  it('300 reassembled 64 KiB datagrams: the oldest sets are forgotten beyond 16 MiB', () => {
    const first = loadPackets(path.join(FIXTURES, 'frag-v4-12-unknown-commands.pcap'))[3]!;
    const pkt = decodePacket(1, first.data, new DecodedPacket());
    const f = fragmentFields(pkt)!;
    const table = new FragmentTable({ ...ASA_FRAGMENT_LIMITS });
    for (let i = 0; i < 300; i++) {
      const dg = table.datagramFor({ ...f, key: `set-${i}` }, pkt, 0, 0)!;
      table.settle(dg, DatagramState.INSPECTED, '');
      table.retainFinal(dg, Buffer.alloc(65535), null);
    }
    // 16 MiB / 65535 bytes = 256 sets kept, the newest ones.
    expect(table.size).toBe(256);
    expect(table.datagramFor({ ...f, key: 'set-299' }, pkt, 0, 0)!.final).not.toBeNull();
    expect(table.datagramFor({ ...f, key: 'set-0' }, pkt, 0, 0)!.final).toBeNull(); // forgotten: a new set
  });
});


describe('a complete set too long for one IP datagram', () => {
  // frag-v4-options-too-long.pcap: 40 bytes of IPv4 options + 65512 data bytes in 10 fragments (under
  // the chain limit). Before, assembling it threw RangeError (total length 65572) and replay and
  // diagnose ended with an internal error.
  const file = path.join(FIXTURES, 'frag-v4-options-too-long.pcap');

  it('replay (ASA profile): every fragment discarded as a malformed set, each with its verdict', async () => {
    const r = await replayFragments(file);
    expectAccounted(r);
    expect(r.summary.dropped).toBe(10);
    for (const v of r.verdicts) expect(v.detail).toContain('longer than an IP datagram can be');
  });

  it('replay (analysis profile): passed as captured', async () => {
    const r = await replayFragments(file, { profile: 'analysis' });
    expectAccounted(r);
    expect(r.summary.forwarded).toBe(10);
  });

  it('diagnose reads it without an internal error', () => {
    expect(ensureBuiltCli()).toBe(true);
    const d = spawnSync(process.execPath, [CLI_MAIN, 'diagnose', file], { encoding: 'utf8', timeout: 60_000 });
    expect(d.stderr).not.toContain('internal error');
    expect(d.status).toBe(0);
  });
});
