/**
 * One 4-tuple, two sessions (fixtures/make-port-reuse.py): a real Linux capture of a client that
 * comes back on the same port right after the server's TIME_WAIT began, and a copy where its SYN
 * finds the first session still open on the server, which answers with a challenge ACK in the old
 * sequence space (RFC 5961 §4) before the client's RST and SYN retransmission.
 *
 * Regression: the challenge ACK was the new connection's first server packet, so it placed the
 * server's stream; the SYN-ACK's ISN was then ignored, the second greeting went unmasked and the
 * server stream began with a 65554-byte gap.
 *
 * And a copy where the server sends its first session's 502 again after the new SYN (a server
 * retransmitting to a client that came back on the port; the ACK is below the new SYN's ISS, so
 * no part of the new connection, RFC 9293 §3.10.7.3). Regression: that packet placed the new
 * connection's server stream: the old 502 was masked as the new greeting, the real greeting and
 * EHLO reply fell into a gap and STARTTLS passed unmasked.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEngineOptions } from '../../src/inspect/options.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';
import { InspectionPipeline } from '../../src/pipeline/inspection-pipeline.js';
import { defaultPolicy } from '../../src/policy/load.js';
import { FlowTable, PacketFlowResult } from '../../src/flow/flow-table.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket } from '../../src/decode/packet.js';
import { MemoryWriter, captureRecordOf, loadPackets } from '../helpers/capture-packets.js';
import { Recorder } from './recorder.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const LINUX = path.join(FIXTURES, 'port-reuse-linux.pcap');
const CHALLENGE = path.join(FIXTURES, 'port-reuse-challenge-ack.pcap');
const OLD_DATA = path.join(FIXTURES, 'port-reuse-old-data.pcap');

/** Per connection (in open order): [c2s, s2c, gaps]. */
function streams(file: string): [string, string, number][] {
  const rec = new Recorder();
  const table = new FlowTable(rec, {});
  const pkt = new DecodedPacket();
  const r = new PacketFlowResult();
  const recs = loadPackets(file);
  recs.forEach((x, i) => {
    decodePacket(x.linkType, x.data, pkt);
    table.process(pkt, i + 1, x.tsSec, x.tsNsec, r);
  });
  table.finish(recs[recs.length - 1]!.tsSec + 1, 0);
  const ids = rec.events.flatMap((e) => (e.kind === 'open' ? [e.id] : []));
  return ids.map((id) => [rec.text(id, 0), rec.text(id, 1), rec.gaps(id, 0).length + rec.gaps(id, 1).length]);
}

function decisions(file: string): string[] {
  const verdicts: VerdictRecord[] = [];
  const p = new InspectionPipeline({ policy: defaultPolicy(), engineOptions: parseEngineOptions([]), outputs: { packets: new MemoryWriter(), annotate: null, verdicts: (v) => verdicts.push(v), syslog: () => {} } });
  loadPackets(file).forEach((x, i) => p.process(captureRecordOf(x, i + 1, x.tsSec, x.tsNsec)));
  p.finish();
  return verdicts.filter((v) => v.action !== 'note').map((v) => `${v.direction ?? '-'} ${v.rule} ${v.action}`);
}

describe('a 4-tuple reused', () => {
  it('real Linux: two sessions, each whole, each inspected', () => {
    const s = streams(LINUX);
    expect(s.length).toBe(2);
    for (const [c2s, s2c, gaps] of s) {
      expect(gaps).toBe(0);
      expect(s2c.startsWith('220 mx.example.com')).toBe(true);
      expect(c2s.startsWith('EHLO c')).toBe(true);
    }
    const d = decisions(LINUX);
    expect(d.filter((x) => x === 's2c mask-banner mask').length).toBe(2);
  });

  it('SYN into the open session: the challenge ACK does not place the new connection, the SYN-ACK does', () => {
    const s = streams(CHALLENGE);
    const linux = streams(LINUX);
    expect(s.length).toBe(2);
    // The second session is byte for byte the recorded one, no gap.
    expect(s[1]).toEqual(linux[1]);
    // Both greetings masked, both FOOBARs X'd, both STARTTLS masked: the same decisions.
    expect(decisions(CHALLENGE)).toEqual(decisions(LINUX));
  });

  it('old session data after the new SYN: not the new connection\'s stream; the second session is inspected whole', () => {
    const recs = loadPackets(OLD_DATA);
    // The fixture is what it says: the 502 again right after the new SYN, acknowledging old bytes.
    expect(recs[10]!.data.equals(loadPackets(CHALLENGE)[10]!.data)).toBe(true);
    expect(recs[11]!.data.equals(recs[9]!.data)).toBe(true);
    const s = streams(OLD_DATA);
    const linux = streams(LINUX);
    expect(s.length).toBe(2);
    expect(s[1]).toEqual(linux[1]);
    expect(decisions(OLD_DATA)).toEqual(decisions(LINUX));
  });
});
