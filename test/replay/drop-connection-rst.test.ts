/**
 * drop-connection-rst (ASA-ESMTP.md 11.11): drop-connection is silent by default; with `yes` the
 * replay synthesises the same two RSTs as `reset`, and the counters still count drop, not
 * reset-drop. Real capture: MANIFEST 07c (101 RCPTs, the default map's `cmd RCPT count gt 100`
 * drop-connection log).
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { openCapture } from '../../src/capture/open.js';
import { decodePacket } from '../../src/decode/decode.js';
import { tcpChecksumOk } from '../../src/decode/checksum.js';
import { DecodedPacket, TcpFlag } from '../../src/decode/packet.js';
import { checkReplayInvariant } from '../../src/pipeline/invariant.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from './helpers.js';

const CAP = path.join(GENERATED_DIR, '07c-rcpt-101.pcap');

async function packets(file: string): Promise<DecodedPacket[]> {
  const src = await openCapture(file);
  const out: DecodedPacket[] = [];
  await src.run((r) => {
    out.push(decodePacket(r.linkType, Buffer.from(r.data), new DecodedPacket()));
  });
  return out;
}
const rstsOf = (ps: DecodedPacket[]) => ps.filter((p) => (p.flags & TcpFlag.RST) !== 0);

describe.skipIf(!haveShared)('drop-connection-rst', () => {
  it('no (default): the drop is silent, counted as drop', async () => {
    const r = await replayToTemp(CAP);
    expect(r.summary.packets.synthesized).toBe(0);
    expect(rstsOf(await packets(r.out))).toHaveLength(0);
    expect(readVerdicts(r.verdicts).some((v) => v.action === 'drop-connection')).toBe(true);
    expect(r.summary.servicePolicy).toMatch(/drop [1-9]\d*, reset-drop 0/);
  });

  it('yes: an RST to each side with the trigger\'s numbers, valid checksums; still drop, not reset-drop; same drops as without', async () => {
    const quiet = await replayToTemp(CAP);
    const r = await replayToTemp(CAP, { set: ['drop-connection-rst=yes'] });
    const v = readVerdicts(r.verdicts);
    const trig = v.find((x) => x.action === 'drop-connection')!;
    expect(trig.syslog).toContain('Dropped connection for ESMTP Request');
    expect(r.summary.packets.synthesized).toBe(2);
    expect(r.summary.packets.dropped).toBe(quiet.summary.packets.dropped);
    const input = await packets(CAP);
    const tp = input[trig.packet - 1]!;
    const rsts = rstsOf(await packets(r.out));
    expect(rsts).toHaveLength(2);
    const [toServer, toClient] = rsts as [DecodedPacket, DecodedPacket];
    expect([toServer.srcPort, toServer.dstPort, toServer.seq, toServer.ack]).toEqual([tp.srcPort, tp.dstPort, tp.seq, tp.ack]);
    expect([toClient.srcPort, toClient.dstPort, toClient.seq, toClient.ack]).toEqual([tp.dstPort, tp.srcPort, tp.ack, tp.seq]);
    expect(tcpChecksumOk(toServer)).toBe(true);
    expect(tcpChecksumOk(toClient)).toBe(true);
    const synth = v.filter((x) => x.action === 'synthesize');
    expect(synth.map((x) => x.detail)).toEqual([
      `synthesised RST towards the server (connection dropped (drop-connection-rst=yes) by ${trig.rule}, after packet ${trig.packet})`,
      `synthesised RST towards the client (connection dropped (drop-connection-rst=yes) by ${trig.rule}, after packet ${trig.packet})`,
    ]);
    // the counters: drop as without the option, reset-drop 0
    const dropOf = (s: string) => /drop (\d+), reset-drop (\d+)/.exec(s)!.slice(1);
    expect(dropOf(r.summary.servicePolicy)).toEqual(dropOf(quiet.summary.servicePolicy));
    expect(dropOf(r.summary.servicePolicy)[1]).toBe('0');
    if (haveTool('tshark')) {
      const t = tshark(['-r', r.out, '-o', 'tcp.check_checksum:TRUE', '-Y', 'tcp.flags.reset==1', '-T', 'fields', '-e', 'tcp.checksum.status']);
      expect(t.trim().split('\n')).toEqual(['1', '1']);
    }
    const report = await checkReplayInvariant({ input: CAP, summary: r.summary, out: r.out, verdicts: r.verdicts, useTshark: haveTool('tshark') });
    expect(report.problems).toEqual([]);
  });
});
