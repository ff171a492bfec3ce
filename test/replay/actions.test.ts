/**
 * Replay actions on real captures: reset synthesises valid RSTs with the right numbers,
 * retransmitted edited bytes are edited identically, a disagreeing retransmission is made to agree,
 * unselected traffic passes byte-identical, and a damaged input ends with an error naming the
 * offset while every output stays valid.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCapture } from '../../src/capture/open.js';
import { createPcapWriter } from '../../src/capture/pcap-writer.js';
import type { WritablePacket } from '../../src/capture/types.js';
import { decodePacket } from '../../src/decode/decode.js';
import { tcpChecksumOk } from '../../src/decode/checksum.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import { checkReplayInvariant } from '../../src/pipeline/invariant.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { readVerdicts, replayToTemp, RESET_POLICY } from './helpers.js';

const cap = (name: string) => path.join(GENERATED_DIR, name);
const tmp = () => mkdtempSync(path.join(tmpdir(), 'replay-act-'));

interface Rec extends WritablePacket {
  packetNumber: number;
  linkType: number;
}

async function readAll(file: string): Promise<Rec[]> {
  const src = await openCapture(file);
  const out: Rec[] = [];
  await src.run((r) => {
    out.push({
      packetNumber: r.packetNumber,
      linkType: r.linkType,
      interfaceIndex: r.interfaceIndex,
      tsSec: r.tsSec,
      tsNsec: r.tsNsec,
      tsRawHigh: r.tsRawHigh,
      tsRawLow: r.tsRawLow,
      originalLength: r.originalLength,
      data: Buffer.from(r.data),
    });
  });
  return out;
}

async function writePcapLike(template: string, dest: string, recs: WritablePacket[]): Promise<void> {
  const src = await openCapture(template);
  const w = createPcapWriter(dest, src.pcapHeader!);
  for (const r of recs) w.write(r);
  await w.close();
}

function payload(d: Buffer, linkType = 1): Buffer {
  const p = decodePacket(linkType, d, new DecodedPacket());
  return Buffer.from(d.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength));
}

describe.skipIf(!haveShared)('replay actions', () => {
  it('reset: the trigger and the rest are dropped, RSTs towards server and client with the tracked numbers', async () => {
    const dir = tmp();
    const policy = path.join(dir, 'reset.txt');
    writeFileSync(policy, RESET_POLICY);
    const r = await replayToTemp(cap('07c-rcpt-101.pcap'), { policy });
    const v = readVerdicts(r.verdicts);
    const trig = v.find((x) => x.action === 'reset')!;
    expect(trig.syslog).toContain('Reset connection for ESMTP Request');
    expect(r.summary.packets.synthesized).toBe(2);
    const input = await readAll(cap('07c-rcpt-101.pcap'));
    const tp = decodePacket(1, input[trig.packet - 1]!.data, new DecodedPacket());
    const out = await readAll(r.out);
    const rsts = out.map((o) => decodePacket(1, o.data, new DecodedPacket())).filter((p) => (p.flags & TcpFlag.RST) !== 0);
    expect(rsts.length).toBe(2);
    const [toServer, toClient] = rsts as [DecodedPacket, DecodedPacket];
    expect([toServer.srcPort, toServer.dstPort, toServer.seq, toServer.ack]).toEqual([tp.srcPort, tp.dstPort, tp.seq, tp.ack]);
    expect([toClient.srcPort, toClient.dstPort, toClient.seq, toClient.ack]).toEqual([tp.dstPort, tp.srcPort, tp.ack, tp.seq]);
    expect(tcpChecksumOk(toServer)).toBe(true);
    expect(tcpChecksumOk(toClient)).toBe(true);
    // Just after the trigger's time, and right where the trigger was in the order.
    const idx = out.findIndex((o) => (decodePacket(1, o.data, new DecodedPacket()).flags & TcpFlag.RST) !== 0);
    expect(idx).toBe(trig.packet - 1);
    expect(out[idx]!.tsSec * 1e9 + out[idx]!.tsNsec).toBeGreaterThan(input[trig.packet - 1]!.tsSec * 1e9 + input[trig.packet - 1]!.tsNsec);
    if (haveTool('tshark')) {
      const t = tshark(['-r', r.out, '-o', 'tcp.check_checksum:TRUE', '-Y', 'tcp.flags.reset==1', '-T', 'fields', '-e', 'tcp.checksum.status']);
      expect(t.trim().split('\n')).toEqual(['1', '1']);
    }
    const report = await checkReplayInvariant({ input: cap('07c-rcpt-101.pcap'), summary: r.summary, out: r.out, verdicts: r.verdicts, useTshark: haveTool('tshark') });
    expect(report.problems).toEqual([]);
    expect(r.summary.servicePolicy).toMatch(/reset-drop 11/);
  });

  it('a retransmitted banner gets the same mask; a retransmission with other bytes is made to agree with what was inspected', async () => {
    const input = await readAll(cap('02-ehlo-basic.pcap'));
    // Packet 4 is the server's 220 greeting (the first server payload).
    const bi = input.findIndex((r) => payload(r.data).subarray(0, 4).toString() === '220 ');
    expect(bi).toBeGreaterThan(0);
    const banner = input[bi]!;
    const same = { ...banner, data: Buffer.from(banner.data), tsNsec: banner.tsNsec + 1000 };
    const evil = { ...banner, data: Buffer.from(banner.data), tsNsec: banner.tsNsec + 2000 };
    const p = decodePacket(1, evil.data, new DecodedPacket());
    evil.data.write('evil', p.payloadOffset + 4, 'latin1'); // different bytes over an inspected range
    const recs = [...input.slice(0, bi + 1), same, evil, ...input.slice(bi + 1)];
    const dir = tmp();
    const file = path.join(dir, 'retrans.pcap');
    await writePcapLike(cap('02-ehlo-basic.pcap'), file, recs);
    const r = await replayToTemp(file, {});
    const out = await readAll(r.out);
    const first = payload(out[bi]!.data);
    expect(first.subarray(0, 4).toString()).toBe('220 ');
    expect(first.toString('latin1')).not.toMatch(/[A-Za-z]/);
    expect(payload(out[bi + 1]!.data).equals(first)).toBe(true);
    expect(payload(out[bi + 2]!.data).equals(first)).toBe(true);
    const v = readVerdicts(r.verdicts);
    expect(v.some((x) => x.action === 'rewrite-retransmission' && x.packet === bi + 3)).toBe(true);
    const report = await checkReplayInvariant({ input: file, summary: r.summary, out: r.out, verdicts: r.verdicts, useTshark: haveTool('tshark') });
    expect(report.problems).toEqual([]);
  });

  it('traffic no class selects passes byte-identical (no inspection at all, and the port-2525 control)', async () => {
    const dir = tmp();
    const policy = path.join(dir, 'none.txt');
    writeFileSync(policy, 'no service-policy global_policy global\n');
    const a = await replayToTemp(cap('07c-rcpt-101.pcap'), { policy });
    expect(readFileSync(a.out).equals(readFileSync(cap('07c-rcpt-101.pcap')))).toBe(true);
    const b = await replayToTemp(cap('19-port2525-control.pcap'));
    expect(readFileSync(b.out).equals(readFileSync(cap('19-port2525-control.pcap')))).toBe(true);
    expect(b.summary.packets.modified).toBe(0);
  });

  it('a capture cut in the middle of a record: error with the byte offset, everything before it written and valid', async () => {
    const whole = readFileSync(cap('07a-rcpt-120.pcap'));
    const dir = tmp();
    const file = path.join(dir, 'cut.pcap');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const r = await replayToTemp(file);
    expect(r.inputError).not.toBeNull();
    expect(r.inputError!.code).toMatch(/E_CAPTURE_(TRUNCATED|CORRUPT)/);
    expect(r.inputError!.offset).toBeGreaterThan(0);
    expect(r.inputError!.describe()).toContain('cut.pcap');
    const s = r.summary.packets;
    expect(s.in).toBeGreaterThan(10);
    expect(s.in).toBe(s.forwarded + s.dropped);
    expect((await readAll(r.out)).length).toBe(s.out);
    if (haveTool('tshark')) expect(tshark(['-r', r.out, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length).toBe(s.out);
    expect(readVerdicts(r.verdicts).length).toBe(r.summary.verdicts);
  });
});
