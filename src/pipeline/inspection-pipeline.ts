/**
 * The packet pipeline shared by replay (file) and live capture: decode -> flow table -> policy
 * decision -> ESMTP inspector session -> edits mapped back onto packets -> hold-back queue -> outputs.
 *
 * Invariants it keeps:
 * - OUT keeps the input's packet order and timestamps. A packet whose bytes the inspector has not
 *   committed yet waits, and holds every packet behind it (bounded: maxHeldPackets/maxHeldBytes;
 *   beyond that the oldest is forwarded undecided and a verdict says so).
 * - Every input packet is either written to OUT or gets exactly one `drop` verdict record, so
 *   packets in = forwarded + dropped, and OUT = forwarded + synthesised.
 * - Every edit is applied to every packet that carries its bytes: the current one, held ones, and
 *   later retransmissions (from a bounded per-direction edit history).
 * - Only what must be kept is copied: a packet that can go straight out is written from the
 *   reader's buffer (copied only when edited).
 */
import { builtDetail, teardownDetail } from '../output/connection-wording.js';
import { CaptureBlock, type CaptureInterface, type CaptureRecord } from '../capture/types.js';
import { BlockType } from '../capture/pcapng-reader.js';
import { clearTcpFlags, tcpChecksumOk, type ChecksumMode } from '../decode/checksum.js';
import { decodePacketAt } from '../decode/decode.js';
import { DecodedPacket, PacketKind, PACKET_KIND_NAMES, TcpFlag } from '../decode/packet.js';
import { formatEndpoint } from '../decode/address.js';
import { LinkType } from '../decode/link-types.js';
import type { Connection } from '../flow/connection.js';
import { FlowTable, PacketFlowResult } from '../flow/flow-table.js';
import { ASA_OUT_OF_ORDER, type FlowOptions } from '../flow/options.js';
import { seqAdd } from '../flow/seq.js';
import { C2S, FlowStatus, S2C, type CloseReason, type ConnectionMeta, type Direction } from '../flow/types.js';
import { EsmtpCounters, formatServicePolicy } from '../inspect/counters.js';
import { createEsmtpSession } from '../inspect/esmtp/session.js';
import { registerPolicyClasses } from '../inspect/policy-classes.js';
import { defaultEngineOptions, type EngineOptions } from '../inspect/options.js';
import { syslog302013, syslog302014, type Endpoint, type TeardownReason } from '../inspect/syslog.js';
import type { Edit, SessionContext, Verdict } from '../inspect/types.js';
import type { ClassDecision, CompiledPolicy } from '../policy/types.js';
import { fractionDigits, IsoTimeFormatter } from '../output/time.js';
import type { VerdictRecord, VerdictRecordAction } from '../output/verdicts.js';
import { applyStreamEdit } from '../rewrite/apply-edit.js';
import { buildRst, captureTemplate, reverseTemplate, type HeaderTemplate } from '../rewrite/rst.js';
import { timestampAfter, type TimeResolution, type TimestampFields } from '../rewrite/timestamp.js';
import { ConnKind, ConnState, type ConnInterfaces, type SessionEvents } from './conn-state.js';
import { InterfaceEnds } from './interface-ends.js';
import { ConnectionLimiter } from './connection-limits.js';
import { HoldQueue } from './hold-queue.js';
import { QueueEntry } from './queue-entry.js';
import { ASA_FRAGMENT_LIMITS, DatagramState, FragmentTable, fragmentFields, type FragmentedDatagram } from './ip-defrag.js';
import {
  DEFAULT_MAX_HELD_BYTES,
  DEFAULT_MAX_HELD_PACKETS,
  type PipelineOptions,
  type PipelineOutputs,
  type PipelineProfile,
  type ReplaySummary,
} from './types.js';

/** Reassembly settings of the 'analysis' profile: generous queues, holes become gaps. */
const ANALYSIS_FLOW: Partial<FlowOptions> = { onOutOfOrderLimit: 'gap', outOfOrderTimeoutSec: 0 };

const OOO_RULE = 'tcp out-of-order queue';
const LIMIT_NOTE = 'hold-back limit';
/** A raw-IP header template put behind a link header (an assembled datagram's, for RSTs). */
function behindLink(t: HeaderTemplate, link: Buffer, linkType: number): HeaderTemplate {
  const n = link.length;
  return { ...t, linkType, bytes: Buffer.concat([link, t.bytes]), l3Offset: t.l3Offset + n, srcAddrOffset: t.srcAddrOffset + n, dstAddrOffset: t.dstAddrOffset + n };
}

/** The rule of fragments discarded by the fragment database (its limits, as the ASA's `fragment`). */
const FRAGMENT_RULE = 'ip fragment reassembly';
const IP_PROTOCOL_TCP = 6;
/** An out-of-window RST: ignored by reassembly, dropped in the ASA profile (not an inspection drop). */
const RST_OOW_RULE = 'tcp-rst-out-of-window';
/** Verdict rule of the URG flag the pipeline clears (the ASA TCP normaliser's default). */
const URGENT_RULE = 'tcp-urgent-flag';

function dirName(d: Direction): 'c2s' | 's2c' {
  return d === C2S ? 'c2s' : 's2c';
}

function actionWord(action: string): string {
  switch (action) {
    case 'mask':
      return 'masked';
    case 'x-substitute':
      return "X'd";
    case 'replace':
      return 'replaced';
    default:
      return action;
  }
}

export class InspectionPipeline implements SessionEvents {
  readonly profile: PipelineProfile;
  readonly checksumMode: ChecksumMode;
  readonly counters = new EsmtpCounters();
  readonly flows: FlowTable<ConnState>;

  private readonly policy: CompiledPolicy;
  private readonly engineOptions: EngineOptions;
  private readonly out: PipelineOutputs;
  /** Each connection's interfaces: the fixed pair, or the config's interfaces and routes. */
  private readonly ends: InterfaceEnds;
  private readonly format: 'pcap' | 'pcapng';
  private readonly maxHeldPackets: number;
  private readonly maxHeldBytes: number;
  /** Packet comments are only built when an annotated capture is written (they go nowhere else). */
  private readonly annotating: boolean;
  private readonly limiter = new ConnectionLimiter();
  private readonly isoTime = new IsoTimeFormatter();

  private readonly pkt = new DecodedPacket();
  private readonly scratch = new DecodedPacket();
  private readonly res = new PacketFlowResult<ConnState>();
  /** The entry of the packet being processed (reused). */
  private readonly cur = new QueueEntry();
  /** Set while process() runs, so listener callbacks can annotate the current packet. */
  private current: QueueEntry | null = null;
  /** Synthesised packets to write right after the current one. */
  private readonly afterCurrent: QueueEntry[] = [];
  /** Connections whose session reached dropped/reset during the current call. */
  private newDrops: ConnState[] = [];

  /** Connections counted in s.gaps.connections (gaps are rare: a set is cheap enough). */
  private readonly gappedConns = new WeakSet<ConnState>();

  /** Hold-back queue: a ring of reused slots and entries. */
  private readonly hq = new HoldQueue();
  /** IP fragments of TCP datagrams being collected. */
  private readonly fragments: FragmentTable;
  /** While an assembled datagram is processed: the link header of the fragment that completed it. */
  private datagramLink: { bytes: Buffer; linkType: number } | null = null;

  private readonly interfaces: CaptureInterface[] = [];
  private lastTsSec = 0;
  private lastTsNsec = 0;
  private finished = false;

  private readonly s: ReplaySummary = {
    connections: { tracked: 0, inspected: 0, exempted: 0, denied: 0, dropped: 0, reset: 0 },
    packets: { in: 0, out: 0, forwarded: 0, modified: 0, dropped: 0, synthesized: 0, forcedForward: 0, checksumBroken: 0, maxHeld: 0 },
    gaps: { count: 0, bytes: 0, connections: 0, cutPackets: 0, cutBytes: 0 },
    bytesIn: 0,
    edits: 0,
    verdicts: 0,
    syslogLines: 0,
    servicePolicy: '',
  };

  constructor(opts: PipelineOptions) {
    this.policy = opts.policy;
    // every configured ESMTP class prints in show service-policy, with zero counts until traffic
    registerPolicyClasses(this.counters, this.policy);
    this.engineOptions = opts.engineOptions ?? defaultEngineOptions();
    this.profile = opts.profile ?? 'asa';
    this.checksumMode = opts.checksumMode ?? 'incremental';
    this.out = opts.outputs;
    this.annotating = opts.outputs.annotate != null;
    this.ends = new InterfaceEnds(this.policy.interfaceRouting, opts.clientInterface, opts.serverInterface);
    const routing = this.ends.fromConfig;
    if (routing !== null) this.s.interfacesFromConfig = routing.describe();
    this.format = opts.format ?? 'pcap';
    this.maxHeldPackets = Math.max(1, opts.maxHeldPackets ?? DEFAULT_MAX_HELD_PACKETS);
    this.maxHeldBytes = Math.max(1, opts.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES);
    const flowOpts: Partial<FlowOptions> = {
      serverPorts: this.policy.esmtpPorts(),
      ...(this.profile === 'asa' ? ASA_OUT_OF_ORDER : ANALYSIS_FLOW),
      ...opts.flowOptions,
    };
    this.flows = new FlowTable<ConnState>(
      {
        onOpen: (c) => this.onOpen(c),
        onEstablished: (c) => this.onEstablished(c),
        onData: (c, d, data, off, pn) => this.onData(c, d, data, off, pn),
        onGap: (c, d, off, len) => this.onGap(c, d, off, len),
        onClose: (c, reason) => this.onClose(c, reason),
        onDiscard: (c, d, off, len, pn, reason) => this.onDiscard(c, d, off, len, pn, reason),
      },
      flowOpts,
    );
    this.fragments = new FragmentTable({ ...ASA_FRAGMENT_LIMITS, ...opts.fragmentLimits });
  }

  // ------------------------------------------------------------------ public API

  /** A capture interface appeared (pcapng IDB, or the single pcap interface): before its packets. */
  addInterface(iface: CaptureInterface): void {
    this.interfaces[iface.index] = iface;
    this.out.annotate?.addInterface?.(iface);
    this.out.packets?.addInterface?.(iface);
  }

  /**
   * A pcapng input block that carries no packet (CaptureSource.run's onBlock), for the outputs that
   * follow the input. Written now unless packets read before it are still held: then right after
   * the last of them (a copy: the block is valid only during the call), so it keeps its place
   * among the packets — a custom block between IP fragments, or after a packet the inspector has
   * not decided yet, was written before them, and every later annotated frame number was off by
   * its frames (Wireshark numbers custom and journal blocks as frames). Section and interface
   * blocks go now: the writers place held packets of an earlier section themselves.
   */
  inputBlock(block: CaptureBlock): void {
    const tail = this.hq.size > 0 ? this.hq.at(this.hq.size - 1) : null;
    if (tail === null || block.type === BlockType.SHB || block.type === BlockType.IDB) {
      this.writeBlock(block);
      return;
    }
    const copy = new CaptureBlock();
    copy.type = block.type;
    copy.buffer = Buffer.from(block.buffer.subarray(block.offset, block.offset + block.length));
    copy.length = block.length;
    copy.littleEndian = block.littleEndian;
    copy.section = block.section;
    copy.fileOffset = block.fileOffset;
    copy.iface = block.iface;
    // Held blocks count against the hold-back limits (a packet each, plus their bytes): a flood of
    // custom blocks or 60 KB DSBs behind one undecided packet grew memory with the input before.
    this.hq.attachBlock(copy);
    this.enforceHoldLimit();
  }

  private writeBlock(block: CaptureBlock): void {
    this.out.packets?.writeInputBlock?.(block);
    this.out.annotate?.writeInputBlock?.(block);
  }

  /** Processes one record synchronously. The record is not referenced after the call. */
  process(rec: CaptureRecord): void {
    if (this.finished) throw new Error('InspectionPipeline.process after finish');
    const s = this.s.packets;
    s.in++;
    this.s.bytesIn += rec.captureLength;
    this.lastTsSec = rec.tsSec;
    this.lastTsNsec = rec.tsNsec;
    const e = this.cur;
    e.load(rec);
    // Decoded in place in the reader's buffer: no view of the record is made.
    const pkt = decodePacketAt(rec.linkType, rec.buffer, rec.offset, rec.offset + rec.captureLength, this.pkt);
    const frags = this.fragments;
    if (frags.size > 0) this.expireFragments(rec.tsSec, rec.tsNsec);
    this.current = e;
    if (pkt.kind === PacketKind.TCP) this.handleTcp(e, pkt);
    else if (pkt.kind === PacketKind.IP_FRAGMENT && pkt.protocol === IP_PROTOCOL_TCP) {
      this.handleFragment(e, pkt, frags);
      this.current = null;
      this.flush();
      this.enforceHoldLimit();
      return;
    }
    this.current = null;
    this.place(e);
    this.flush();
    this.enforceHoldLimit();
  }

  /**
   * Capture time passed with no packet (live capture, from a timer): connections past their
   * timeouts close (their sessions flush, 302014 is logged), out-of-order data held too long is
   * dropped (ASA profile), and held packets whose bytes are now decided are written. A time at or
   * before the last packet's is ignored.
   */
  tick(tsSec: number, tsNsec: number): void {
    if (this.finished) return;
    if (tsSec < this.lastTsSec || (tsSec === this.lastTsSec && tsNsec <= this.lastTsNsec)) return;
    this.lastTsSec = tsSec;
    this.lastTsNsec = tsNsec;
    if (this.fragments.size > 0) this.expireFragments(tsSec, tsNsec);
    this.flows.advanceTime(tsSec, tsNsec);
    this.processNewDrops(null);
    this.flush();
    this.enforceHoldLimit();
  }

  /**
   * End of input: closes every connection (sessions flush), then writes everything still held.
   * Idempotent. Returns the summary; the caller closes the writers.
   */
  finish(): ReplaySummary {
    if (!this.finished) {
      this.finished = true;
      for (const dg of this.fragments.drain()) {
        if (dg.state === DatagramState.COLLECTING) this.fragments.pass(dg, 'fragment set still incomplete at the end of input: passed as captured, not inspected');
      }
      this.flows.finish(this.lastTsSec, this.lastTsNsec);
      this.processNewDrops(null);
      this.flushAll();
      this.s.servicePolicy = formatServicePolicy(this.counters);
    }
    return this.summary();
  }

  /** The running totals (also valid mid-run, e.g. for a progress line). */
  summary(): ReplaySummary {
    const st = this.flows.stats;
    this.s.connections.tracked = st.opened;
    return { ...this.s, connections: { ...this.s.connections }, packets: { ...this.s.packets }, gaps: { ...this.s.gaps } };
  }

  /** Packets currently held back. */
  get heldPackets(): number {
    return this.hq.size;
  }

  // ------------------------------------------------------------------ per packet

  private handleTcp(e: QueueEntry, pkt: DecodedPacket): void {
    const r = this.res;
    this.flows.process(pkt, e.packetNumber, e.tsSec, e.tsNsec, r);
    const conn = r.conn;
    if ((r.status & FlowStatus.UNTRACKED) !== 0 || conn === null) {
      this.processNewDrops(null);
      return;
    }
    const st = conn.state;
    if (st === null) return;
    e.conn = st;
    e.dir = r.dir;
    e.streamOffset = r.streamOffset;
    e.payloadLength = r.payloadLength;
    st.packets++;
    if (pkt.payloadMissing > 0) {
      // Payload the snaplen cut off: not a gap in the summary's count, but not inspected either.
      const g = this.s.gaps;
      g.cutPackets++;
      g.cutBytes += pkt.payloadMissing;
    }
    // An accepted RST's sender was taken in onClose, which the flow table called while handling it.
    if ((pkt.flags & TcpFlag.RST) !== 0 && (r.status & FlowStatus.IGNORED) !== 0 && st.kind === ConnKind.INSPECT) this.ignoredReset(e, st, r.dir);

    if (st.kind === ConnKind.EXEMPT) {
      this.processNewDrops(null);
      return;
    }
    if (st.kind === ConnKind.DENIED) {
      this.markDropped(e, st.denyRule, 'connection refused by a connection limit', st.denySyslog);
      st.denySyslog = null;
      this.processNewDrops(null);
      return;
    }

    // Inspected connection.
    if (st.counters !== null) st.counters.packet++;
    if (st.session !== null) this.rememberHeaders(st, pkt, e, r.dir);
    if (r.payloadLength > 0 && !st.dropped) this.rewriteCurrent(e, pkt, st, conn);
    this.processNewDrops(e);
    if (!e.dropped && st.dropped && e.packetNumber >= st.dropFromPacket) {
      this.markDropped(e, st.dropRule, `connection ${st.dropAction === 'reset' ? 'reset' : 'dropped'} by ${st.dropRule}`, null);
    }
    if (!e.dropped && (r.status & FlowStatus.OUT_OF_ORDER_DROPPED) !== 0 && this.profile === 'asa') {
      this.markDropped(e, OOO_RULE, `out-of-order queue full (${this.flows.options.maxOutOfOrderPacketsPerDirection} packets per direction): dropped as the ASA does`, null);
    }
    if (e.dropped) return;
    if ((pkt.flags & TcpFlag.URG) !== 0) this.clearUrgent(e, pkt, st, r.dir);
    if (this.annotating && (r.status & FlowStatus.OUT_OF_ORDER) !== 0) e.note(`out of order: held by reassembly until the hole before it is filled (${dirName(r.dir)})`);
    if (this.annotating && (r.status & FlowStatus.TRUNCATED) !== 0) e.note('payload cut by the snaplen: the missing bytes are a gap for the inspector');
    if (r.payloadLength > 0 && !this.isReady(e)) e.waiting = true;
  }

  /**
   * A RST the flow layer ignored (sequence number outside the window): said, because the connection
   * goes on; in the ASA profile the packet is also dropped, as the ASA's TCP normaliser drops it
   * (show asp drop: tcp-rstfin-ooo).
   */
  private ignoredReset(e: QueueEntry, st: ConnState, dir: Direction): void {
    const text = `RST ignored: its sequence number is outside the receiver's window (an endpoint ignores it, RFC 5961 §3), so the connection and its inspection go on`;
    if (this.annotating) e.note(text);
    this.verdictRecord(e, st, dir, RST_OOW_RULE, 'note', null, text);
    if (this.profile === 'asa') this.markDropped(e, RST_OOW_RULE, 'RST outside the receiver\'s window: dropped as the ASA\'s TCP normaliser does (tcp-rstfin-ooo)', null);
  }

  /**
   * The ASA's TCP normaliser clears the URG flag by default (tcp-map `urgent-flag clear`, ASA CLI
   * configuration guide, Connection Settings): the receiver then takes the urgent byte in band,
   * as the inspection (and our reassembly) did. Left set, a receiver without SO_OOBINLINE pulls
   * the byte out of the stream, so it reads other bytes than were inspected ("250-STARTTLS!" with
   * an urgent "!" is no STARTTLS keyword to the engine, but STARTTLS to the client).
   */
  private clearUrgent(e: QueueEntry, pkt: DecodedPacket, st: ConnState, dir: Direction): void {
    this.prepareEdit(e, pkt);
    clearTcpFlags(pkt, TcpFlag.URG, this.checksumMode);
    e.modified = true;
    const text = 'URG flag cleared, as the ASA TCP normaliser does by default (tcp-map urgent-flag clear): the urgent byte reaches the receiver in band, as inspected';
    if (this.annotating) e.note(text);
    this.verdictRecord(e, st, dir, URGENT_RULE, 'note', null, text);
  }

  /** Applies known edits (and the inspected bytes, for a disagreeing retransmission) to the current packet. */
  private rewriteCurrent(e: QueueEntry, pkt: DecodedPacket, st: ConnState, conn: Connection<ConnState>): void {
    const r = this.res;
    const dir = r.dir;
    const start = r.streamOffset;
    const end = start + r.payloadLength;
    const retrans = (r.status & FlowStatus.RETRANSMISSION) !== 0;
    if ((r.status & FlowStatus.OVERLAP_DIFFERENT) !== 0 && r.overlapDifferentLength > 0) {
      const from = Math.max(r.overlapDifferentOffset, start);
      const to = Math.min(r.overlapDifferentOffset + r.overlapDifferentLength, end);
      // The copy that was inspected, as the flow layer retained it (null once the peer ACKed it away).
      const inspected = to > from ? this.flows.retainedBytes(conn, dir, from, to - from) : null;
      let changed = 0;
      if (inspected !== null) {
        this.prepareEdit(e, pkt);
        changed = applyStreamEdit(pkt, start, from, inspected, this.checksumMode);
      }
      const text =
        changed > 0
          ? `retransmission carried ${r.overlapDifferentLength} byte(s) different from the inspected copy: made to agree (${changed} byte(s) rewritten)`
          : `retransmission carried ${r.overlapDifferentLength} byte(s) different from the inspected copy: inspected copy no longer retained, left as is`;
      if (this.annotating) e.note(text);
      this.verdictRecord(e, st, dir, 'overlap-different-data', 'rewrite-retransmission', null, text);
      if (changed > 0) e.modified = true;
    }
    const hist = st.historyOf(dir);
    // Most packets lie beyond every edit: one comparison, nothing allocated.
    if (hist === null || !hist.mayOverlap(start, end)) return;
    for (let i = hist.next(start, end, 0); i >= 0; i = hist.next(start, end, i + 1)) {
      this.prepareEdit(e, pkt);
      const n = applyStreamEdit(pkt, start, hist.offset(i), hist.bytes(i), this.checksumMode);
      if (n > 0) {
        e.modified = true;
        // The stream offset keeps two edits of one rule on one packet apart (notes are deduplicated).
        if (this.annotating) e.note(`${hist.rule(i)}: ${actionWord(hist.action(i))} ${n} byte(s) at ${dirName(dir)} offset ${hist.offset(i)}${retrans ? ' (retransmission: same edit re-applied)' : ''}`);
      }
    }
  }

  /** Before the first change to the current packet: verify its input checksum, take a private copy. */
  private prepareEdit(e: QueueEntry, pkt: DecodedPacket): void {
    if (e.owned) return;
    e.inputChecksumOk = tcpChecksumOk(pkt);
    if (this.annotating) e.keepArrived();
    e.own();
    // The copy starts at offset 0 of the entry's store: decode again there (same fields, new offsets).
    decodePacketAt(e.linkType, e.buffer, e.offset, e.offset + e.captureLength, pkt);
  }

  private rememberHeaders(st: ConnState, pkt: DecodedPacket, e: QueueEntry, dir: Direction): void {
    // Taken again when the direction moves to another interface (a new pcapng section describes
    // its interfaces anew): a RST goes where the connection's packets are now, with their headers.
    const tmpl = st.templateOf(dir);
    if (tmpl === null || tmpl.interfaceIndex !== e.interfaceIndex) {
      // An assembled datagram is raw IP: its RST headers are its IP header behind the link header
      // of the fragment that completed it (a connection whose every packet came in fragments
      // has no other packet to take them from).
      if (e.datagram === null) st.setTemplate(dir, { t: captureTemplate(pkt, e.linkType), interfaceIndex: e.interfaceIndex });
      else if (this.datagramLink !== null) st.setTemplate(dir, { t: behindLink(captureTemplate(pkt, LinkType.RAW), this.datagramLink.bytes, this.datagramLink.linkType), interfaceIndex: e.interfaceIndex });
    }
    let len = pkt.payloadLength + pkt.payloadMissing;
    if ((pkt.flags & TcpFlag.SYN) !== 0) len++;
    if ((pkt.flags & TcpFlag.FIN) !== 0) len++;
    st.setNextSeq(dir, seqAdd(pkt.seq, len));
  }

  private isReady(e: QueueEntry): boolean {
    if (e.dropped || e.synthesized) return true;
    if (e.fragment !== null) return this.fragmentReady(e.fragment);
    const st = e.conn;
    if (st === null || st.session === null || st.closed) return true;
    if (st.session.state !== 'inspecting') return true;
    return st.session.committed(e.dir) >= e.streamOffset + e.payloadLength;
  }

  // ------------------------------------------------------------------ hold-back queue

  /** Writes the current entry now if nothing is waiting, else queues a copy. */
  private place(e: QueueEntry): void {
    const extra = this.afterCurrent;
    if (this.hq.size === 0 && !e.waiting) {
      this.emit(e);
      if (extra.length > 0) {
        for (const x of extra) {
          this.emit(x);
          this.hq.recycle(x);
        }
        extra.length = 0;
      }
      return;
    }
    const q = this.hq.copyOf(e);
    if (q.waiting) q.wasHeld = true;
    this.enqueue(q);
    if (extra.length > 0) {
      for (const x of extra) this.enqueue(x);
      extra.length = 0;
    }
  }

  private enqueue(q: QueueEntry): void {
    this.hq.push(q);
    if (q.conn !== null && !q.synthesized) q.conn.addHeld(q);
    const n = this.hq.size;
    if (n > this.s.packets.maxHeld) this.s.packets.maxHeld = n;
  }

  private dequeue(): QueueEntry | null {
    const h = this.hq.shift();
    if (h !== null && h.conn !== null && !h.synthesized) h.conn.removeHeld(h);
    return h;
  }

  /** Writes a dequeued entry and returns it to the pool (nothing references it any more). */
  private release(h: QueueEntry): void {
    this.emit(h);
    this.hq.recycle(h);
  }

  /** Writes every ready packet at the head of the queue. */
  private flush(): void {
    for (let h = this.hq.peek(); h !== null; h = this.hq.peek()) {
      if (h.waiting && !this.isReady(h)) break;
      this.dequeue();
      this.release(h);
    }
  }

  private flushAll(): void {
    for (let h = this.dequeue(); h !== null; h = this.dequeue()) {
      if (h.waiting && !this.isReady(h)) this.forceForward(h, 'end of input');
      this.release(h);
    }
  }

  private enforceHoldLimit(): void {
    while (this.hq.size + this.hq.blocks > this.maxHeldPackets || this.hq.bytes > this.maxHeldBytes) {
      const blocks = this.hq.blocks;
      const h = this.dequeue();
      if (h === null) break;
      if (h.waiting && !this.isReady(h)) {
        const among = blocks > 0 ? `; ${blocks} pcapng block(s) without a packet held among them count as packets` : '';
        this.forceForward(h, `${LIMIT_NOTE} (${this.maxHeldPackets} packets / ${this.maxHeldBytes} bytes${among})`);
      }
      this.release(h);
      this.flush();
    }
  }

  private forceForward(h: QueueEntry, why: string): void {
    this.s.packets.forcedForward++;
    const text = `forwarded before the inspector decided its bytes: ${why}`;
    if (this.annotating) h.note(text);
    if (h.conn) this.verdictRecord(h, h.conn, h.dir, LIMIT_NOTE, 'forward', null, text);
  }

  /** Writes one entry to OUT (unless dropped) and to the annotated capture. */
  private emit(e: QueueEntry): void {
    this.emitEntry(e);
    // Input blocks read while it was held follow it (inputBlock).
    const blocks = e.blocksAfter;
    if (blocks !== null) {
      e.blocksAfter = null;
      for (const b of blocks) this.writeBlock(b);
    }
  }

  private emitEntry(e: QueueEntry): void {
    const p = this.s.packets;
    if (e.datagram !== null) {
      this.retireDatagram(e);
      return;
    }
    const fragmentOf = e.fragment;
    if (fragmentOf !== null) this.settleFragment(e, fragmentOf);
    if (this.annotating && (e.waiting || e.wasHeld)) {
      if (!e.dropped) e.note('held back until the inspector decided its bytes');
    }
    if (e.dropped) {
      p.dropped++;
      const st = e.conn;
      if (this.annotating) e.note(e.dropDetail.includes(e.dropRule) ? `dropped: ${e.dropDetail}` : `dropped: ${e.dropDetail} (${e.dropRule})`);
      if (st) {
        this.verdictRecord(e, st, e.dropRule === FRAGMENT_RULE ? null : e.dir, e.dropRule, 'drop', e.dropSyslog, e.dropDetail);
        const c = st.counters;
        if (c !== null && st.kind === ConnKind.INSPECT && e.dropRule !== OOO_RULE && e.dropRule !== FRAGMENT_RULE && e.dropRule !== RST_OOW_RULE) {
          if (st.dropAction === 'reset') c.resetDrop++;
          else c.drop++;
        }
      } else if (fragmentOf !== null) {
        // A fragment whose set never reached a connection: its own addresses (and ports, if seen),
        // the server being the side on an inspected port.
        const src = fragmentOf.srcPort >= 0 ? formatEndpoint(fragmentOf.src, fragmentOf.srcPort, fragmentOf.ipVersion) : fragmentOf.src;
        const dst = fragmentOf.dstPort >= 0 ? formatEndpoint(fragmentOf.dst, fragmentOf.dstPort, fragmentOf.ipVersion) : fragmentOf.dst;
        const ports = this.flows.options.serverPorts;
        const fromServer = ports !== null && ports.includes(fragmentOf.srcPort) && !ports.includes(fragmentOf.dstPort);
        const dir = fragmentOf.srcPort < 0 ? null : fromServer ? S2C : C2S;
        this.verdictAt(e.tsSec, e.tsNsec, e.packetNumber, fromServer ? dst : src, fromServer ? src : dst, dir, e.dropRule, 'drop', e.dropSyslog, e.dropDetail, e.interfaceIndex);
      }
    } else {
      if (e.synthesized) p.synthesized++;
      else p.forwarded++;
      p.out++;
      if (e.modified) {
        p.modified++;
        if (e.inputChecksumOk === true) {
          const d = decodePacketAt(e.linkType, e.buffer, e.offset, e.offset + e.captureLength, this.scratch);
          if (tcpChecksumOk(d) === false) p.checksumBroken++;
        }
      }
      this.out.packets?.write(e, e.inputComments);
    }
    const ann = this.out.annotate;
    // Synthesised packets are in OUT only: their trigger's comment describes them.
    if (ann && !e.synthesized) {
      const c = e.comments;
      const all = e.inputComments ? (c ? [...e.inputComments, ...c] : e.inputComments) : c;
      // A dropped packet never reaches OUT: the annotated capture shows it as it arrived.
      if (e.dropped) e.showArrived();
      ann.write(e, all);
    }
  }

  // ------------------------------------------------------------------ IP fragments

  /**
   * An IP fragment of a TCP datagram: held (a copy) in input order until its set is settled. A
   * complete set on an inspected port is assembled and goes through reassembly and inspection as
   * one segment; its fragments then leave with the datagram's bytes and fate.
   */
  private handleFragment(e: QueueEntry, pkt: DecodedPacket, table: FragmentTable): void {
    const f = fragmentFields(pkt)!;
    let dg = table.datagramFor(f, pkt, e.tsSec, e.tsNsec);
    const q = this.hq.copyOf(e);
    q.waiting = true;
    if (dg === null) {
      // The database is full: this fragment is not collected (the ASA discards it).
      dg = table.standalone(f, pkt, e.tsSec, e.tsNsec);
      table.settle(dg, DatagramState.ABANDONED, `fragment database full (${table.limits.size} fragments awaiting reassembly)`);
    }
    q.fragment = dg;
    table.add(dg, q, f, pkt);
    this.enqueue(q);
    if (dg.state !== DatagramState.COLLECTING) return;
    if (dg.count > table.limits.chain) {
      this.abandonFragments(dg, `more than ${table.limits.chain} fragments in one datagram (fragment chain ${table.limits.chain})`);
    } else if (dg.firstSeen && dg.dstPort >= 0 && !this.portSelected(dg)) {
      table.pass(dg, 'not TCP to an inspected port');
    } else if (dg.cut) {
      table.pass(dg, 'a fragment was cut by the snaplen: the datagram cannot be assembled, not inspected');
      table.forget(dg);
    } else if (dg.complete && dg.tooLong) {
      this.abandonFragments(dg, `malformed fragment set (its header and ${dg.total} data bytes are longer than an IP datagram can be)`);
    } else if (dg.complete) {
      this.inspectDatagram(dg, q, table, { bytes: Buffer.from(pkt.data.subarray(pkt.packetStart, pkt.l3Offset)), linkType: e.linkType });
    }
  }

  private portSelected(dg: FragmentedDatagram): boolean {
    const ports = this.flows.options.serverPorts;
    return ports === null || ports.includes(dg.dstPort) || ports.includes(dg.srcPort);
  }

  /** Sets not complete within the fragment timeout (capture time) are given up. */
  private expireFragments(sec: number, nsec: number): void {
    const table = this.fragments;
    for (const dg of table.expired(sec, nsec)) {
      if (dg.state === DatagramState.COLLECTING) this.abandonFragments(dg, `fragment set incomplete after ${table.limits.timeoutSec} s (fragment timeout ${table.limits.timeoutSec})`);
    }
  }

  /**
   * The set is given up. It stays known until its timeout (if it has not passed already), so that
   * the rest of its fragments share its fate instead of starting a set of their own.
   */
  private abandonFragments(dg: FragmentedDatagram, reason: string): void {
    this.fragments.settle(dg, DatagramState.ABANDONED, reason);
  }

  /** A complete set: its datagram, as one raw-IP packet, through reassembly and inspection. */
  private inspectDatagram(dg: FragmentedDatagram, last: QueueEntry, table: FragmentTable, link: { bytes: Buffer; linkType: number }): void {
    // The set stays known until its timeout: a late copy of one of its fragments (a duplicate, a
    // conflicting overlap) joins it and is written with the datagram's bytes, not inspected anew.
    const buf = dg.assemble();
    table.settle(dg, DatagramState.INSPECTED, '');
    const pkt = decodePacketAt(LinkType.RAW, buf, 0, buf.length, this.pkt);
    if (pkt.kind !== PacketKind.TCP) {
      dg.state = DatagramState.PASSED;
      dg.reason = `the assembled datagram is not a TCP segment (${PACKET_KIND_NAMES[pkt.kind]}): not inspected`;
      return;
    }
    const v = this.hq.blank();
    v.load({
      packetNumber: last.packetNumber,
      interfaceIndex: last.interfaceIndex,
      linkType: LinkType.RAW,
      tsSec: last.tsSec,
      tsNsec: last.tsNsec,
      tsRawHigh: last.tsRawHigh,
      tsRawLow: last.tsRawLow,
      originalLength: buf.length,
      buffer: buf,
      offset: 0,
      captureLength: buf.length,
      comments: null,
    });
    v.fromInput = false;
    v.datagram = dg;
    dg.virtual = v;
    this.current = v;
    this.datagramLink = link;
    this.handleTcp(v, pkt);
    this.datagramLink = null;
    this.current = null;
    // In the queue after its last fragment, so edits and drops reach it like any held packet.
    this.enqueue(v);
    const extra = this.afterCurrent;
    if (extra.length > 0) {
      for (const x of extra) this.enqueue(x);
      extra.length = 0;
    }
  }

  /** A held fragment can leave once its set is settled and the datagram's bytes are decided. */
  private fragmentReady(dg: FragmentedDatagram): boolean {
    if (dg.state === DatagramState.COLLECTING) return false;
    const v = dg.virtual;
    return v === null || v.dropped || this.isReady(v);
  }

  /** Just before a fragment is written: the datagram's edits and fate become the fragment's. */
  private settleFragment(e: QueueEntry, dg: FragmentedDatagram): void {
    e.fragment = null;
    e.waiting = false;
    e.wasHeld = false;
    const m = dg.takeMember(e);
    const where = m === null ? '' : m.length === 0 ? ` (no data, at byte ${m.dataOffset} of the datagram)` : ` (data bytes ${m.dataOffset}-${m.dataOffset + m.length - 1} of the datagram)`;
    const v = dg.virtual;
    if (dg.state === DatagramState.INSPECTED && (v !== null || dg.final !== null)) {
      if (this.annotating) {
        const at = v === null ? 'after its datagram was reassembled and written: a late copy' : `complete at packet ${v.packetNumber}`;
        e.note(`IP fragment${where}: reassembled with the other ${dg.count - 1} fragment(s) of its datagram and inspected as one TCP segment (${at})`);
        if (v !== null && e.packetNumber === v.packetNumber && v.comments !== null) for (const c of v.comments) e.note(`reassembled datagram: ${c}`);
      }
      const drop = v !== null ? (v.dropped ? { rule: v.dropRule, detail: v.dropDetail } : null) : dg.finalDrop;
      if (v !== null) {
        e.conn = v.conn;
        e.dir = v.dir;
      }
      if (drop !== null) {
        this.markDropped(e, drop.rule, drop.detail, null);
        return;
      }
      if (m === null || m.length === 0) return;
      const bytes = v !== null ? v.buffer : dg.final!;
      const from = (v !== null ? v.offset : 0) + dg.headerLength + m.dataOffset;
      if (m.dataOffset + m.length > dg.total) {
        // Only a late fragment can reach past the datagram's end (a collecting set that does is
        // discarded): the receiver starts a set of its own with it, which never completes.
        if (this.profile === 'asa') this.markDropped(e, FRAGMENT_RULE, `IP fragment${where} discarded: it arrived after its datagram was reassembled and reaches past its end (${dg.total} data bytes), so its set can never complete, as the ASA does after the fragment timeout`, null);
        else if (this.annotating) e.note(`IP fragment${where}: arrived after its datagram was reassembled and reaches past its end: passed as captured`);
        return;
      }
      const to = e.offset + m.dataAt;
      if (bytes.compare(e.buffer, to, to + m.length, from, from + m.length) !== 0) {
        // The datagram's bytes: edits, or the first copy where fragments overlapped with other
        // data (the receiver's choice among overlapping copies varies by stack; now they agree).
        const overlapDiffers = m.conflict;
        if (this.annotating) e.keepArrived();
        e.own();
        bytes.copy(e.buffer, e.offset + m.dataAt, from, from + m.length);
        e.modified = true;
        if (overlapDiffers) {
          const text = `IP fragment${where} overlapped other fragments of its datagram with different data: made to agree with the copy that was inspected (the first)`;
          if (this.annotating) e.note(text);
          const st = e.conn ?? v?.conn ?? null;
          if (st !== null) this.verdictRecord(e, st, e.dir, 'overlap-different-data', 'rewrite-retransmission', null, text);
        }
      }
      return;
    }
    if (dg.state === DatagramState.ABANDONED && this.profile === 'asa' && (dg.dstPort < 0 || this.portSelected(dg))) {
      this.markDropped(e, FRAGMENT_RULE, `IP fragment${where} discarded: ${dg.reason}, as the ASA does`, null);
      return;
    }
    if (this.annotating) {
      const why = dg.state === DatagramState.COLLECTING ? 'forwarded before its fragment set was complete' : dg.state === DatagramState.ABANDONED ? `${dg.reason}: passed as captured (analysis profile or other ports)` : dg.reason;
      e.note(`IP fragment${where}: ${why}`);
    }
  }

  /** The assembled datagram leaves the queue: nothing of it is written (its fragments were). */
  private retireDatagram(v: QueueEntry): void {
    const dg = v.datagram!;
    dg.virtual = null;
    // Kept while the set is known (until its timeout, within a byte budget), for late copies of its fragments.
    this.fragments.retainFinal(dg, Buffer.from(v.buffer.subarray(v.offset, v.offset + v.captureLength)), v.dropped ? { rule: v.dropRule, detail: v.dropDetail } : null);
    if (v.modified && v.inputChecksumOk === true && !v.dropped) {
      const d = decodePacketAt(v.linkType, v.buffer, v.offset, v.offset + v.captureLength, this.scratch);
      if (tcpChecksumOk(d) === false) this.s.packets.checksumBroken++;
    }
  }

  // ------------------------------------------------------------------ drops and resets

  private markDropped(e: QueueEntry, rule: string, detail: string, syslog: string | null): void {
    if (e.dropped) return;
    e.dropped = true;
    e.waiting = false;
    e.dropRule = rule;
    e.dropDetail = detail;
    e.dropSyslog = syslog;
  }

  /** Acts on sessions that reached dropped/reset: which packets go, RSTs, teardown. */
  private processNewDrops(cur: QueueEntry | null): void {
    if (this.newDrops.length === 0) return;
    const list = this.newDrops;
    this.newDrops = [];
    for (const st of list) this.handleDrop(st, cur !== null && cur.conn === st ? cur : null);
  }

  private handleDrop(st: ConnState, cur: QueueEntry | null): void {
    const session = st.session;
    if (session === null || st.dropHandled) return;
    st.dropHandled = true;
    st.dropped = true;
    st.dropAction = session.state === 'reset' ? 'reset' : 'drop-connection';
    if (st.dropRule === '') st.dropRule = st.dropAction;
    const dDir = session.dropDirection;
    const dOff = session.dropOffset;
    const covers = (x: QueueEntry) =>
      x.dir === dDir && x.payloadLength > 0 && x.streamOffset <= dOff && dOff < x.streamOffset + x.payloadLength;
    let trigger: QueueEntry | null = null;
    let idx = -1;
    for (let i = 0; i < st.held.length; i++) {
      if (covers(st.held[i]!)) {
        idx = i;
        trigger = st.held[i]!;
        break;
      }
    }
    if (trigger === null && cur !== null && covers(cur)) trigger = cur;
    let fromPacket: number;
    if (trigger !== null) fromPacket = trigger.packetNumber;
    else fromPacket = st.packetAt(dDir, dOff) ?? cur?.packetNumber ?? Number.MAX_SAFE_INTEGER;
    if (trigger === null && cur === null && fromPacket === Number.MAX_SAFE_INTEGER) fromPacket = 0;
    st.dropFromPacket = fromPacket;
    const detail = `connection ${st.dropAction === 'reset' ? 'reset' : 'dropped'} by ${st.dropRule}`;
    for (let i = 0; i < st.held.length; i++) {
      const h = st.held[i]!;
      if (h.packetNumber >= fromPacket || i === idx) this.markDropped(h, st.dropRule, detail, null);
    }
    if (cur !== null && cur.packetNumber >= fromPacket) this.markDropped(cur, st.dropRule, detail, null);
    if (st.dropAction === 'reset') this.s.connections.reset++;
    else this.s.connections.dropped++;

    // Teardown as the ASA logs it after an inspection kill.
    const at = trigger ?? cur;
    const tsSec = at?.tsSec ?? this.lastTsSec;
    const tsNsec = at?.tsNsec ?? this.lastTsNsec;
    this.teardown(st, 'Flow closed by inspection', tsSec, tsNsec, at?.packetNumber ?? fromPacket);

    // drop-connection-rst=yes (engine option, ASA-ESMTP.md 11.11): a drop also resets both sides;
    // st.dropAction stays 'drop-connection', so the counters still count drop, not reset-drop
    if (st.dropAction === 'reset' || this.engineOptions.dropConnectionRst) {
      const base = trigger ?? cur;
      if (base !== null) this.synthesizeResets(st, base, dDir);
    }
  }

  /** RST+ACK towards the server (from the client) and towards the client (from the server). */
  private synthesizeResets(st: ConnState, trigger: QueueEntry, dDir: Direction): void {
    const tp = decodePacketAt(trigger.linkType, trigger.buffer, trigger.offset, trigger.offset + trigger.captureLength, this.scratch);
    if (tp.kind !== PacketKind.TCP) return;
    const tSeq = tp.seq;
    const tAck = tp.ack;
    const tHasAck = (tp.flags & TcpFlag.ACK) !== 0;
    const seqOf = (d: Direction): number => (d === dDir ? tSeq : tHasAck ? tAck : st.nextSeqOf(d));
    const conn = st.conn;
    const made: QueueEntry[] = [];
    // Each RST one tick after the packet before it (the trigger, then the first RST), each in its
    // own interface's ticks: with interfaces of different resolutions, "trigger + 2 ticks" could
    // put the second before the first.
    let previous: TimestampFields = trigger;
    for (const from of [C2S, S2C] as const) {
      const tmpl = this.templateFor(st, from);
      if (tmpl === null) continue;
      const other: Direction = from === C2S ? S2C : C2S;
      const buf = buildRst(
        tmpl.t,
        {
          srcPort: from === C2S ? conn.clientPort : conn.serverPort,
          dstPort: from === C2S ? conn.serverPort : conn.clientPort,
          seq: seqOf(from),
          ack: seqOf(other),
        },
        this.scratch,
      );
      const x = this.hq.blank();
      x.synthesized = true;
      x.owned = true;
      x.data = buf;
      x.originalLength = buf.length;
      x.linkType = tmpl.t.linkType;
      x.interfaceIndex = tmpl.interfaceIndex;
      x.packetNumber = trigger.packetNumber;
      x.conn = st;
      x.dir = from;
      timestampAfter(previous, 1, this.resolutionOf(tmpl.interfaceIndex), x);
      previous = x;
      const towards = from === C2S ? 'server' : 'client';
      const why = st.dropAction === 'reset' ? 'reset' : 'connection dropped (drop-connection-rst=yes)';
      const text = `synthesised RST towards the ${towards} (${why} by ${st.dropRule}, after packet ${trigger.packetNumber})`;
      this.verdictRecord(x, st, from, st.dropRule, 'synthesize', null, text);
      // The annotated capture holds exactly the input packets (its frame N is verdict packet N),
      // so the RST is described on its trigger, with the numbers to find it in OUT.
      if (this.annotating) {
        trigger.note(`synthesised RST+ACK towards the ${towards}, written to OUT right after this packet (raw seq ${seqOf(from)}, ack ${seqOf(other)}; ${why} by ${st.dropRule})`);
      }
      made.push(x);
    }
    if (made.length === 0) return;
    // Right after the trigger: in the queue if it is held there, else after the current packet.
    const qi = this.hq.indexOf(trigger);
    if (qi >= 0) this.hq.insertAfter(qi, made);
    else for (const x of made) this.afterCurrent.push(x);
  }

  private templateFor(st: ConnState, from: Direction): { t: HeaderTemplate; interfaceIndex: number } | null {
    const own = st.templateOf(from);
    if (own !== null) return own;
    const other = st.templateOf(from === C2S ? S2C : C2S);
    return other === null ? null : { t: reverseTemplate(other.t), interfaceIndex: other.interfaceIndex };
  }

  private resolutionOf(interfaceIndex: number): TimeResolution {
    const i = this.interfaces[interfaceIndex];
    if (!i) return { format: this.format, base: 10, exponent: 6, tsOffsetSeconds: 0 };
    return { format: this.format, base: i.tsResolutionBase, exponent: i.tsResolutionExponent, tsOffsetSeconds: i.tsOffsetSeconds };
  }

  // ------------------------------------------------------------------ flow listener

  private onOpen(conn: Connection<ConnState>): void {
    const ifs = this.ends.of(conn.clientIp, conn.serverIp);
    const decision: ClassDecision = this.policy.classify({
      ipVersion: conn.ipVersion,
      clientIp: conn.clientIp,
      clientPort: conn.clientPort,
      serverIp: conn.serverIp,
      serverPort: conn.serverPort,
      ingressInterface: ifs.client,
      egressInterface: ifs.server,
      startTimeSec: conn.firstTimeSec + conn.firstTimeNsec / 1e9,
    });
    const map = decision.esmtp;
    if (map === null) {
      const ex = new ConnState(ConnKind.EXEMPT, decision, conn);
      ex.ifs = ifs;
      conn.state = ex;
      this.s.connections.exempted++;
      // The ASA logs every connection it builds, inspected or not: an exempted session shows up.
      const why = decision.reason ?? 'no class inspects esmtp';
      this.logBuilt(conn, ifs, `built: ${why.startsWith('not inspected') ? why : `not inspected: ${why}`}`);
      return;
    }
    const st = new ConnState(ConnKind.INSPECT, decision, conn);
    st.ifs = ifs;
    const adm = this.limiter.admit(decision, conn, st, ifs.client);
    if (!adm.ok) {
      const denied = new ConnState(ConnKind.DENIED, decision, conn);
      denied.ifs = ifs;
      denied.denyRule = adm.rule;
      denied.denySyslog = adm.syslog;
      conn.state = denied;
      this.s.connections.denied++;
      this.syslog(adm.syslog, this.lastTsSec, this.lastTsNsec);
      return;
    }
    conn.state = st;
    this.s.connections.inspected++;
    const ctx: SessionContext = {
      conn,
      clientInterface: ifs.client,
      serverInterface: ifs.server,
      policyMap: decision.policyMap,
      className: decision.className,
      midstream: conn.clientBy !== 'syn' && conn.clientBy !== 'syn-ack',
    };
    st.ctx = ctx;
    const counters = this.counters.entry(decision.policyMap, decision.className, map);
    counters.scope = decision.scope;
    st.counters = counters;
    st.events = this;
    st.session = createEsmtpSession(map, ctx, this.engineOptions, st, this.counters);
    this.logBuilt(conn, ifs, builtDetail({ className: decision.className, policyMap: decision.policyMap, mapName: map.name }));
  }

  /** 302013, in the syslog and as a `connection` note on the current packet. */
  private logBuilt(conn: Connection<ConnState>, ifs: ConnInterfaces, detail: string): void {
    const [a, b] = this.builtEnds(conn, ifs);
    const line = syslog302013(conn.id, ifs.outbound ? 'outbound' : 'inbound', a, b);
    this.syslog(line, conn.firstTimeSec, conn.firstTimeNsec);
    const e = this.current;
    if (e) this.verdictAt(e.tsSec, e.tsNsec, e.packetNumber, conn.client, conn.server, null, 'connection', 'note', line, detail);
  }

  /**
   * The two ends in the order 302013/302014 print them: the foreign (lower security level) side
   * first, so an outbound connection names its server first.
   */
  private builtEnds(conn: ConnectionMeta, ifs: ConnInterfaces): [Endpoint, Endpoint] {
    const client: Endpoint = { iface: ifs.client, ip: conn.clientIp, port: conn.clientPort };
    const server: Endpoint = { iface: ifs.server, ip: conn.serverIp, port: conn.serverPort };
    return ifs.outbound ? [server, client] : [client, server];
  }

  private onEstablished(conn: Connection<ConnState>): void {
    const st = conn.state;
    if (st !== null && st.kind === ConnKind.INSPECT) this.limiter.established(st);
  }

  private onData(conn: Connection<ConnState>, dir: Direction, data: Buffer, offset: number, packetNumber: number): void {
    const st = conn.state;
    if (st === null || st.session === null || st.dropped) return;
    // The time is known for the packet being processed; a held segment released by it keeps NaN.
    const own = this.current !== null && this.current.packetNumber === packetNumber;
    st.recordDelivery(dir, offset, data.length, packetNumber, own ? this.lastTsSec : NaN, own ? this.lastTsNsec : NaN);
    // Capture time of the packet being processed (drives `rate-limit N`).
    st.session.data(dir, data, offset, this.lastTsSec, this.lastTsNsec);
    this.checkDrop(st);
  }

  private onGap(conn: Connection<ConnState>, dir: Direction, offset: number, length: number): void {
    const st = conn.state;
    if (st === null) return;
    const cut = this.isSnaplenCut(conn, dir, offset, length);
    if (!cut) {
      // Counted for every tracked connection (exempted too): in a live capture a gap is a loss.
      const g = this.s.gaps;
      g.count++;
      g.bytes += length;
      if (!this.gappedConns.has(st)) {
        this.gappedConns.add(st);
        g.connections++;
      }
    }
    if (st.session === null) return;
    const text = `gap: ${length} byte(s) of ${dirName(dir)} never seen at stream offset ${offset}`;
    const e = this.current;
    if (this.annotating && e !== null && e.conn === st) e.note(text);
    else if (this.annotating && e !== null && e.conn === null) e.note(`${text} (connection ${conn.client} -> ${conn.server})`);
    if (!st.dropped) {
      st.session.gap(dir, offset, length, cut ? 'truncated' : 'missing');
      this.checkDrop(st);
    }
    const at = e ?? null;
    this.verdictAt(at?.tsSec ?? this.lastTsSec, at?.tsNsec ?? this.lastTsNsec, at?.packetNumber ?? conn.lastPacketNumber, conn.client, conn.server, dir, 'tcp-gap', 'note', null, text);
  }

  /** Is this gap the part of the current packet's payload that the capture's snaplen cut off? */
  private isSnaplenCut(conn: Connection<ConnState>, dir: Direction, offset: number, length: number): boolean {
    const r = this.res;
    const pkt = this.pkt;
    if (this.current === null || r.conn !== conn || r.dir !== dir || pkt.payloadMissing === 0) return false;
    const cutStart = r.streamOffset + pkt.payloadLength;
    return offset >= cutStart && offset + length <= cutStart + pkt.payloadMissing;
  }

  private onClose(conn: Connection<ConnState>, reason: CloseReason): void {
    const st = conn.state;
    if (st === null) return;
    // The flow table closes on the RST while handling it, before handleTcp records its sender:
    // take the sender from the packet at hand, or a server's reset is logged as the client's.
    if (reason === 'rst' && this.res.conn === conn) st.rstDir = this.res.dir;
    if (st.kind === ConnKind.EXEMPT) {
      // Its teardown, as for an inspected connection; at the end of the capture nothing is logged
      // (the ASA has not torn it down, and no inspection is missing).
      const tr = this.teardownReason(st, reason);
      if (tr !== null) this.teardownAfter(conn, st, tr, reason);
      return;
    }
    if (st.kind === ConnKind.INSPECT) {
      if (st.session !== null && !st.dropped) {
        st.session.end();
        this.checkDrop(st);
      }
      this.processNewDrops(null);
      this.limiter.release(st);
      st.closed = true;
      st.releaseSession();
      if (!st.tornDown) {
        const tr = this.teardownReason(st, reason);
        if (tr !== null) this.teardownAfter(conn, st, tr, reason);
        else {
          st.tornDown = true;
          this.verdictAt(conn.lastTimeSec, conn.lastTimeNsec, this.current?.packetNumber ?? conn.lastPacketNumber, conn.client, conn.server, null, 'connection', 'note', null, `still open at the end of the capture (no teardown logged)`);
        }
      }
    }
  }

  private onDiscard(conn: Connection<ConnState>, dir: Direction, offset: number, length: number, packetNumber: number, reason: 'out-of-order-limit' | 'out-of-order-timeout'): void {
    const st = conn.state;
    if (st === null || st.kind !== ConnKind.INSPECT || this.profile !== 'asa') return;
    if (reason === 'out-of-order-limit') return; // the current packet: handled from its status
    const detail = `out-of-order segment waited longer than ${this.flows.options.outOfOrderTimeoutSec} s for its hole: dropped as the ASA does (${length} byte(s) at ${dirName(dir)} offset ${offset})`;
    for (const h of st.held) {
      if (h.packetNumber === packetNumber && h.dir === dir) this.markDropped(h, OOO_RULE, detail, null);
    }
  }

  private teardownReason(st: ConnState, reason: CloseReason): TeardownReason | null {
    switch (reason) {
      case 'fin':
        return 'TCP FINs';
      case 'rst': {
        // Reset-I: the reset came from the inside, the higher security level's end when the config
        // gives the levels (a DMZ relay resetting its delivery out is Reset-I), else the interface
        // named inside. Before, only a sender on `inside` made Reset-I.
        const sender = st.rstDir === S2C ? 'server' : 'client';
        const inside = st.ifs.insideEnd !== undefined ? st.ifs.insideEnd === sender : (sender === 'server' ? st.ifs.server : st.ifs.client) === 'inside';
        return inside ? 'TCP Reset-I' : 'TCP Reset-O';
      }
      case 'idle-timeout':
      case 'evicted':
        return 'Conn-timeout';
      case 'half-open-timeout':
        return 'SYN Timeout';
      case 'new-syn':
        return 'Conn-timeout';
      case 'end-of-capture':
        return null;
      default:
        return null;
    }
  }

  /**
   * A timeout tears the connection down when its timer runs out (last activity + the timeout), as
   * the ASA logs it — not at the packet that made us notice, nor at the last one.
   */
  private teardownAfter(conn: Connection<ConnState>, st: ConnState, tr: TeardownReason, reason: CloseReason): void {
    const timer = reason === 'idle-timeout' ? this.flows.options.idleTimeoutSec : reason === 'half-open-timeout' ? this.flows.options.halfOpenTimeoutSec : 0;
    const whole = Math.floor(timer);
    let sec = conn.lastTimeSec + whole;
    let nsec = conn.lastTimeNsec + Math.round((timer - whole) * 1e9);
    if (nsec >= 1e9) {
      sec++;
      nsec -= 1e9;
    }
    this.teardown(st, tr, sec, nsec, this.current?.packetNumber ?? conn.lastPacketNumber);
  }

  private teardown(st: ConnState, reason: TeardownReason, tsSec: number, tsNsec: number, packetNumber: number): void {
    if (st.tornDown) return;
    st.tornDown = true;
    const conn = st.conn;
    const bytes = conn.stats[0].bytes + conn.stats[1].bytes;
    const duration = tsSec - conn.firstTimeSec + (tsNsec - conn.firstTimeNsec) / 1e9;
    const [a, b] = this.builtEnds(conn, st.ifs);
    const line = syslog302014(conn.id, a, b, duration, bytes, reason, this.engineOptions.resetReasonSpacing);
    this.syslog(line, tsSec, tsNsec);
    this.verdictAt(tsSec, tsNsec, packetNumber, conn.client, conn.server, null, 'connection', 'note', line, teardownDetail(reason, this.engineOptions.resetReasonSpacing));
  }

  private checkDrop(st: ConnState): void {
    const s = st.session;
    if (s !== null && !st.dropHandled && (s.state === 'dropped' || s.state === 'reset') && !this.newDrops.includes(st)) {
      this.newDrops.push(st);
    }
  }

  // ------------------------------------------------------------------ session sink

  /** @internal SessionEvents: an edit from a connection's session. */
  sessionEdit(st: ConnState, ed: Edit): void {
    this.s.edits++;
    st.editHistory(ed.dir).addCopy(ed.offset, ed.bytes, ed.rule, ed.action);
    const end = ed.offset + ed.bytes.length;
    for (const h of st.held) {
      if (h.dir !== ed.dir || h.dropped || h.payloadLength === 0) continue;
      if (h.streamOffset >= end || h.streamOffset + h.payloadLength <= ed.offset) continue;
      const p = decodePacketAt(h.linkType, h.buffer, h.offset, h.offset + h.captureLength, this.scratch);
      if (p.kind !== PacketKind.TCP) continue;
      const before = h.modified ? h.inputChecksumOk : tcpChecksumOk(p);
      if (this.annotating) h.keepArrived();
      const n = applyStreamEdit(p, h.streamOffset, ed.offset, ed.bytes, this.checksumMode);
      if (n > 0) {
        if (!h.modified) h.inputChecksumOk = before;
        h.modified = true;
        if (this.annotating) h.note(`${ed.rule}: ${actionWord(ed.action)} ${n} byte(s) at ${dirName(ed.dir)} offset ${ed.offset}`);
      }
    }
  }

  /** @internal SessionEvents: a verdict from a connection's session. */
  sessionVerdict(st: ConnState, v: Verdict): void {
    if ((v.action === 'drop-connection' || v.action === 'reset') && st.dropRule === '') {
      st.dropRule = v.rule;
      st.dropDetail = v.detail;
    }
    const conn = st.conn;
    const pn = st.packetAt(v.dir, v.offset) ?? this.current?.packetNumber ?? (conn.lastPacketNumber ?? 0);
    const at = this.entryFor(st, pn);
    // Packet pn already written: its remembered time, and the note goes on the packet at hand.
    const written = at === null ? st.packetTimeAt(v.dir, v.offset) : null;
    const tsSec = at?.tsSec ?? written?.tsSec ?? this.lastTsSec;
    const tsNsec = at?.tsNsec ?? written?.tsNsec ?? this.lastTsNsec;
    // The firewall logs when it decides: a syslog line keeps the time at hand (lines stay in time order).
    for (const line of v.syslog) this.syslog(line, at?.tsSec ?? this.lastTsSec, at?.tsNsec ?? this.lastTsNsec);
    if (this.annotating) {
      const text = `${v.rule}: ${v.action}${v.detail ? ` (${v.detail})` : ''}`;
      if (at !== null) at.note(text);
      else if (this.current !== null && this.current.packetNumber !== pn) this.current.note(`${text} [on packet ${pn}, already written]`);
    }
    this.verdictAt(tsSec, tsNsec, pn, conn.client, conn.server, v.dir, v.rule, v.action, v.syslog.length > 0 ? v.syslog.join('\n') : null, v.detail);
  }

  /** The queued or current entry of packet `pn`, for its time and annotation. */
  private entryFor(st: ConnState, pn: number): QueueEntry | null {
    const c = this.current;
    if (c !== null && c.packetNumber === pn) return c;
    for (const h of st.held) if (h.packetNumber === pn) return h;
    return null;
  }

  // ------------------------------------------------------------------ outputs

  private syslog(line: string, tsSec: number, tsNsec: number): void {
    this.s.syslogLines++;
    this.out.syslog?.(line, tsSec, tsNsec);
  }

  private timeText(tsSec: number, tsNsec: number, interfaceIndex: number): string {
    const i = this.interfaces[interfaceIndex];
    const digits = i ? fractionDigits(i.tsResolutionBase, i.tsResolutionExponent) : 6;
    return this.isoTime.format(tsSec, tsNsec, digits);
  }

  private verdictRecord(e: QueueEntry, st: ConnState, dir: Direction | null, rule: string, action: VerdictRecordAction, syslog: string | null, detail: string): void {
    const client = st.conn.client;
    const server = st.conn.server;
    this.verdictAt(e.tsSec, e.tsNsec, e.packetNumber, client, server, dir, rule, action, syslog, detail, e.interfaceIndex);
  }

  private verdictAt(
    tsSec: number,
    tsNsec: number,
    packet: number,
    client: string,
    server: string,
    dir: Direction | null,
    rule: string,
    action: VerdictRecordAction,
    syslog: string | null,
    detail: string,
    interfaceIndex = 0,
  ): void {
    this.s.verdicts++;
    const sink = this.out.verdicts;
    if (!sink) return;
    const r: VerdictRecord = {
      time: this.timeText(tsSec, tsNsec, interfaceIndex),
      packet,
      client,
      server,
      direction: dir === null ? null : dirName(dir),
      rule,
      action,
      syslog,
      detail,
    };
    sink(r);
  }
}
