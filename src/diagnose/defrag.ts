/**
 * IP fragments of TCP datagrams put back together for the transcript: what the endpoints' own IP
 * stacks reassemble, so a fragmented session reads as the dialogue it is (before, every fragmented
 * segment was a gap and the session's findings were all "uncertain"). The ASA's limits are not
 * applied here: whether the ASA discards a set is the replay's verdict (src/pipeline/ip-defrag.ts);
 * the transcript shows what was sent. The fragment table is the pipeline's, with an endpoint's
 * generous limits, so memory stays bounded.
 */
import { decodePacketAt } from '../decode/decode.js';
import { DecodedPacket, PacketKind } from '../decode/packet.js';
import { LinkType } from '../decode/link-types.js';
import { DatagramState, FragmentTable, fragmentFields } from '../pipeline/ip-defrag.js';
import { QueueEntry } from '../pipeline/queue-entry.js';
import { formatEndpoint } from '../decode/address.js';
import type { SessionTranscript } from './transcript.js';

/** Per session: the most fragments one of its datagrams came in (the fragment fix's `chain`). */
const largestSets = new WeakMap<SessionTranscript, number>();

/** The most IP fragments one datagram of the session came in, in the capture (0: none fragmented). */
export function largestFragmentSet(t: SessionTranscript): number {
  return largestSets.get(t) ?? 0;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

/**
 * An endpoint's reassembly limits: any number of fragments per datagram (an IP datagram has at
 * most 8192), 60 s to complete (RFC 8200 4.5; Linux ipfrag_time is 30 s), and at most this many
 * fragments held at once (Linux's ipfrag_high_thresh is 4 MB, about this many full fragments).
 */
export const ENDPOINT_FRAGMENT_LIMITS = { chain: 8192, size: 4096, timeoutSec: 60 } as const;

export class TranscriptDefrag {
  private readonly table = new FragmentTable({ ...ENDPOINT_FRAGMENT_LIMITS });
  /** The fragment table reads a fragment's bytes through an entry; nothing is kept in it after add. */
  private readonly view = new QueueEntry();
  private readonly assembled = new DecodedPacket();
  /** Endpoint pair -> the most fragments one of its datagrams came in. */
  private readonly largest = new Map<string, number>();

  /** Records, on each transcript, the most fragments one of its datagrams came in. */
  annotate(transcripts: readonly SessionTranscript[]): void {
    for (const t of transcripts) {
      const n = this.largest.get(pairKey(t.client, t.server));
      if (n !== undefined) largestSets.set(t, n);
    }
  }

  /**
   * Takes one IP fragment (PacketKind.IP_FRAGMENT). Returns the whole datagram decoded as a raw IP
   * packet when this fragment completed it, else null. The returned packet is reused by the next call.
   */
  add(pkt: DecodedPacket, sec: number, nsec: number): DecodedPacket | null {
    const table = this.table;
    if (table.size > 0) {
      for (const dg of table.expired(sec, nsec)) if (dg.state === DatagramState.COLLECTING) table.settle(dg, DatagramState.ABANDONED, 'timeout');
    }
    const f = fragmentFields(pkt);
    if (f === null || f.protocol !== 6) return null;
    const dg = table.datagramFor(f, pkt, sec, nsec);
    if (dg === null) return null; // more fragments awaiting than an endpoint would hold
    this.view.buffer = pkt.data;
    this.view.offset = pkt.packetStart;
    table.add(dg, this.view, f, pkt);
    // the members list is only the pipeline's (to write fragments back): drop the reference
    const m = dg.members[dg.members.length - 1];
    if (m) m.entry = null;
    if (dg.state !== DatagramState.COLLECTING) return null;
    if (dg.cut) {
      table.pass(dg, 'cut by the snaplen');
      table.forget(dg);
      return null;
    }
    if (!dg.complete) return null;
    table.forget(dg);
    // An endpoint cannot take it as one datagram either (its length does not fit the IP header).
    if (dg.tooLong) return null;
    const pair = pairKey(formatEndpoint(dg.src, dg.srcPort, dg.ipVersion), formatEndpoint(dg.dst, dg.dstPort, dg.ipVersion));
    this.largest.set(pair, Math.max(this.largest.get(pair) ?? 0, dg.members.length));
    const buf = dg.assemble();
    table.settle(dg, DatagramState.INSPECTED, '');
    const out = decodePacketAt(LinkType.RAW, buf, 0, buf.length, this.assembled);
    return out.kind === PacketKind.TCP ? out : null;
  }
}
