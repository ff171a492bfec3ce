/**
 * Reads a capture through our reader, decoder and reassembly and returns the SMTP transcript of
 * every tracked connection (independent of any policy: what was on the wire).
 */
import { openCapture } from '../capture/open.js';
import { decodePacket } from '../decode/decode.js';
import { DecodedPacket, PacketKind } from '../decode/packet.js';
import { FlowTable, PacketFlowResult } from '../flow/flow-table.js';
import { TranscriptRecorder, type SessionTranscript } from './transcript.js';
import { defaultEngineOptions, type EngineOptions } from '../inspect/options.js';
import { TranscriptDefrag } from './defrag.js';

export const SMTP_PORTS = [25, 465, 587, 2525];

/** `engineOptions`: the replay's, so server replies end where the engine ends them. */
export async function transcribeCapture(
  path: string,
  serverPorts: number[] | null = SMTP_PORTS,
  engineOptions: EngineOptions = defaultEngineOptions(),
): Promise<SessionTranscript[]> {
  const src = await openCapture(path);
  const rec = new TranscriptRecorder(engineOptions);
  const table = new FlowTable(rec, { serverPorts });
  const pkt = new DecodedPacket();
  const r = new PacketFlowResult();
  const defrag = new TranscriptDefrag();
  let lastSec = 0;
  let lastNsec = 0;
  await src.run((c) => {
    decodePacket(c.linkType, c.data, pkt);
    lastSec = c.tsSec;
    lastNsec = c.tsNsec;
    // a fragmented segment is read whole, numbered as the fragment that completed it (as replay does)
    const p = pkt.kind === PacketKind.IP_FRAGMENT ? defrag.add(pkt, c.tsSec, c.tsNsec) : pkt;
    if (p !== null) table.process(p, c.packetNumber, c.tsSec, c.tsNsec, r);
  });
  table.finish(lastSec, lastNsec);
  // Keep connections that spoke SMTP-ish (port selection may be "any" with an ACL policy).
  const all = rec.finish();
  defrag.annotate(all);
  return all.filter((t) => t.entries.some((e) => e.kind === 'reply' || e.kind === 'command'));
}
