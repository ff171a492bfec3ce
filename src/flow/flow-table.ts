/**
 * TCP connection tracking and per-direction reassembly. One call per decoded packet; events go to
 * one StreamListener (open, established, data, gap, close). Semantics, limits and their outcomes
 * are described in native-notes/reassembly.md.
 *
 * - Lookup: the 4-tuple is hashed symmetrically into an int32 key (no strings per packet); a Map
 *   holds the head of a short chain of connections, each compared word by word.
 * - Delivery: in-order bytes are handed over as views of the packet; only out-of-order bytes are
 *   copied. The bytes seen first win; later copies are compared (held data, and delivered bytes the
 *   peer has not ACKed yet) and disagreements are counted and reported per packet.
 * - Timeouts run on capture time: three intrusive lists (half-open, established, lingering closed),
 *   each ordered by last activity, so expiry only ever looks at list heads.
 */
import { PacketKind, TcpFlag, type DecodedPacket } from '../decode/packet.js';
import { formatIp } from '../decode/address.js';
import { Connection, ConnList, type EndpointWords } from './connection.js';
import { DeferredEvent, HalfStream, HeldSegment } from './half-stream.js';
import { resolveFlowOptions, type FlowOptions } from './options.js';
import { BufferPool } from './buffer-pool.js';
import { seqAdd, seqDiff } from './seq.js';
import { FlowStatus, type CloseReason, type Direction, type StreamListener } from './types.js';

export { type FlowOptions, DEFAULT_FLOW_OPTIONS, ASA_OUT_OF_ORDER } from './options.js';

/** Segments further than this from the expected sequence number are not from this stream. */
const MAX_SEQ_DISTANCE = 0x40000000;
/**
 * Packets of the peer acknowledging bytes we have not seen, beyond which those bytes are a gap
 * (fewer when the out-of-order packet limit is lower): a capture point may let an ACK overtake its
 * data by a few packets, never by many.
 */
const ACK_OVERTAKE_PACKETS = 8;
/**
 * Events one side may have waiting for the peer's hole before the hole is given up anyway (a
 * backstop: the ACK window and the timeout settle it well before).
 */
const MAX_DEFERRED_EVENTS = 64;
/** Smallest retransmission-check history buffer. */
const HISTORY_MIN_CAPACITY = 2048;
/** History buffers kept for reuse (not counted in memoryInUse: a fixed amount). */
const HISTORY_POOL_BYTES = 16 * 1024 * 1024;

/** What the flow layer did with one packet. One instance is reused for every packet. */
export class PacketFlowResult<S = unknown> {
  conn: Connection<S> | null = null;
  dir: Direction = 0;
  /** Stream offset of the packet's first payload byte (also for retransmissions); -1 when untracked. */
  streamOffset = -1;
  /** Payload bytes present in the packet. */
  payloadLength = 0;
  /** FlowStatus bits. */
  status = 0;
  /** Bytes of this payload that were delivered to the listener now (in order, this call). */
  deliveredLength = 0;
  /**
   * First-to-last differing byte of this packet against the copy that was delivered/held first,
   * as a stream offset range (-1/0 when none), so the rewriter can make the packet agree.
   */
  overlapDifferentOffset = -1;
  overlapDifferentLength = 0;

  reset(): void {
    this.conn = null;
    this.dir = 0;
    this.streamOffset = -1;
    this.payloadLength = 0;
    this.status = 0;
    this.deliveredLength = 0;
    this.overlapDifferentOffset = -1;
    this.overlapDifferentLength = 0;
  }
}

export interface FlowClosedCounts {
  fin: number;
  rst: number;
  'idle-timeout': number;
  'half-open-timeout': number;
  evicted: number;
  'end-of-capture': number;
  'new-syn': number;
}

export class FlowTableStats {
  /** Connections created. */
  opened = 0;
  closed: FlowClosedCounts = {
    fin: 0,
    rst: 0,
    'idle-timeout': 0,
    'half-open-timeout': 0,
    evicted: 0,
    'end-of-capture': 0,
    'new-syn': 0,
  };
  /** Open connections whose handshake has not completed (now). */
  embryonic = 0;
  /** Open connections (now), embryonic included. */
  open = 0;
  /** Closed connections still holding their 4-tuple (now). */
  lingering = 0;
  peakOpen = 0;
  trackedPackets = 0;
  untrackedPackets = 0;
  /** Packets ignored: sequence far outside the stream, or data after a FIN/close. */
  ignoredPackets = 0;
  /** RSTs ignored (also in ignoredPackets): sequence number outside the receiver's window. */
  ignoredResets = 0;
  /** Out-of-order segments discarded ('drop' limit, or 'drop' timeout). */
  outOfOrderDrops = 0;
  /** Times a per-direction out-of-order limit was hit. */
  outOfOrderLimitHits = 0;
  /** Holes given up because held data waited longer than outOfOrderTimeoutSec. */
  outOfOrderTimeouts = 0;
  /** Bytes buffered now (out-of-order copies + retransmission-check history), and the peak. */
  memoryInUse = 0;
  peakMemoryInUse = 0;
  /** Times the global memory cap forced buffered data out, and connections affected. */
  memoryCapHits = 0;
  memoryCapFlushes = 0;
  /** Times the connection table was full when a connection had to be created. */
  connectionLimitHits = 0;
}

/** Optional extra events, beyond StreamListener. */
export interface DiscardListener<C> {
  /** Bytes received but thrown away ('drop' policy): not delivered, a later copy may be. */
  onDiscard?(conn: C, dir: Direction, offset: number, length: number, packetNumber: number, reason: 'out-of-order-limit' | 'out-of-order-timeout'): void;
  /**
   * The connection left the table (linger over, tuple reused by a new SYN, evicted, timed out, or
   * finish()): no later packet will be attributed to it, so its packet count and last time are final.
   */
  onRemove?(conn: C): void;
}

const ACK = TcpFlag.ACK;
const SYN = TcpFlag.SYN;
const FIN = TcpFlag.FIN;
const RST = TcpFlag.RST;

/** The window-scale shift a SYN carries (RFC 7323 §2.2; capped at 14), or -1 without the option. */
export function windowScaleOption(pkt: DecodedPacket): number {
  const d = pkt.data;
  const end = pkt.payloadOffset;
  let i = end - pkt.tcpHeaderLength + 20;
  while (i < end) {
    const kind = d[i] ?? 0;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = d[i + 1] ?? 0;
    if (len < 2 || i + len > end) break;
    if (kind === 3 && len === 3) return Math.min(d[i + 2] ?? 0, 14);
    i += len;
  }
  return -1;
}

/** One step of a multiplicative hash (murmur3-style finalising): every input bit reaches every output bit. */
function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
const HASH_SEED = 0x2545f491;

export class FlowTable<S = unknown> {
  readonly options: FlowOptions;
  readonly stats = new FlowTableStats();
  private readonly listener: StreamListener<Connection<S>> & DiscardListener<Connection<S>>;
  private readonly portSelected: Uint8Array | null;
  /**
   * Hash table of connection chains: buckets indexed by the symmetric tuple hash's low bits, each
   * a chain through Connection.hashNext compared tuple by tuple (a plain array index per packet,
   * no Map lookup). Doubled when connections outnumber buckets twice over.
   */
  private buckets: (Connection<S> | null)[] = new Array<Connection<S> | null>(1024).fill(null);
  private bucketMask = 1023;
  private nextId = 1;
  private count = 0;
  // Timeout lists (head = least recently active).
  private readonly heads: (Connection<S> | null)[] = [null, null, null, null];
  private readonly tails: (Connection<S> | null)[] = [null, null, null, null];
  /**
   * Connections holding buffered bytes, in the order they started buffering (oldest first): an
   * intrusive list through Connection.bufPrev/bufNext, so joining and leaving it (every time a
   * history empties on an ACK and refills) allocates nothing.
   */
  private bufHead: Connection<S> | null = null;
  private bufTail: Connection<S> | null = null;
  // Reused lookup scratch: the packet's source and destination words.
  private readonly sw = [0, 0, 0, 0];
  private readonly dw = [0, 0, 0, 0];
  private nowSec = 0;
  private nowNsec = 0;
  private noHistory = false;
  private readonly historyPool: BufferPool;

  constructor(listener: StreamListener<Connection<S>> & DiscardListener<Connection<S>>, options?: Partial<FlowOptions>) {
    this.listener = listener;
    this.options = resolveFlowOptions(options);
    const maxHist = Math.max(1, this.options.retransmissionCheckBytes);
    this.historyPool = new BufferPool(Math.min(HISTORY_MIN_CAPACITY, maxHist), maxHist, HISTORY_POOL_BYTES);
    if (this.options.serverPorts === null) {
      this.portSelected = null;
    } else {
      this.portSelected = new Uint8Array(65536);
      for (const p of this.options.serverPorts) this.portSelected[p] = 1;
    }
  }

  /** Connections in the table now (open + lingering closed). */
  get size(): number {
    return this.count;
  }

  /** Every connection in the table (open and lingering), least recently active first per list. */
  *connections(): IterableIterator<Connection<S>> {
    for (const l of [ConnList.EMBRYONIC, ConnList.ESTABLISHED, ConnList.CLOSED]) {
      for (let c = this.heads[l] ?? null; c !== null; c = c.next) yield c;
    }
  }

  /**
   * The copy that won for stream bytes [offset, offset+length) of one direction, as a view valid
   * until the next process() call: from the retained delivered bytes, or from a held segment.
   * Null when the range is not retained in one piece (the rewriter then leaves the packet as is).
   */
  retainedBytes(conn: Connection<S>, dir: Direction, offset: number, length: number): Buffer | null {
    const h = conn.half[dir];
    if (h.hist !== null && offset >= h.histStart && offset + length <= h.histStart + h.histLen) {
      const at = h.histHead + (offset - h.histStart);
      return h.hist.subarray(at, at + length);
    }
    if (h.queue !== null) {
      for (const seg of h.queue) {
        if (seg.data !== null && offset >= seg.offset && offset + length <= seg.end) return seg.data.subarray(offset - seg.offset, offset - seg.offset + length);
      }
    }
    return null;
  }

  /** Is this port one of the selected server ports (always true with serverPorts null)? */
  isServerPort(port: number): boolean {
    return this.portSelected === null ? false : this.portSelected[port] === 1;
  }

  process(pkt: DecodedPacket, packetNumber: number, tsSec: number, tsNsec: number, r: PacketFlowResult<S>): void {
    r.reset();
    const sel = this.portSelected;
    if (pkt.kind !== PacketKind.TCP || (sel !== null && sel[pkt.srcPort] === 0 && sel[pkt.dstPort] === 0)) {
      r.status = FlowStatus.UNTRACKED;
      this.stats.untrackedPackets++;
      return;
    }
    this.stats.trackedPackets++;
    this.nowSec = tsSec;
    this.nowNsec = tsNsec;
    this.expire();

    // --- lookup ---
    const data = pkt.data;
    const v6 = pkt.addrLength === 16;
    const sw = this.sw;
    const dw = this.dw;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        sw[i] = data.readInt32BE(pkt.srcAddrOffset + 4 * i);
        dw[i] = data.readInt32BE(pkt.dstAddrOffset + 4 * i);
      }
    } else {
      sw[0] = data.readInt32BE(pkt.srcAddrOffset);
      dw[0] = data.readInt32BE(pkt.dstAddrOffset);
      sw[1] = sw[2] = sw[3] = dw[1] = dw[2] = dw[3] = 0;
    }
    const sp = pkt.srcPort;
    const dp = pkt.dstPort;
    // Symmetric in the two endpoints, so both directions find the same chain.
    const ha = mix(mix(mix(mix(mix(HASH_SEED, sp), sw[0]!), sw[1]!), sw[2]!), sw[3]!);
    const hb = mix(mix(mix(mix(mix(HASH_SEED, dp), dw[0]!), dw[1]!), dw[2]!), dw[3]!);
    const key = (Math.imul(ha ^ hb, 0x85ebca6b) ^ ((ha + hb) | 0)) | 0;

    let conn: Connection<S> | null = this.buckets[key & this.bucketMask] ?? null;
    let dir: Direction = 0;
    for (; conn !== null; conn = conn.hashNext) {
      if (conn.ipVersion !== (v6 ? 6 : 4)) continue;
      if (conn.clientPort === sp && conn.serverPort === dp && conn.c0 === sw[0] && conn.s0 === dw[0] && conn.c1 === sw[1] && conn.s1 === dw[1] && conn.c2 === sw[2] && conn.s2 === dw[2] && conn.c3 === sw[3] && conn.s3 === dw[3]) {
        dir = 0;
        break;
      }
      if (conn.clientPort === dp && conn.serverPort === sp && conn.c0 === dw[0] && conn.s0 === sw[0] && conn.c1 === dw[1] && conn.s1 === sw[1] && conn.c2 === dw[2] && conn.s2 === sw[2] && conn.c3 === dw[3] && conn.s3 === sw[3]) {
        dir = 1;
        break;
      }
    }

    const flags = pkt.flags;
    const isSyn = (flags & SYN) !== 0;
    const pureSyn = isSyn && (flags & ACK) === 0;
    if (conn !== null && isSyn && this.startsNewConnection(conn, dir, pkt.seq, pureSyn)) {
      if (!conn.closed) this.close(conn, 'new-syn', null);
      this.remove(conn);
      conn = null;
    }
    if (conn === null) {
      conn = this.open(pkt, packetNumber, key, flags, v6);
      dir = conn.clientPort === sp && conn.c0 === sw[0] && conn.c1 === sw[1] && conn.c2 === sw[2] && conn.c3 === sw[3] ? 0 : 1;
      // Same address and port on both sides: the source is the client.
      if (conn.clientPort === conn.serverPort && conn.c0 === conn.s0 && conn.c1 === conn.s1 && conn.c2 === conn.s2 && conn.c3 === conn.s3) dir = 0;
      r.status |= FlowStatus.NEW_CONNECTION;
    }

    r.conn = conn;
    r.dir = dir;
    r.payloadLength = pkt.payloadLength;
    conn.packets++;
    conn.lastPacketNumber = packetNumber;
    conn.lastTimeSec = tsSec;
    conn.lastTimeNsec = tsNsec;
    this.touch(conn);
    this.handleSegment(conn, dir, pkt, packetNumber, r);
    if (this.stats.memoryInUse > this.options.memoryCapBytes) this.enforceMemoryCap();
  }

  /**
   * Capture time moved on without a packet (a live capture's timer): connections and held
   * out-of-order data expire as they would for a packet at (tsSec, tsNsec). Never goes backwards.
   */
  advanceTime(tsSec: number, tsNsec: number): void {
    if (tsSec < this.nowSec || (tsSec === this.nowSec && tsNsec <= this.nowNsec)) return;
    this.nowSec = tsSec;
    this.nowNsec = tsNsec;
    this.expire();
    if (this.options.outOfOrderTimeoutSec > 0) {
      for (const c of this.bufferedSnapshot()) {
        if (c.closed) continue;
        this.checkHeldTimeout(c, 0);
        this.checkHeldTimeout(c, 1);
        this.checkDeferred(c);
      }
    }
  }

  /**
   * End of input: closes every open connection ('end-of-capture': holes left become gaps, held
   * data is delivered), then removes every connection from the table (onRemove), in id order.
   */
  finish(tsSec: number, tsNsec: number): void {
    this.nowSec = tsSec;
    this.nowNsec = tsNsec;
    const all = [...this.connections()].sort((a, b) => a.id - b.id);
    for (const c of all) if (!c.closed) this.close(c, 'end-of-capture', null);
    for (const c of all) this.remove(c);
  }

  // ---------------------------------------------------------------- connection lifecycle

  private startsNewConnection(conn: Connection<S>, dir: Direction, seq: number, pureSyn: boolean): boolean {
    const h = conn.half[dir];
    if (h.isnKnown && h.isn === seq) return false; // retransmitted SYN / SYN-ACK
    if (!pureSyn) return false; // a SYN-ACK never starts a connection on a known tuple
    if (conn.closed) return true;
    // Open connection: a SYN from a side that has not spoken yet is simultaneous open / a first SYN.
    return h.seqKnown || h.isnKnown;
  }

  private open(pkt: DecodedPacket, packetNumber: number, key: number, flags: number, v6: boolean): Connection<S> {
    if (this.count >= this.options.maxConnections) this.evictForRoom();
    const sp = pkt.srcPort;
    const dp = pkt.dstPort;
    let clientIsSource: boolean;
    let clientBy: Connection['clientBy'];
    if ((flags & SYN) !== 0 && (flags & ACK) === 0) {
      clientIsSource = true;
      clientBy = 'syn';
    } else if ((flags & SYN) !== 0) {
      clientIsSource = false;
      clientBy = 'syn-ack';
    } else if (this.portIsServer(dp) && !this.portIsServer(sp)) {
      clientIsSource = true;
      clientBy = 'port';
    } else if (this.portIsServer(sp) && !this.portIsServer(dp)) {
      clientIsSource = false;
      clientBy = 'port';
    } else if (this.portIsServer(dp)) {
      clientIsSource = true;
      clientBy = 'port';
    } else {
      clientIsSource = true;
      clientBy = 'first-packet';
    }
    const addrLen = v6 ? 16 : 4;
    const srcIp = formatIp(pkt.data, pkt.srcAddrOffset, addrLen);
    const dstIp = formatIp(pkt.data, pkt.dstAddrOffset, addrLen);
    const sw = this.sw;
    const dw = this.dw;
    const ends: EndpointWords = {
      ipVersion: v6 ? 6 : 4,
      clientWords: clientIsSource ? [sw[0]!, sw[1]!, sw[2]!, sw[3]!] : [dw[0]!, dw[1]!, dw[2]!, dw[3]!],
      serverWords: clientIsSource ? [dw[0]!, dw[1]!, dw[2]!, dw[3]!] : [sw[0]!, sw[1]!, sw[2]!, sw[3]!],
    };
    const conn = clientIsSource
      ? new Connection<S>(this.nextId++, ends, srcIp, sp, dstIp, dp, clientBy, packetNumber, this.nowSec, this.nowNsec)
      : new Connection<S>(this.nextId++, ends, dstIp, dp, srcIp, sp, clientBy, packetNumber, this.nowSec, this.nowNsec);
    conn.hashKey = key;
    const b = key & this.bucketMask;
    conn.hashNext = this.buckets[b] ?? null;
    this.buckets[b] = conn;
    this.count++;
    if (this.count > 2 * this.buckets.length) this.growBuckets();
    this.stats.opened++;
    this.stats.open++;
    const midstream = (flags & SYN) === 0;
    if (midstream) {
      // Picked up without a handshake: treated as established from the start.
      conn.established = true;
      this.listAppend(conn, ConnList.ESTABLISHED);
    } else {
      this.stats.embryonic++;
      this.listAppend(conn, ConnList.EMBRYONIC);
    }
    if (this.stats.open > this.stats.peakOpen) this.stats.peakOpen = this.stats.open;
    this.listener.onOpen(conn);
    if (midstream) this.listener.onEstablished?.(conn);
    return conn;
  }

  private portIsServer(port: number): boolean {
    const sel = this.portSelected;
    return sel !== null ? sel[port] === 1 : port === 25 || port === 587 || port === 2525;
  }

  private establish(conn: Connection<S>): void {
    conn.established = true;
    this.stats.embryonic--;
    this.listMove(conn, ConnList.ESTABLISHED);
    this.listener.onEstablished?.(conn);
  }

  /** Closes a connection: holes become gaps, held data is delivered, then onClose. It lingers. */
  private close(conn: Connection<S>, reason: CloseReason, r: PacketFlowResult<S> | null): void {
    if (conn.closed) return;
    this.flushAll(conn, 0, true);
    this.flushAll(conn, 1, true);
    this.releaseDeferred(conn, true);
    this.dropHistory(conn.half[0]);
    this.dropHistory(conn.half[1]);
    this.updateBuffered(conn);
    conn.closed = true;
    conn.closeReason = reason;
    if (!conn.established) this.stats.embryonic--;
    this.stats.open--;
    this.stats.lingering++;
    this.stats.closed[reason]++;
    this.listMove(conn, ConnList.CLOSED);
    if (r !== null) r.status |= FlowStatus.CLOSED;
    this.listener.onClose(conn, reason);
  }

  private growBuckets(): void {
    const old = this.buckets;
    const next = new Array<Connection<S> | null>(old.length * 2).fill(null);
    const mask = next.length - 1;
    for (let head of old) {
      while (head !== null) {
        const c: Connection<S> = head;
        head = c.hashNext;
        const b = c.hashKey & mask;
        c.hashNext = next[b] ?? null;
        next[b] = c;
      }
    }
    this.buckets = next;
    this.bucketMask = mask;
  }

  /** Takes a connection out of the table (it must be closed already). */
  private remove(conn: Connection<S>): void {
    const b = conn.hashKey & this.bucketMask;
    const head = this.buckets[b] ?? null;
    if (head === conn) {
      this.buckets[b] = conn.hashNext;
    } else {
      for (let c = head; c !== null; c = c.hashNext) {
        if (c.hashNext === conn) {
          c.hashNext = conn.hashNext;
          break;
        }
      }
    }
    conn.hashNext = null;
    if (conn.list === ConnList.CLOSED) this.stats.lingering--;
    this.listUnlink(conn);
    this.count--;
    this.listener.onRemove?.(conn);
  }

  private evictForRoom(): void {
    this.stats.connectionLimitHits++;
    const victim = this.heads[ConnList.CLOSED] ?? this.heads[ConnList.EMBRYONIC] ?? this.heads[ConnList.ESTABLISHED] ?? null;
    if (victim === null) return;
    if (!victim.closed) this.close(victim, 'evicted', null);
    this.remove(victim);
  }

  /** Expires list heads whose timeout passed (capture time). */
  private expire(): void {
    const o = this.options;
    for (;;) {
      const c = this.heads[ConnList.EMBRYONIC] ?? null;
      if (c === null || this.idleFor(c) <= o.halfOpenTimeoutSec) break;
      this.close(c, 'half-open-timeout', null);
      this.remove(c);
    }
    for (;;) {
      const c = this.heads[ConnList.ESTABLISHED] ?? null;
      if (c === null || this.idleFor(c) <= o.idleTimeoutSec) break;
      this.close(c, 'idle-timeout', null);
      this.remove(c);
    }
    for (;;) {
      const c = this.heads[ConnList.CLOSED] ?? null;
      if (c === null || this.idleFor(c) <= o.closedLingerSec) break;
      this.remove(c);
    }
  }

  private idleFor(c: Connection<S>): number {
    return this.nowSec - c.lastTimeSec + (this.nowNsec - c.lastTimeNsec) * 1e-9;
  }

  // ---------------------------------------------------------------- per-packet TCP handling

  private handleSegment(conn: Connection<S>, dir: Direction, pkt: DecodedPacket, packetNumber: number, r: PacketFlowResult<S>): void {
    const flags = pkt.flags;
    const h = conn.half[dir];
    const peer = conn.half[dir === 0 ? 1 : 0];
    const isSyn = (flags & SYN) !== 0;
    const anchored = h.seqKnown;
    h.needPeer = 0;
    if (isSyn) {
      r.status |= FlowStatus.SYN;
      if (h.wscale === -2) h.wscale = windowScaleOption(pkt);
      if (!h.isnKnown && !h.seqKnown) {
        h.isnKnown = true;
        h.isn = pkt.seq;
        h.seqKnown = true;
        h.nextSeq = seqAdd(pkt.seq, 1);
        h.nextOffset = 0;
      } else if (h.isnKnown && h.isn === pkt.seq) {
        r.status |= FlowStatus.RETRANSMISSION;
      } else if (!h.isnKnown && (flags & ACK) !== 0 && peer.isnKnown && pkt.ack === seqAdd(peer.isn, 1) && this.silent(h)) {
        // The SYN-ACK of this connection's SYN, after a bare packet of this side placed it elsewhere:
        // a SYN that finds the old connection still open draws a challenge ACK in the old sequence
        // space (RFC 5961 §4) before the client's RST and SYN retransmission. The ISN wins.
        h.isnKnown = true;
        h.isn = pkt.seq;
        h.nextSeq = seqAdd(pkt.seq, 1);
        h.ackedOffset = 0;
        h.ackedPrev = 0;
        h.bareAnchor = false;
      }
      if (dir === 1 && (flags & ACK) !== 0) conn.synSeen = true;
    }
    if ((flags & RST) !== 0) r.status |= FlowStatus.RST;
    if ((flags & FIN) !== 0) r.status |= FlowStatus.FIN;
    const dataSeq = isSyn ? seqAdd(pkt.seq, 1) : pkt.seq;
    if (!h.seqKnown && !isSyn && (flags & ACK) !== 0 && peer.isnKnown && seqDiff(pkt.ack, peer.isn) <= 0) {
      // A side's first packet acknowledges nothing of the peer's SYN (SEG.ACK =< ISS: unacceptable,
      // RFC 9293 §3.10.7.3): it belongs to an older connection on the tuple — a server's
      // retransmission to a client that came back on the same port, its challenge ACK (RFC 5961
      // §4). Anchored there, the side's stream began in the old sequence space: old bytes were
      // inspected as this connection's greeting and the real one became a gap. Not of this
      // connection: no anchor, no bytes (forwarded as is).
      r.status |= FlowStatus.IGNORED;
      r.payloadLength = 0;
      this.stats.ignoredPackets++;
      return;
    }
    if (!h.seqKnown) {
      // Midstream (or the side whose SYN we missed): the stream starts at the first sequence seen.
      h.seqKnown = true;
      h.nextSeq = dataSeq;
      h.nextOffset = 0;
      h.bareAnchor = pkt.payloadLength === 0 && pkt.payloadMissing === 0 && (flags & (FIN | RST)) === 0;
    } else if (h.bareAnchor) {
      // The next packet of a side anchored by a bare ACK: one sequence number above that ACK, the
      // ACK was a keep-alive (next-1, RFC 9293 §3.8.4) — a bare ACK carries next itself, and one
      // lost byte right there is far less likely. Either way this packet settles the anchor.
      if (seqDiff(dataSeq, h.nextSeq) === 1) this.reanchorAfterKeepalive(h);
      else if (pkt.payloadLength > 0 || pkt.payloadMissing > 0 || (flags & FIN) !== 0) h.bareAnchor = false;
    }
    const rel = seqDiff(dataSeq, h.nextSeq);
    const off = h.nextOffset + rel;
    r.streamOffset = off;
    if ((flags & RST) !== 0 && anchored && !conn.closed && !this.resetAcceptable(conn, h, peer, pkt, rel)) {
      // An endpoint ignores such a RST (RFC 793 §3.4 / RFC 5961 §3), and so do stateful middleboxes
      // (Linux conntrack, the ASA's tcp-rstfin-ooo): the connection goes on, and so does inspection.
      r.status |= FlowStatus.IGNORED;
      this.stats.ignoredPackets++;
      this.stats.ignoredResets++;
      return;
    }
    h.window = pkt.window;
    h.sawPacket = true;

    if (conn.closed) {
      // Late packets of a closed connection: attributed, never delivered.
      if (pkt.payloadLength > 0) {
        if (off + pkt.payloadLength <= h.nextOffset && rel > -MAX_SEQ_DISTANCE) {
          r.status |= FlowStatus.RETRANSMISSION;
          h.retransmittedBytes += pkt.payloadLength;
        } else {
          r.status |= FlowStatus.IGNORED;
          this.stats.ignoredPackets++;
        }
      }
      r.status |= FlowStatus.CLOSED;
      return;
    }

    if (!conn.established && !isSyn && (flags & RST) === 0 && (flags & ACK) !== 0) this.establish(conn);

    // Held data waiting too long for its hole (capture time).
    if (this.options.outOfOrderTimeoutSec > 0) {
      this.checkHeldTimeout(conn, 0);
      this.checkHeldTimeout(conn, 1);
    }

    // A side we never saw a packet of, while we saw this side's SYN: this side's ACK names where
    // the silent side's stream starts, so bytes acknowledged later but never seen (a one-sided
    // capture, asymmetric routing) can become gaps instead of vanishing unnoticed.
    if (!peer.seqKnown && h.isnKnown && (flags & ACK) !== 0 && (flags & RST) === 0) {
      peer.seqKnown = true;
      peer.nextSeq = pkt.ack;
      peer.nextOffset = 0;
    }
    // The peer's ACK first: bytes it acknowledges that we never saw are a gap now, which keeps
    // the order causal (the client's data before the server's reply that acknowledges it).
    if ((flags & ACK) !== 0 && (flags & RST) === 0) {
      this.onAck(conn, dir === 0 ? 1 : 0, pkt.ack, pkt.payloadLength > 0);
      // This packet's bytes answer the peer's bytes it acknowledges: if some of those were not
      // seen (yet), its bytes wait for them — they may just follow in the capture (an ACK overtook
      // its data), or become a gap first (lost) — so the peer's stream always reaches the listener
      // before what was sent in reply to it (a body never judged as commands for a lost 354).
      if (pkt.payloadLength > 0 && peer.sawPacket && peer.seqKnown) {
        const rel = seqDiff(pkt.ack, peer.nextSeq);
        if (rel > 0 && rel <= MAX_SEQ_DISTANCE) {
          const need = Math.min(peer.nextOffset + rel, this.ackedDataEnd(peer));
          if (need > peer.emittedOffset) h.needPeer = need;
        }
      }
    }

    const len = pkt.payloadLength;
    const missing = pkt.payloadMissing;
    if (len > 0 || missing > 0) {
      if (rel > MAX_SEQ_DISTANCE || rel < -MAX_SEQ_DISTANCE) {
        r.status |= FlowStatus.IGNORED;
        this.stats.ignoredPackets++;
      } else if ((flags & RST) === 0) {
        this.onPayload(conn, dir, h, peer, pkt, off, len, missing, packetNumber, r);
      }
    }

    if ((flags & FIN) !== 0 && !h.finSeen && rel <= MAX_SEQ_DISTANCE && rel >= -MAX_SEQ_DISTANCE) {
      h.finSeen = true;
      h.finOffset = off + len + missing;
    }
    h.needPeer = 0;
    if ((flags & RST) !== 0) {
      this.close(conn, 'rst', r);
      return;
    }
    this.checkFinished(conn, r);
    if (!conn.closed && (h.deferred !== null || peer.deferred !== null)) this.checkDeferred(conn);
  }

  /**
   * Whether a RST from side `h` (its sequence number `rel` past h.nextSeq) would reset the
   * connection: in the handshake, one that acknowledges the peer's SYN (RFC 793 SYN-SENT);
   * otherwise one whose sequence number lies within the receiver's window either side of the next
   * expected byte — the window the peer last advertised, scaled as its SYN said, at least 64 KiB;
   * ±2^30 when the scale is unknown (no SYN seen) — as conntrack's in-window test.
   */
  private resetAcceptable(conn: Connection<S>, h: HalfStream, peer: HalfStream, pkt: DecodedPacket, rel: number): boolean {
    if (!conn.established && (pkt.flags & ACK) !== 0 && peer.isnKnown && pkt.ack === seqAdd(peer.isn, 1)) return true;
    // Scaling is on only when both SYNs carried the option; unknown if the peer's SYN was not seen.
    const shift = peer.wscale === -1 || h.wscale === -1 ? 0 : peer.wscale;
    const bound = shift < 0 ? MAX_SEQ_DISTANCE : Math.max(peer.window * 2 ** shift, 65535);
    return rel >= -bound && rel <= bound;
  }

  private checkFinished(conn: Connection<S>, r: PacketFlowResult<S> | null): void {
    const a = conn.half[0];
    const b = conn.half[1];
    if (conn.closed || !a.finSeen || !b.finSeen) return;
    // Both FINs delivered in order, or both acknowledged by their peers: the connection is over on
    // both ends, so bytes still missing will not come (close makes them gaps). A single FIN's
    // ACK is not enough: the data before it may still follow in the capture.
    if ((a.nextOffset >= a.finOffset && b.nextOffset >= b.finOffset) || (a.ackedOffset > a.finOffset && b.ackedOffset > b.finOffset)) {
      this.close(conn, 'fin', r);
    }
  }

  private onPayload(
    conn: Connection<S>,
    dir: Direction,
    h: HalfStream,
    peer: HalfStream,
    pkt: DecodedPacket,
    off: number,
    len: number,
    missing: number,
    packetNumber: number,
    r: PacketFlowResult<S>,
  ): void {
    if (missing > 0) r.status |= FlowStatus.TRUNCATED;
    const next = h.nextOffset;
    let end = off + len;
    let totalEnd = end + missing;
    const flags = pkt.flags;

    if (h.finSeen && totalEnd > h.finOffset) {
      // Bytes after this side's FIN are not part of the stream.
      if (off >= h.finOffset) {
        r.status |= FlowStatus.IGNORED;
        this.stats.ignoredPackets++;
        return;
      }
      totalEnd = h.finOffset;
      if (end > totalEnd) end = totalEnd;
      missing = totalEnd - end;
      len = end - off;
    }
    // Keep-alive: one garbage byte (or none) just below the next expected byte.
    if (len <= 1 && missing === 0 && off === next - 1 && (flags & (SYN | FIN)) === 0) {
      r.status |= FlowStatus.KEEPALIVE;
      return;
    }
    // Zero-window probe: one new byte sent although the peer's window is closed; the receiver
    // drops it, and the sender sends it again once the window opens. Its byte is kept: if the
    // window had reopened by the time it arrived (the update still in flight at the capture
    // point), the receiver took it and the sender goes on after it without sending it again.
    if (len === 1 && missing === 0 && off === next && peer.window === 0 && (flags & (SYN | FIN)) === 0) {
      r.status |= FlowStatus.ZERO_WINDOW_PROBE;
      h.probeOffset = off;
      h.probeByte = pkt.data[pkt.payloadOffset]!;
      h.probePacket = packetNumber;
      return;
    }
    // The sender went on past its probe's byte: the receiver took it.
    if (off > next && h.probeOffset === next) this.takeProbe(conn, dir, h);

    this.place(conn, dir, h, pkt.data, pkt.payloadOffset, off, len, missing, packetNumber, r);
  }

  /** Routes payload [off, off+len) (+ `missing` cut bytes) by where it falls against nextOffset. */
  private place(
    conn: Connection<S>,
    dir: Direction,
    h: HalfStream,
    buf: Buffer,
    start: number,
    off: number,
    len: number,
    missing: number,
    packetNumber: number,
    r: PacketFlowResult<S>,
  ): void {
    const next = h.nextOffset;
    const end = off + len;
    const totalEnd = end + missing;
    if (totalEnd <= next) {
      r.status |= FlowStatus.RETRANSMISSION;
      h.retransmittedBytes += len;
      if (len > 0) this.compareDelivered(h, buf, start, off, len, r);
      return;
    }
    if (off > next) {
      this.hold(conn, dir, h, buf, start, off, len, missing, packetNumber, r);
      return;
    }
    // In order, possibly with an already-delivered prefix.
    if (off < next) {
      const dup = Math.min(next, end) - off;
      r.status |= FlowStatus.RETRANSMISSION;
      h.retransmittedBytes += dup;
      if (dup > 0) this.compareDelivered(h, buf, start, off, dup, r);
    }
    this.deliverInOrder(conn, dir, h, buf, start, off, end, totalEnd, packetNumber, r);
  }

  /**
   * Delivers [nextOffset, totalEnd) of a packet that starts at or before nextOffset: packet bytes as
   * views, except where held (earlier-seen) data already covers a range — that copy wins. Bytes in
   * [end, totalEnd) were cut by the snaplen: a gap. Then drains held data that became contiguous.
   */
  private deliverInOrder(
    conn: Connection<S>,
    dir: Direction,
    h: HalfStream,
    buf: Buffer,
    start: number,
    off: number,
    end: number,
    totalEnd: number,
    packetNumber: number,
    r: PacketFlowResult<S>,
  ): void {
    let cur = h.nextOffset;
    while (cur < totalEnd) {
      const q = h.queue;
      const head = q !== null && q.length > 0 ? q[0]! : null;
      const stop = head !== null && head.offset < totalEnd ? head.offset : totalEnd;
      if (stop > cur) {
        const dataStop = Math.min(stop, end);
        if (dataStop > cur) {
          const view = buf.subarray(start + (cur - off), start + (dataStop - off));
          r.deliveredLength += dataStop - cur;
          this.emitData(conn, dir, h, view, packetNumber);
          cur = dataStop;
        }
        if (stop > cur) {
          this.emitGap(conn, dir, h, stop - cur);
          cur = stop;
        }
      }
      if (head === null || head.offset >= totalEnd) break;
      // Held data seen earlier covers [cur, head.end): it wins over this packet's copy.
      const overlapEnd = Math.min(head.end, end);
      if (overlapEnd > cur) {
        h.retransmittedBytes += overlapEnd - cur;
        r.status |= FlowStatus.RETRANSMISSION;
        if (head.data !== null) this.compareBytes(h, buf, start + (cur - off), head.data, cur - head.offset, cur, overlapEnd - cur, r);
      }
      this.deliverHeld(conn, dir, h);
      cur = h.nextOffset;
    }
    this.drain(conn, dir, h);
  }

  /** Queues an out-of-order segment (the uncovered pieces, copied), subject to the limits. */
  private hold(
    conn: Connection<S>,
    dir: Direction,
    h: HalfStream,
    buf: Buffer,
    start: number,
    off: number,
    len: number,
    missing: number,
    packetNumber: number,
    r: PacketFlowResult<S>,
  ): void {
    const o = this.options;
    const totalEnd = off + len + missing;
    // Pass 1: how many new pieces and bytes would this add?
    let pieces = 0;
    let newBytes = 0;
    {
      const q = h.queue;
      let cur = off;
      let i = 0;
      if (q !== null) {
        while (i < q.length && q[i]!.end <= cur) i++;
        while (cur < totalEnd) {
          const seg = i < q.length ? q[i]! : null;
          const stop = seg !== null && seg.offset < totalEnd ? seg.offset : totalEnd;
          if (stop > cur) {
            pieces++;
            newBytes += Math.max(0, Math.min(stop, off + len) - cur);
            cur = stop;
          }
          if (seg === null || seg.offset >= totalEnd) break;
          cur = Math.max(cur, seg.end);
          i++;
        }
      } else {
        pieces = 1;
        newBytes = len;
      }
    }
    // The packet limit counts packets (however many entries each is held as), like the ASA's queue.
    if (pieces > 0 && (h.queuedPackets + 1 > o.maxOutOfOrderPacketsPerDirection || h.queuedBytes + newBytes > o.maxOutOfOrderBytesPerDirection)) {
      this.stats.outOfOrderLimitHits++;
      if (o.onOutOfOrderLimit === 'drop') {
        r.status |= FlowStatus.OUT_OF_ORDER_DROPPED;
        this.stats.outOfOrderDrops++;
        this.listener.onDiscard?.(conn, dir, off, len + missing, packetNumber, 'out-of-order-limit');
        return;
      }
      // 'gap': give up the oldest hole (the one before the first held segment, or before this one
      // if it comes first), deliver what follows it, then place this segment again.
      const q = h.queue;
      const firstHeld = q !== null && q.length > 0 ? q[0]!.offset : off;
      this.giveUpHolesBefore(conn, dir, h, Math.min(firstHeld, off));
      this.place(conn, dir, h, buf, start, off, len, missing, packetNumber, r);
      return;
    }

    // Pass 2: compare overlaps with held data, insert the uncovered pieces.
    r.status |= FlowStatus.OUT_OF_ORDER;
    h.outOfOrderPackets++;
    if (h.queue === null) h.queue = [];
    const q = h.queue;
    if (q.length === 0) {
      h.queueSinceSec = this.nowSec;
      h.queueSinceNsec = this.nowNsec;
    }
    const end = off + len;
    let cur = off;
    let i = 0;
    while (i < q.length && q[i]!.end <= cur) i++;
    while (cur < totalEnd) {
      const seg = i < q.length ? q[i]! : null;
      const stop = seg !== null && seg.offset < totalEnd ? seg.offset : totalEnd;
      if (stop > cur) {
        const dataStop = Math.min(stop, end);
        if (dataStop > cur) {
          const copy = Buffer.allocUnsafe(dataStop - cur);
          buf.copy(copy, 0, start + (cur - off), start + (dataStop - off));
          q.splice(i++, 0, new HeldSegment(cur, dataStop - cur, copy, packetNumber));
          h.refHeld(packetNumber);
          h.queuedBytes += copy.length;
          this.charge(copy.length);
        }
        if (stop > dataStop) {
          q.splice(i++, 0, new HeldSegment(Math.max(cur, dataStop), stop - Math.max(cur, dataStop), null, packetNumber));
          h.refHeld(packetNumber);
        }
        cur = stop;
      }
      if (seg === null || seg.offset >= totalEnd) break;
      const overlapEnd = Math.min(seg.end, end);
      if (overlapEnd > cur) {
        h.retransmittedBytes += overlapEnd - cur;
        r.status |= FlowStatus.RETRANSMISSION;
        if (seg.data !== null) this.compareBytes(h, buf, start + (cur - off), seg.data, cur - seg.offset, cur, overlapEnd - cur, r);
      }
      cur = Math.max(cur, seg.end);
      i++;
    }
    this.updateBuffered(conn);
  }

  /**
   * The peer acknowledged up to `ack` in direction d: trims the history, and settles bytes it
   * acknowledged that we have not seen. `withData`: the acknowledging packet carries payload.
   *
   * Acknowledged-but-unseen bytes are usually just late: at a capture point an ACK can overtake
   * the data it acknowledges by a packet or a few (both directions are captured, one arrives
   * later), and a side's own packets can be recorded out of order too (multi-queue NICs, merged
   * captures) — a later packet of their side is ordinary out-of-order data, held under the
   * out-of-order limits, and settles nothing by itself. So they become a gap only once they can
   * no longer arrive: the side never showed a packet at all (a one-sided capture: the bytes will
   * never come, and what the peer sends next depends on them, so the gap goes before its data);
   * the peer kept acknowledging past them for more than a few packets (the out-of-order window)
   * or longer than outOfOrderTimeoutSec; the out-of-order queue gave the hole up; both FINs were
   * acknowledged (checkFinished); or at close.
   */
  private onAck(conn: Connection<S>, d: Direction, ack: number, withData: boolean): void {
    const h = conn.half[d];
    if (!h.seqKnown) return;
    // The receiver acknowledged the byte of a zero-window probe: it took it.
    if (h.probeOffset === h.nextOffset && seqDiff(ack, h.nextSeq) > 0) this.takeProbe(conn, d, h);
    // The receiver has everything up to one past the bare ACK this side was picked up from: that
    // ACK was a keep-alive, at next-1.
    if (h.bareAnchor && seqDiff(ack, h.nextSeq) === 1) this.reanchorAfterKeepalive(h);
    const rel = seqDiff(ack, h.nextSeq);
    if (rel > MAX_SEQ_DISTANCE || rel < -MAX_SEQ_DISTANCE) return;
    // May include the FIN's own sequence number (ackedOffset > finOffset: the FIN was acknowledged).
    const ackOff = h.nextOffset + rel;
    const dataEnd = h.finSeen ? Math.min(ackOff, h.finOffset) : ackOff;
    if (rel > 0 && dataEnd > h.nextOffset) {
      if (withData && !h.sawPacket) {
        this.giveUpHolesBefore(conn, d, h, dataEnd);
      } else {
        if (h.ackedOffset <= h.nextOffset) {
          h.ackedMissingPackets = 0;
          h.ackedMissingSinceSec = this.nowSec;
          h.ackedMissingSinceNsec = this.nowNsec;
        }
        this.raiseAcked(h, ackOff);
        h.ackedMissingPackets++;
        const o = this.options;
        const waited = this.nowSec - h.ackedMissingSinceSec + (this.nowNsec - h.ackedMissingSinceNsec) * 1e-9;
        if (h.ackedMissingPackets > Math.max(1, Math.min(o.maxOutOfOrderPacketsPerDirection, ACK_OVERTAKE_PACKETS)) || (o.outOfOrderTimeoutSec > 0 && waited > o.outOfOrderTimeoutSec)) {
          this.giveUpHolesBefore(conn, d, h, this.ackedDataEnd(h));
        }
      }
    }
    this.raiseAcked(h, ackOff);
    if (h.hist !== null && ackOff > h.histStart) {
      const drop = Math.min(ackOff - h.histStart, h.histLen);
      h.histStart += drop;
      h.histHead += drop;
      h.histLen -= drop;
      if (h.histLen === 0) {
        this.dropHistory(h);
        this.updateBuffered(conn);
      }
    }
  }

  private raiseAcked(h: HalfStream, ackOff: number): void {
    if (ackOff > h.ackedOffset) {
      h.ackedPrev = h.ackedOffset;
      h.ackedOffset = ackOff;
    }
  }

  /**
   * Where the data the peer acknowledged in direction d ends. A FIN occupies a sequence number but
   * is not a byte: with the FIN seen, the data ends at it; without, the last acknowledged sequence
   * number is taken for an unseen FIN only when it is exactly one beyond data known to end there
   * (delivered or held bytes, or an earlier ACK): a lost FIN alone is no gap, and a run of lost
   * bytes is counted in full. If that side then sends more, the number was a byte after all (held
   * data now ends past it: the ACK window or close settles it as a gap); if the connection ends,
   * it was the FIN.
   */
  private ackedDataEnd(h: HalfStream): number {
    if (h.finSeen) return Math.min(h.ackedOffset, h.finOffset);
    const q = h.queue;
    const heldEnd = q !== null && q.length > 0 ? q[q.length - 1]!.end : 0;
    const known = Math.max(h.nextOffset, h.ackedPrev, heldEnd);
    return h.ackedOffset === known + 1 ? known : h.ackedOffset;
  }

  private checkHeldTimeout(conn: Connection<S>, d: Direction): void {
    const h = conn.half[d];
    if (h.queueLength === 0) return;
    const waited = this.nowSec - h.queueSinceSec + (this.nowNsec - h.queueSinceNsec) * 1e-9;
    if (waited <= this.options.outOfOrderTimeoutSec) return;
    this.stats.outOfOrderTimeouts++;
    if (this.options.onOutOfOrderLimit === 'drop') {
      const q = h.queue!;
      // One discard per packet: its entries (bytes and a cut-tail marker) are reported as one range.
      for (let i = 0; i < q.length; i++) {
        const seg = q[i]!;
        let end = seg.end;
        while (i + 1 < q.length && q[i + 1]!.packetNumber === seg.packetNumber && q[i + 1]!.offset === end) end = q[++i]!.end;
        this.stats.outOfOrderDrops++;
        this.listener.onDiscard?.(conn, d, seg.offset, end - seg.offset, seg.packetNumber, 'out-of-order-timeout');
      }
      this.uncharge(h.queuedBytes);
      h.queuedBytes = 0;
      h.queue = null;
      h.queuePacketRefs = null;
      this.updateBuffered(conn);
    } else {
      this.flushAll(conn, d, false);
    }
  }

  // ---------------------------------------------------------------- delivery primitives

  private emitData(conn: Connection<S>, dir: Direction, h: HalfStream, view: Buffer, packetNumber: number): void {
    const offset = h.nextOffset;
    const n = view.length;
    h.bytes += n;
    h.nextOffset += n;
    h.nextSeq = seqAdd(h.nextSeq, n);
    if (this.options.retransmissionCheckBytes > 0 && !this.noHistory) this.remember(conn, h, view);
    if (h.deferred === null && (h.needPeer === 0 || this.peerReached(conn, dir, h.needPeer))) this.tell(conn, dir, h, view, offset, n, packetNumber);
    else this.defer(conn, h, Buffer.from(view), offset, n, packetNumber);
  }

  private emitGap(conn: Connection<S>, dir: Direction, h: HalfStream, n: number): void {
    const offset = h.nextOffset;
    h.gaps++;
    h.gapBytes += n;
    h.nextOffset += n;
    h.nextSeq = seqAdd(h.nextSeq, n);
    // History must stay contiguous with nextOffset.
    if (h.hist !== null) {
      h.histStart = h.nextOffset;
      h.histHead = 0;
      h.histLen = 0;
    } else {
      h.histStart = h.nextOffset;
    }
    if (h.deferred === null && (h.needPeer === 0 || this.peerReached(conn, dir, h.needPeer))) this.tell(conn, dir, h, null, offset, n, 0);
    else this.defer(conn, h, null, offset, n, 0);
  }

  // ---------------------------------------------------------------- delivery held for the peer

  /** Has the listener been told the peer's stream up to `need` (or up to its FIN, before it)? */
  private peerReached(conn: Connection<S>, dir: Direction, need: number): boolean {
    const p = conn.half[dir === 0 ? 1 : 0];
    return p.emittedOffset >= need || (p.finSeen && p.emittedOffset >= p.finOffset);
  }

  /**
   * Hands one event to the listener. Peer events that were waiting for this side to reach
   * `offset` go first: they were sent after this side's bytes before `offset` and before the
   * bytes from `offset` on (the peer acknowledged exactly up to there).
   */
  private tell(conn: Connection<S>, dir: Direction, h: HalfStream, data: Buffer | null, offset: number, length: number, packetNumber: number): void {
    const pd: Direction = dir === 0 ? 1 : 0;
    if (conn.half[pd].deferred !== null) this.releaseSide(conn, pd, false);
    h.emittedOffset = offset + length;
    if (data === null) this.listener.onGap(conn, dir, offset, length);
    else this.listener.onData(conn, dir, data, offset, packetNumber);
  }

  private defer(conn: Connection<S>, h: HalfStream, data: Buffer | null, offset: number, length: number, packetNumber: number): void {
    if (h.deferred === null) {
      h.deferred = [];
      h.deferredSinceSec = this.nowSec;
      h.deferredSinceNsec = this.nowNsec;
    }
    // A gap or held bytes delivered on the peer's behalf wait behind the events before them (need 0).
    h.deferred.push(new DeferredEvent(offset, length, data, packetNumber, h.needPeer));
    if (data !== null) {
      h.deferredBytes += length;
      this.charge(length);
    }
    this.updateBuffered(conn);
  }

  /** Tells the listener direction d's waiting events whose peer bytes are in (all of them: `force`). */
  private releaseSide(conn: Connection<S>, d: Direction, force: boolean): void {
    const h = conn.half[d];
    if (h.releasing) return;
    h.releasing = true;
    while (h.deferred !== null) {
      const ev = h.deferred[0]!;
      if (!force && ev.needPeer > 0 && !this.peerReached(conn, d, ev.needPeer)) break;
      this.popDeferred(conn, h);
      this.tell(conn, d, h, ev.data, ev.offset, ev.length, ev.packetNumber);
    }
    h.releasing = false;
  }

  private popDeferred(conn: Connection<S>, h: HalfStream): void {
    const q = h.deferred!;
    const ev = q.shift()!;
    if (ev.data !== null) {
      h.deferredBytes -= ev.length;
      this.uncharge(ev.length);
    }
    if (q.length === 0) {
      h.deferred = null;
      this.updateBuffered(conn);
    } else {
      h.deferredSinceSec = this.nowSec;
      h.deferredSinceNsec = this.nowNsec;
    }
  }

  /**
   * Releases what can go. `force` (close, memory cap, a bound hit): everything goes; where both
   * sides wait on each other, the event captured first goes first. Without force the same
   * tie-break applies only when each side's stream already reached what the other waits for in
   * reassembly and only the other's waiting events hold it (crossing losses): nothing else would
   * free them.
   */
  private releaseDeferred(conn: Connection<S>, force: boolean): void {
    const a = conn.half[0];
    const b = conn.half[1];
    for (;;) {
      this.releaseSide(conn, 0, false);
      this.releaseSide(conn, 1, false);
      if (a.deferred === null && b.deferred === null) return;
      if (a.deferred === null || b.deferred === null) {
        // One side waits for a peer with nothing waiting: its hole is still open in reassembly.
        if (force) this.releaseSide(conn, a.deferred === null ? 1 : 0, true);
        if (!force) return;
        continue;
      }
      const ea = a.deferred[0]!;
      const eb = b.deferred[0]!;
      const stuck = (ea.needPeer === 0 || b.nextOffset >= ea.needPeer) && (eb.needPeer === 0 || a.nextOffset >= eb.needPeer);
      if (!force && !stuck) return;
      // A gap (no packet) first; else the event captured first.
      const d: Direction = ea.packetNumber === 0 ? 0 : eb.packetNumber === 0 ? 1 : eb.packetNumber < ea.packetNumber ? 1 : 0;
      const h = conn.half[d];
      const ev = h.deferred![0]!;
      this.popDeferred(conn, h);
      h.releasing = true;
      this.tell(conn, d, h, ev.data, ev.offset, ev.length, ev.packetNumber);
      h.releasing = false;
    }
  }

  /**
   * After each packet: releases what can go; and bounds the wait — a side that waited longer than
   * outOfOrderTimeoutSec or has too much waiting makes the peer's acknowledged holes gaps.
   */
  private checkDeferred(conn: Connection<S>): void {
    this.releaseDeferred(conn, false);
    for (const d of [0, 1] as const) {
      const h = conn.half[d];
      if (h.deferred === null) continue;
      const o = this.options;
      const waited = this.nowSec - h.deferredSinceSec + (this.nowNsec - h.deferredSinceNsec) * 1e-9;
      if (h.deferred.length > MAX_DEFERRED_EVENTS || h.deferredBytes > o.maxOutOfOrderBytesPerDirection || (o.outOfOrderTimeoutSec > 0 && waited > o.outOfOrderTimeoutSec)) {
        const pd: Direction = d === 0 ? 1 : 0;
        const p = conn.half[pd];
        this.giveUpHolesBefore(conn, pd, p, this.ackedDataEnd(p));
        this.releaseDeferred(conn, true);
      }
    }
  }

  /** Delivers the head of the queue (which starts at or before nextOffset) and pops it. */
  private deliverHeld(conn: Connection<S>, dir: Direction, h: HalfStream): void {
    const q = h.queue!;
    const seg = q.shift()!;
    h.unrefHeld(seg.packetNumber);
    if (seg.data !== null) {
      h.queuedBytes -= seg.data.length;
      this.uncharge(seg.data.length);
    }
    if (seg.end > h.nextOffset) {
      const skip = h.nextOffset - seg.offset;
      if (seg.data === null) this.emitGap(conn, dir, h, seg.end - h.nextOffset);
      else this.emitData(conn, dir, h, skip > 0 ? seg.data.subarray(skip) : seg.data, seg.packetNumber);
    }
    if (q.length === 0) {
      h.queue = null;
      this.updateBuffered(conn);
    } else {
      h.queueSinceSec = this.nowSec;
      h.queueSinceNsec = this.nowNsec;
    }
  }

  /**
   * Delivers the byte of the last zero-window probe of direction dir at nextOffset (the receiver
   * took it: it was acknowledged, or the sender went on after it), then held data behind it.
   * Without this the byte was a one-byte gap in the middle of a message, and the rest of it went
   * uninspected. Rare (a probe accepted), so the one-byte copy costs nothing on the hot path.
   */
  private takeProbe(conn: Connection<S>, dir: Direction, h: HalfStream): void {
    h.probeOffset = -1;
    const b = Buffer.allocUnsafe(1);
    b[0] = h.probeByte;
    this.emitData(conn, dir, h, b, h.probePacket);
    this.drain(conn, dir, h);
  }

  /** Nothing of side h was delivered, held, waiting or remembered: its anchor can still move. */
  private silent(h: HalfStream): boolean {
    return h.nextOffset === 0 && h.queue === null && h.deferred === null && h.bytes === 0 && h.gaps === 0 && h.hist === null;
  }

  /**
   * Moves the start of a side picked up midstream from a keep-alive one sequence number up, to
   * where its stream really stands. Only while nothing of it was delivered, held or acknowledged
   * beyond the anchor; otherwise the anchor stays (the byte is then a real hole).
   * (Before, a capture that began with a keep-alive — an idle session's first packet — reported
   * a 1-byte gap at offset 0 that never existed.)
   */
  private reanchorAfterKeepalive(h: HalfStream): void {
    h.bareAnchor = false;
    if (!this.silent(h) || h.ackedOffset > 0) return;
    h.nextSeq = seqAdd(h.nextSeq, 1);
  }

  /** Delivers held segments that are now contiguous. */
  private drain(conn: Connection<S>, dir: Direction, h: HalfStream): void {
    while (h.queue !== null && h.queue.length > 0 && h.queue[0]!.offset <= h.nextOffset) this.deliverHeld(conn, dir, h);
  }

  /** Bytes before `limit` that never arrived will not: gaps, with held data delivered between them. */
  private giveUpHolesBefore(conn: Connection<S>, dir: Direction, h: HalfStream, limit: number): void {
    while (h.nextOffset < limit) {
      const q = h.queue;
      const head = q !== null && q.length > 0 ? q[0]! : null;
      const stop = head !== null && head.offset < limit ? head.offset : limit;
      if (stop > h.nextOffset) this.emitGap(conn, dir, h, stop - h.nextOffset);
      this.drain(conn, dir, h);
      if (head === null || head.offset >= limit) break;
    }
  }

  /**
   * Every hole in direction d becomes a gap and everything held is delivered; at close
   * (`closing`), bytes the peer acknowledged and bytes missing before a FIN seen are a gap too.
   */
  private flushAll(conn: Connection<S>, d: Direction, closing: boolean): void {
    const h = conn.half[d];
    while (h.queue !== null && h.queue.length > 0) this.giveUpHolesBefore(conn, d, h, h.queue[0]!.offset + 1);
    // Bytes the peer acknowledged that never came (not an unseen FIN's sequence number).
    const acked = this.ackedDataEnd(h);
    if (closing && h.nextOffset < acked) this.emitGap(conn, d, h, acked - h.nextOffset);
    if (closing && h.finSeen && h.nextOffset < h.finOffset) this.emitGap(conn, d, h, h.finOffset - h.nextOffset);
  }

  // ---------------------------------------------------------------- comparing copies

  /** Compares a retransmitted range with the delivered bytes still retained. */
  private compareDelivered(h: HalfStream, buf: Buffer, start: number, off: number, len: number, r: PacketFlowResult<S>): void {
    const hist = h.hist;
    if (hist === null || h.histLen === 0) return;
    const from = Math.max(off, h.histStart);
    const to = Math.min(off + len, h.histStart + h.histLen);
    if (to <= from) return;
    this.compareBytes(h, buf, start + (from - off), hist, h.histHead + (from - h.histStart), from, to - from, r);
  }

  /** Compares `len` bytes a[ai..] (this packet) with b[bi..] (the copy that won) at stream offset `off`. */
  private compareBytes(h: HalfStream, a: Buffer, ai: number, b: Buffer, bi: number, off: number, len: number, r: PacketFlowResult<S>): void {
    if (a.compare(b, bi, bi + len, ai, ai + len) === 0) return;
    let first = -1;
    let last = -1;
    let n = 0;
    for (let k = 0; k < len; k++) {
      if (a[ai + k] !== b[bi + k]) {
        if (first < 0) first = k;
        last = k;
        n++;
      }
    }
    h.overlapDifferentBytes += n;
    r.status |= FlowStatus.OVERLAP_DIFFERENT;
    const lo = off + first;
    const hi = off + last + 1;
    if (r.overlapDifferentOffset < 0) {
      r.overlapDifferentOffset = lo;
      r.overlapDifferentLength = hi - lo;
    } else {
      const a0 = Math.min(r.overlapDifferentOffset, lo);
      const a1 = Math.max(r.overlapDifferentOffset + r.overlapDifferentLength, hi);
      r.overlapDifferentOffset = a0;
      r.overlapDifferentLength = a1 - a0;
    }
  }

  /** Retains delivered bytes until the peer ACKs them (bounded by retransmissionCheckBytes). */
  private remember(conn: Connection<S>, h: HalfStream, view: Buffer): void {
    const max = this.options.retransmissionCheckBytes;
    let src = view;
    if (src.length > max) src = src.subarray(src.length - max);
    let hist = h.hist;
    if (hist === null) {
      const cap = this.historyPool.sizeFor(src.length * 2);
      hist = this.historyPool.take(cap);
      this.charge(cap);
      h.hist = hist;
      h.histHead = 0;
      h.histLen = 0;
      h.histStart = h.nextOffset - view.length;
      this.updateBuffered(conn);
    }
    // Drop the oldest retained bytes if the new ones would exceed the limit.
    const over = h.histLen + src.length - max;
    if (over > 0) {
      h.histHead += over;
      h.histLen -= over;
      h.histStart += over;
    }
    if (h.histHead + h.histLen + src.length > hist.length) {
      if (h.histLen + src.length <= hist.length && h.histHead > 0) {
        hist.copyWithin(0, h.histHead, h.histHead + h.histLen);
        h.histHead = 0;
      } else {
        const cap = this.historyPool.sizeFor(Math.max(hist.length * 2, h.histLen + src.length));
        const grown = this.historyPool.take(cap);
        hist.copy(grown, 0, h.histHead, h.histHead + h.histLen);
        this.charge(cap - hist.length);
        this.historyPool.give(hist);
        hist = grown;
        h.hist = grown;
        h.histHead = 0;
      }
    }
    src.copy(hist, h.histHead + h.histLen);
    h.histLen += src.length;
    // The retained range ends at nextOffset (the view was just delivered).
    h.histStart = h.nextOffset - h.histLen;
  }

  private dropHistory(h: HalfStream): void {
    if (h.hist !== null) {
      this.uncharge(h.hist.length);
      this.historyPool.give(h.hist);
      h.hist = null;
    }
    h.histHead = 0;
    h.histLen = 0;
    h.histStart = h.nextOffset;
  }

  // ---------------------------------------------------------------- memory accounting

  private charge(n: number): void {
    const s = this.stats;
    s.memoryInUse += n;
    if (s.memoryInUse > s.peakMemoryInUse) s.peakMemoryInUse = s.memoryInUse;
  }

  private uncharge(n: number): void {
    this.stats.memoryInUse -= n;
  }

  private updateBuffered(conn: Connection<S>): void {
    const a = conn.half[0];
    const b = conn.half[1];
    const has = a.hist !== null || b.hist !== null || a.queueLength > 0 || b.queueLength > 0 || a.deferred !== null || b.deferred !== null;
    if (has && !conn.buffered) {
      conn.buffered = true;
      conn.bufPrev = this.bufTail;
      conn.bufNext = null;
      if (this.bufTail !== null) this.bufTail.bufNext = conn;
      else this.bufHead = conn;
      this.bufTail = conn;
    } else if (!has && conn.buffered) {
      conn.buffered = false;
      if (conn.bufPrev !== null) conn.bufPrev.bufNext = conn.bufNext;
      else this.bufHead = conn.bufNext;
      if (conn.bufNext !== null) conn.bufNext.bufPrev = conn.bufPrev;
      else this.bufTail = conn.bufPrev;
      conn.bufPrev = null;
      conn.bufNext = null;
    }
  }

  /** The buffering connections now, oldest first (a copy: safe to change the list while walking it). */
  private bufferedSnapshot(): Connection<S>[] {
    const out: Connection<S>[] = [];
    for (let c = this.bufHead; c !== null; c = c.bufNext) out.push(c);
    return out;
  }

  /** Over the global cap: the connections that started buffering first give up holes and history. */
  private enforceMemoryCap(): void {
    this.stats.memoryCapHits++;
    const cap = this.options.memoryCapBytes;
    // Bytes delivered while flushing are not retained (that would refill what is being freed).
    this.noHistory = true;
    let conn = this.bufHead;
    while (conn !== null) {
      if (this.stats.memoryInUse <= cap) break;
      const next = conn.bufNext;
      this.stats.memoryCapFlushes++;
      this.flushAll(conn, 0, false);
      this.flushAll(conn, 1, false);
      this.releaseDeferred(conn, true);
      this.dropHistory(conn.half[0]);
      this.dropHistory(conn.half[1]);
      this.updateBuffered(conn);
      this.checkFinished(conn, null);
      // It left the list (nothing buffered any more): go on with the one that followed it.
      conn = conn.buffered ? conn.bufNext : next;
    }
    this.noHistory = false;
  }

  // ---------------------------------------------------------------- timeout lists

  private listAppend(conn: Connection<S>, list: ConnList): void {
    conn.list = list;
    conn.prev = this.tails[list] ?? null;
    conn.next = null;
    if (conn.prev !== null) conn.prev.next = conn;
    else this.heads[list] = conn;
    this.tails[list] = conn;
  }

  private listUnlink(conn: Connection<S>): void {
    const list = conn.list;
    if (list === ConnList.NONE) return;
    if (conn.prev !== null) conn.prev.next = conn.next;
    else this.heads[list] = conn.next;
    if (conn.next !== null) conn.next.prev = conn.prev;
    else this.tails[list] = conn.prev;
    conn.prev = null;
    conn.next = null;
    conn.list = ConnList.NONE;
  }

  private listMove(conn: Connection<S>, list: ConnList): void {
    this.listUnlink(conn);
    this.listAppend(conn, list);
  }

  /** Most recently active goes last. */
  private touch(conn: Connection<S>): void {
    if (this.tails[conn.list] === conn) return;
    const list = conn.list;
    this.listUnlink(conn);
    this.listAppend(conn, list);
  }
}
