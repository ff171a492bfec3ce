/**
 * diagnose on IP-fragmented sessions and on the pipeline's newer records:
 * - the transcript reassembles IP fragments as the endpoints do (before, every fragmented segment
 *   was a gap, so all findings of a fragmented session were "uncertain");
 * - fragments the ASA's fragment database discards (rule `ip fragment reassembly`, one `drop` per
 *   fragment) are a finding that breaks mail, once per session, with the `fragment` fix and the
 *   note that exempting the gateway from ESMTP inspection does not help (before: bookkeeping, the
 *   session was reported fine);
 * - a RST outside the receiver's window (`tcp-rst-out-of-window` note) is a caveat of its own.
 * Real sessions (Postfix, swaks, a scripted client) sent as fragments by scapy
 * (test/pipeline/fixtures/make-fragments.py), and a real session with a forged RST added.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { transcribeCapture } from '../../src/diagnose/transcribe.js';
import { categorize, fragmentLimitOf } from '../../src/diagnose/catalogue.js';
import { isFragmentDiscard, keptForDiagnose, noteUse } from '../../src/diagnose/notes.js';
import { fragmentsNeeded } from '../../src/diagnose/fragments.js';
import { renderText } from '../../src/diagnose/text.js';
import type { DiagnoseReport } from '../../src/diagnose/model.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';
import { decodePacket } from '../../src/decode/decode.js';
import { computeTcpChecksum, writeTcpChecksum } from '../../src/decode/checksum.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import { loadPackets } from '../helpers/capture-packets.js';
import { writeCapturedPcap } from '../pipeline/write-pcap.js';

const FIX = path.join(REPO_ROOT, 'test/pipeline/fixtures');
const frag = (name: string) => path.join(FIX, name);
const gen = (name: string) => path.join(GENERATED_DIR, name);

const CHAIN = 'IP fragment (data bytes 0-23 of the datagram) discarded: more than 24 fragments in one datagram (fragment chain 24), as the ASA does';
const TIMEOUT = 'IP fragment (data bytes 64-127 of the datagram) discarded: fragment set incomplete after 5 s (fragment timeout 5), as the ASA does';
const FULL = 'IP fragment (data bytes 0-63 of the datagram) discarded: fragment database full (200 fragments awaiting reassembly), as the ASA does';

describe('fragment discards are classified', () => {
  it('a fragment drop is kept and is a firewall finding; the three limits are told apart', () => {
    const v: Pick<VerdictRecord, 'rule' | 'action' | 'detail'> = { rule: 'ip fragment reassembly', action: 'drop', detail: CHAIN };
    expect(isFragmentDiscard(v)).toBe(true);
    expect(keptForDiagnose(v)).toBe(true);
    // other per-packet drops stay bookkeeping
    expect(keptForDiagnose({ rule: 'tcp out-of-order queue', action: 'drop', detail: '' })).toBe(false);
    expect(categorize(v.rule, v.detail)).toBe('ip-fragment');
    expect(fragmentLimitOf(CHAIN)).toBe('chain');
    expect(fragmentLimitOf(TIMEOUT)).toBe('timeout');
    expect(fragmentLimitOf(FULL)).toBe('size');
  });

  it('the fragments a datagram needs, from the discarded fragments\' byte ranges', () => {
    const rec = (a: number, b: number) => ({ rule: 'ip fragment reassembly', action: 'drop', detail: CHAIN.replace('0-23', `${a}-${b}`) }) as VerdictRecord;
    // 57 fragments of 24 bytes, the last one 22 bytes (1366 bytes of TCP segment)
    expect(fragmentsNeeded([rec(1344, 1365), rec(1320, 1343), rec(0, 23)])).toBe(57);
    expect(fragmentsNeeded([])).toBe(0);
  });

  it('the out-of-window RST note is a caveat', () => {
    expect(noteUse({ rule: 'tcp-rst-out-of-window', action: 'note', detail: 'RST ignored' })).toBe('caveat');
  });
});

describe.skipIf(!haveShared)('fragmented sessions read as the dialogue they are', () => {
  it('the transcript of 12-unknown-commands in 64-byte fragments equals the unfragmented one (no gaps)', async () => {
    const [f] = await transcribeCapture(frag('frag-v4-12-unknown-commands.pcap'));
    const [g] = await transcribeCapture(gen('12-unknown-commands.pcap'));
    expect(f && g).toBeTruthy();
    expect(f!.gaps).toBe(0);
    const lines = (t: typeof f) => t!.entries.map((e) => `${e.dir} ${e.kind} ${e.verb} ${e.text}`);
    expect(lines(f)).toEqual(lines(g));
    const [v6] = await transcribeCapture(frag('frag-v6-17-ipv6-loopback.pcap'));
    const [g6] = await transcribeCapture(gen('17-ipv6-loopback.pcap'));
    expect(v6!.gaps).toBe(0);
    expect(lines(v6)).toEqual(lines(g6));
  });

  it('diagnose on it: the unfragmented findings, none uncertain, no capture-gap caveat, no fragment finding (64-byte fragments are within the ASA limits)', async () => {
    const f = await runDiagnose(frag('frag-v4-12-unknown-commands.pcap'), { policyPath: null });
    const g = await runDiagnose(gen('12-unknown-commands.pcap'), { policyPath: null });
    const rules = (r: DiagnoseReport) => r.sessions.flatMap((s) => s.findings.map((x) => `${x.rule} ${x.action} ${x.detail}`));
    expect(rules(f)).toEqual(rules(g));
    expect(f.sessions[0]!.caveats.map((c) => c.kind)).toEqual(['starttls-divergence']);
    expect(f.sessions[0]!.findings.filter((x) => x.uncertain !== null)).toEqual([]);
    expect(f.counts.broken).toBe(0);
  });
});

describe.skipIf(!haveShared)('the ASA discards a message sent in 57 fragments (fragment chain 24)', () => {
  let r: DiagnoseReport;
  beforeAll(async () => {
    r = await runDiagnose(frag('frag-v4-09b-chain.pcap'), { policyPath: null });
  });

  it('one finding for the 50 discarded fragments, at the first, breaking mail in the middle of the message', () => {
    expect(r.sessions).toHaveLength(1);
    const s = r.sessions[0]!;
    const fr = s.findings.filter((f) => f.category === 'ip-fragment');
    expect(fr).toHaveLength(1);
    const f = fr[0]!;
    expect(f.packet).toBe(27);
    expect(f.severity).toBe('breaks');
    expect(f.action).toBe('drop');
    // the records name addresses only (their first fragment came last): the transcript says who sent it
    expect(f.direction).toBe('client-to-server');
    expect(f.uncertain).toBeNull();
    expect(f.symptom.summary).toMatch(/fragment chain/);
    expect(f.symptom.summary).toMatch(/exempting the gateway from ESMTP inspection does not help/);
    expect(f.symptom.summary).toMatch(/sysopt connection tcpmss/);
    expect(f.symptom.client.join('\n')).toContain('timed out while sending message body');
    expect(f.symptom.server.join('\n')).toContain('timeout after DATA');
    expect(f.fix?.kind).toBe('fragment-limits');
    expect(f.fix?.config).toEqual(['fragment chain 57 outside']);
    expect(f.fix?.verified).toBeNull();
    expect(r.counts.broken).toBe(1);
  });

  it('the discarded bytes are explained by one caveat, not reported as a capture gap', () => {
    const kinds = r.sessions[0]!.caveats.map((c) => c.kind);
    expect(kinds).toEqual(['fragment-discard']);
    expect(r.sessions[0]!.caveats[0]!.packet).toBe(27);
  });

  it('the recommended exemption says it does not lift the discard', () => {
    expect(r.recommended?.kind).toBe('exempt-gateway');
    expect(r.recommended?.verification).toMatch(/does not lift the firewall's own drops .* session 1/);
    const text = renderText(r);
    expect(text).toContain('fragment chain 57 outside');
  });
});

describe.skipIf(!haveShared)('the ASA discards the TLS server hello sent in 58 fragments', () => {
  it('a server-to-client finding, fixed on the server side, uncertain after the STARTTLS divergence', async () => {
    const r = await runDiagnose(frag('frag-v4-12-chain.pcap'), { policyPath: null });
    const fr = r.sessions.flatMap((s) => s.findings).filter((f) => f.category === 'ip-fragment');
    expect(fr).toHaveLength(1);
    expect(fr[0]!.packet).toBe(111);
    expect(fr[0]!.direction).toBe('server-to-client');
    expect(fr[0]!.fix?.config).toEqual(['fragment chain 58 inside']);
    expect(fr[0]!.uncertain).toMatch(/STARTTLS|starttls-divergence/);
    expect(fr[0]!.symptom.summary).toMatch(/from the server/);
  });
});

/** A client RST+ACK made from the client's first pure ACK, its sequence number 2^29 ahead (far out of window). */
function withForgedRst(capture: string, dir: string): string {
  const packets = loadPackets(capture);
  const ack = packets.find((p) => p.toServer && p.len === 0 && (p.flags & TcpFlag.SYN) === 0)!;
  const after = packets.findIndex((p) => p.toServer && p.data.subarray(p.payloadAt, p.payloadAt + 4).toString('latin1') === 'EHLO');
  const data = Buffer.from(ack.data);
  const pkt = new DecodedPacket();
  decodePacket(ack.linkType, data, pkt);
  const tcp = pkt.payloadOffset - pkt.tcpHeaderLength;
  data.writeUInt32BE((pkt.seq + 2 ** 29) >>> 0, tcp + 4);
  data[tcp + 13] = TcpFlag.RST | TcpFlag.ACK;
  decodePacket(ack.linkType, data, pkt);
  writeTcpChecksum(pkt, computeTcpChecksum(pkt));
  const at = packets[after]!;
  packets.splice(after + 1, 0, { ...ack, data, rst: true, flags: TcpFlag.RST | TcpFlag.ACK, tsSec: at.tsSec, tsNsec: at.tsNsec });
  const file = path.join(dir, 'rst-out-of-window.pcap');
  writeCapturedPcap(file, capture, packets);
  return file;
}

describe.skipIf(!haveShared)('a RST outside the window', () => {
  it('is a caveat saying the session went on, and the findings after it stay certain', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-rst-'));
    const file = withForgedRst(gen('12-unknown-commands.pcap'), dir);
    const r = await runDiagnose(file, { policyPath: null });
    const s = r.sessions[0]!;
    const c = s.caveats.find((x) => x.kind === 'rst-out-of-window');
    expect(c).toBeDefined();
    expect(c!.uncertainFrom).toBeNull();
    expect(c!.text).toMatch(/outside the receiver's window/);
    expect(c!.text).toMatch(/the session goes on after it/);
    // inspection went on: the X'd commands after the RST are findings, not made uncertain by it
    const later = s.findings.filter((f) => f.packet > c!.packet && f.category === 'unknown-command');
    expect(later.length).toBeGreaterThan(5);
    expect(later.every((f) => f.uncertain === null)).toBe(true);
  });
});
