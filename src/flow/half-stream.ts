/**
 * One direction of a TCP connection: where the next in-order byte is, the segments held out of
 * order, the recently delivered bytes kept to check retransmissions, and the per-direction
 * statistics (a HalfStream is its own HalfStreamStats, so no extra object per direction).
 *
 * Positions are stream offsets (bytes since the first byte after the SYN, plain numbers safe to
 * 2^53), anchored to one sequence number (`nextSeq` <-> `nextOffset`): a packet's offset is
 * `nextOffset + seqDiff(seq, nextSeq)`, so streams longer than 4 GiB and ISNs near 2^32 need no
 * special case.
 */
import type { HalfStreamStats } from './types.js';

/** A piece of a segment held out of order (a copy), or a known-missing range (`data` null: snaplen cut). */
export class HeldSegment {
  constructor(
    public offset: number,
    public length: number,
    public data: Buffer | null,
    public packetNumber: number,
  ) {}
  get end(): number {
    return this.offset + this.length;
  }
}

/**
 * In-order bytes (a copy) or a gap whose delivery to the listener waits: the packet that carried
 * them acknowledged bytes of the peer that were not seen yet, so they go out only once the peer's
 * stream reached `needPeer` (its bytes arrived, or became a gap) — what this side sent depends on
 * what it had received.
 */
export class DeferredEvent {
  constructor(
    public offset: number,
    public length: number,
    public data: Buffer | null,
    public packetNumber: number,
    public needPeer: number,
  ) {}
}

export class HalfStream implements HalfStreamStats {
  // --- statistics (HalfStreamStats) ---
  bytes = 0;
  gaps = 0;
  gapBytes = 0;
  retransmittedBytes = 0;
  overlapDifferentBytes = 0;
  outOfOrderPackets = 0;

  // --- sequence tracking ---
  /** The sequence space is anchored (by a SYN, or by the first packet seen midstream). */
  seqKnown = false;
  /** A SYN from this side was seen and `isn` is its sequence number. */
  isnKnown = false;
  isn = 0;
  /** Sequence number and stream offset of the next byte to deliver. */
  nextSeq = 0;
  nextOffset = 0;
  finSeen = false;
  /** Stream offset the FIN occupies (one past the last data byte). */
  finOffset = 0;
  /** Last window this side advertised (raw, unscaled); -1 before any packet. */
  window = -1;
  /** A packet of this direction was seen (false: a silent side, placed by its peer's ACKs). */
  sawPacket = false;
  /**
   * Window-scale option of this side's SYN (RFC 7323): 0..14, -1 for a SYN without it, -2 before
   * any SYN of this side (unknown). Read only to judge a RST's sequence number.
   */
  wscale = -2;

  // --- bytes the peer acknowledged but we have not seen (yet) ---
  /** Highest stream offset the peer has acknowledged (may include the FIN's own sequence number). */
  ackedOffset = 0;
  /** The acknowledged offset before the last advance: a known end of data, to tell a lost FIN from a lost byte. */
  ackedPrev = 0;
  /**
   * Peer packets that acknowledged past nextOffset since the bytes went missing: a few mean an ACK
   * overtook its data in the capture; more mean the bytes are not in the capture (a gap).
   */
  ackedMissingPackets = 0;
  /** Capture time the acknowledged bytes were first missing (for outOfOrderTimeoutSec). */
  ackedMissingSinceSec = 0;
  ackedMissingSinceNsec = 0;

  /**
   * Picked up midstream from a packet without payload, SYN or FIN: its sequence number may be a
   * keep-alive's (next-1) rather than where the stream stands. Cleared once data or an ACK decides.
   */
  bareAnchor = false;

  // --- the last zero-window probe's byte, kept until the receiver is seen to have taken it ---
  /** Stream offset of that byte (-1: none); valid only while it equals nextOffset. */
  probeOffset = -1;
  probeByte = 0;
  probePacket = 0;

  // --- delivery to the listener held for the peer (see DeferredEvent) ---
  /** Stream offset up to which the listener has been told (data or gap); below nextOffset while events wait. */
  emittedOffset = 0;
  /** Peer offset the packet being processed needs delivered before its bytes (0: none). */
  needPeer = 0;
  /** Events waiting, in stream order; null when none. */
  deferred: DeferredEvent[] | null = null;
  /** Bytes copied into `deferred`. */
  deferredBytes = 0;
  /** Capture time the oldest waiting event was deferred (for outOfOrderTimeoutSec). */
  deferredSinceSec = 0;
  deferredSinceNsec = 0;
  /** The deferred queue is being released (guards re-entry from the peer's release). */
  releasing = false;

  // --- out-of-order queue: sorted by offset, non-overlapping; null until first needed ---
  queue: HeldSegment[] | null = null;
  /** Bytes copied into `queue` (missing-range entries count 0). */
  queuedBytes = 0;
  /**
   * Held entries per packet number: one packet can be held as several entries (pieces around data
   * already held, or its bytes plus a marker for a snaplen-cut tail), but the out-of-order limit
   * counts packets, as the ASA's queue does. Null while nothing is held.
   */
  queuePacketRefs: Map<number, number> | null = null;
  /** Capture time the oldest entry now in the queue was queued (for outOfOrderTimeoutSec). */
  queueSinceSec = 0;
  queueSinceNsec = 0;

  // --- delivered bytes not yet acknowledged by the peer, to detect retransmissions that disagree ---
  hist: Buffer | null = null;
  /** Stream offset of the first retained byte, its index in `hist`, and how many are retained. */
  histStart = 0;
  histHead = 0;
  histLen = 0;

  get queueLength(): number {
    return this.queue === null ? 0 : this.queue.length;
  }

  /** Distinct packets with at least one entry in the out-of-order queue. */
  get queuedPackets(): number {
    return this.queuePacketRefs === null ? 0 : this.queuePacketRefs.size;
  }

  /** Books one more held entry of packet `pn`. */
  refHeld(pn: number): void {
    const refs = (this.queuePacketRefs ??= new Map());
    refs.set(pn, (refs.get(pn) ?? 0) + 1);
  }

  /** Releases one held entry of packet `pn`. */
  unrefHeld(pn: number): void {
    const refs = this.queuePacketRefs;
    if (refs === null) return;
    const n = (refs.get(pn) ?? 1) - 1;
    if (n > 0) refs.set(pn, n);
    else refs.delete(pn);
    if (refs.size === 0) this.queuePacketRefs = null;
  }
}
