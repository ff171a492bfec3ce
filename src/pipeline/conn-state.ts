/**
 * What the pipeline keeps per connection (in Connection.state): the policy decision, the
 * inspector session, the edits made so far, the packets of this connection still in the hold-back
 * queue, and what a reset needs (header templates, sequence numbers). Allocated once per
 * connection; the per-direction pieces are created only when first needed.
 */
import type { ConnectionMeta, Direction, HalfStreamStats } from '../flow/types.js';
import type { InspectCounters } from '../inspect/counters.js';
import type { Edit, InspectionSink, InspectorSession, SessionContext, Verdict } from '../inspect/types.js';
import type { ClassDecision } from '../policy/types.js';
import { EditHistory } from '../rewrite/edit-history.js';
import type { HeaderTemplate } from '../rewrite/rst.js';
import type { QueueEntry } from './queue-entry.js';

/** Header template of one direction (for synthesised RSTs) and the interface it was seen on. */
export interface ConnTemplate {
  t: HeaderTemplate;
  interfaceIndex: number;
}

/** Where a connection's session events go (the pipeline). */
export interface SessionEvents {
  sessionEdit(st: ConnState, ed: Edit): void;
  sessionVerdict(st: ConnState, v: Verdict): void;
}

/** The empty held list shared by every connection until it holds a packet (never written to). */
const NO_HELD: readonly QueueEntry[] = Object.freeze([]);

export const ConnKind = {
  /** Inspected by an `inspect esmtp` class. */
  INSPECT: 0,
  /** No inspecting class selects it: passes untouched. */
  EXEMPT: 1,
  /** Refused by a connection limit: every packet dropped. */
  DENIED: 2,
} as const;
export type ConnKind = (typeof ConnKind)[keyof typeof ConnKind];

/**
 * A connection's ASA interfaces: the fixed --client-interface / --server-interface pair, or the
 * pair the config's interfaces and routes give its addresses (src/pipeline/interface-ends.ts).
 */
export interface ConnInterfaces {
  readonly client: string;
  readonly server: string;
  /** 302013's `Built outbound` (the client is on the higher security level), else inbound. */
  readonly outbound: boolean;
  /**
   * With security levels from the config that differ: the end on the higher level, the one whose
   * RST 302014 calls `TCP Reset-I` (from the inside), as `Built outbound` is from inside. Absent
   * (the fixed pair, equal levels): the end on the interface named `inside`.
   */
  readonly insideEnd?: 'client' | 'server';
}

/** The fixed pair when no option or config names others: clients outside, servers inside. */
export const DEFAULT_INTERFACES: ConnInterfaces = Object.freeze({ client: 'outside', server: 'inside', outbound: false });

/** Delivery rings of closed connections, reused by new ones (no backing store per connection). */
const SPARE_RINGS: Float64Array[] = [];
const MAX_SPARE_RINGS = 1024;

/**
 * Recent in-order deliveries remembered per direction (offset, end, packet number, and the
 * packet's capture time — seconds, nanoseconds — or NaN when it was not the packet being processed).
 */
const DELIVERIES_KEPT = 16;
const D_FIELDS = 5;

/** The connection's state is also its session's sink: no closures per connection. */
export class ConnState implements InspectionSink {
  readonly kind: ConnKind;
  readonly decision: ClassDecision | null;
  /** The flow layer's connection (meta data and per-direction statistics). */
  readonly conn: ConnectionMeta & { readonly stats: readonly [HalfStreamStats, HalfStreamStats] };
  session: InspectorSession | null = null;
  /** Receiver of the session's edits and verdicts (set with the session). */
  events: SessionEvents | null = null;
  ctx: SessionContext | null = null;
  /** Edits per direction (lazily created). Scalar fields, not arrays: a lingering connection stays small. */
  private edits0: EditHistory | null = null;
  private edits1: EditHistory | null = null;
  /** This connection's entries in the hold-back queue, in queue order (shared empty list until the first). */
  held: readonly QueueEntry[] = NO_HELD;
  /**
   * Recent in-order deliveries per direction, for mapping verdict offsets to packets: a ring of
   * (offset, end, packetNumber) triples per direction in one typed array, made on the first
   * delivery and released when the connection closes (nothing allocated per packet).
   */
  private deliveries: Float64Array | null = null;
  private dHead0 = 0;
  private dHead1 = 0;
  private dCount0 = 0;
  private dCount1 = 0;
  /** This class's `show service-policy` counters (looked up once, counted per packet). */
  counters: InspectCounters | null = null;
  /** Headers of a packet of each direction, for synthesised RSTs. */
  private tmpl0: ConnTemplate | null = null;
  private tmpl1: ConnTemplate | null = null;
  /** Next sequence number each side will send, as tracked from its packets (for RSTs). */
  private nextSeq0 = 0;
  private nextSeq1 = 0;

  packets = 0;
  /** The session reached 'dropped'/'reset' and the pipeline has acted on it. */
  dropHandled = false;
  dropped = false;
  /** First packet number left out because of the drop. */
  dropFromPacket = Number.MAX_SAFE_INTEGER;
  dropRule = '';
  dropAction: 'drop-connection' | 'reset' = 'drop-connection';
  dropDetail = '';
  /** 302014 (or an equivalent end) has been written. */
  /** Its interfaces (set at open; the fixed default pair until then). */
  ifs: ConnInterfaces = DEFAULT_INTERFACES;
  tornDown = false;
  closed = false;
  /** Direction of the last RST seen (for the 302014 reason), or -1. */
  rstDir: Direction | -1 = -1;
  /** Still embryonic in the connection-limit accounting. */
  embryonic = true;
  /** Keys in the connection-limit tables, or null when no limit applies. */
  limitClassKey: string | null = null;
  limitClientKey: string | null = null;
  /** Why a DENIED connection was refused (rule text and the syslog line for its first packet). */
  denyRule = '';
  denySyslog: string | null = null;

  constructor(kind: ConnKind, decision: ClassDecision | null, conn: ConnectionMeta & { readonly stats: readonly [HalfStreamStats, HalfStreamStats] }) {
    this.kind = kind;
    this.conn = conn;
    this.decision = decision;
  }

  edit(ed: Edit): void {
    this.events?.sessionEdit(this, ed);
  }

  verdict(v: Verdict): void {
    this.events?.sessionVerdict(this, v);
  }

  /** The edit history of `dir`, or null while nothing was edited there. */
  historyOf(dir: Direction): EditHistory | null {
    return dir === 0 ? this.edits0 : this.edits1;
  }

  editHistory(dir: Direction): EditHistory {
    let h = dir === 0 ? this.edits0 : this.edits1;
    if (h === null) {
      h = new EditHistory();
      if (dir === 0) this.edits0 = h;
      else this.edits1 = h;
    }
    return h;
  }

  templateOf(dir: Direction): ConnTemplate | null {
    return dir === 0 ? this.tmpl0 : this.tmpl1;
  }

  setTemplate(dir: Direction, t: ConnTemplate): void {
    if (dir === 0) this.tmpl0 = t;
    else this.tmpl1 = t;
  }

  nextSeqOf(dir: Direction): number {
    return dir === 0 ? this.nextSeq0 : this.nextSeq1;
  }

  setNextSeq(dir: Direction, seq: number): void {
    if (dir === 0) this.nextSeq0 = seq;
    else this.nextSeq1 = seq;
  }

  addHeld(e: QueueEntry): void {
    if (this.held === NO_HELD) this.held = [e];
    else (this.held as QueueEntry[]).push(e);
  }

  recordDelivery(dir: Direction, offset: number, length: number, packetNumber: number, tsSec: number, tsNsec: number): void {
    let d = this.deliveries;
    if (d === null) {
      // Only the first dCount entries of a ring are ever read, so a recycled ring needs no clearing.
      d = SPARE_RINGS.pop() ?? new Float64Array(2 * DELIVERIES_KEPT * D_FIELDS);
      this.deliveries = d;
    }
    const base = dir * DELIVERIES_KEPT;
    const n = dir === 0 ? this.dCount0 : this.dCount1;
    const head = dir === 0 ? this.dHead0 : this.dHead1;
    if (n > 0) {
      const last = (base + ((head + n - 1) % DELIVERIES_KEPT)) * D_FIELDS;
      if (d[last + 2] === packetNumber && d[last + 1] === offset) {
        d[last + 1] = offset + length;
        return;
      }
    }
    let slot: number;
    if (n === DELIVERIES_KEPT) {
      slot = head;
      if (dir === 0) this.dHead0 = (slot + 1) % DELIVERIES_KEPT;
      else this.dHead1 = (slot + 1) % DELIVERIES_KEPT;
    } else {
      slot = (head + n) % DELIVERIES_KEPT;
      if (dir === 0) this.dCount0 = n + 1;
      else this.dCount1 = n + 1;
    }
    const at = (base + slot) * D_FIELDS;
    d[at] = offset;
    d[at + 1] = offset + length;
    d[at + 2] = packetNumber;
    d[at + 3] = tsSec;
    d[at + 4] = tsNsec;
  }

  /** The packet that carried stream byte `offset` of `dir`, if still remembered. */
  packetAt(dir: Direction, offset: number): number | null {
    const at = this.deliveryAt(dir, offset);
    return at < 0 ? null : this.deliveries![at + 2]!;
  }

  /**
   * The capture time of that packet, if remembered (a verdict on bytes of a packet already written
   * is stamped with that packet's time, so `time` and `packet` name the same frame).
   */
  packetTimeAt(dir: Direction, offset: number): { tsSec: number; tsNsec: number } | null {
    const at = this.deliveryAt(dir, offset);
    if (at < 0) return null;
    const d = this.deliveries!;
    const tsSec = d[at + 3]!;
    return Number.isNaN(tsSec) ? null : { tsSec, tsNsec: d[at + 4]! };
  }

  private deliveryAt(dir: Direction, offset: number): number {
    const d = this.deliveries;
    if (d === null) return -1;
    const base = dir * DELIVERIES_KEPT;
    const head = dir === 0 ? this.dHead0 : this.dHead1;
    const n = dir === 0 ? this.dCount0 : this.dCount1;
    for (let i = n - 1; i >= 0; i--) {
      const at = (base + ((head + i) % DELIVERIES_KEPT)) * D_FIELDS;
      if (d[at]! <= offset && offset < d[at + 1]!) return at;
    }
    // A zero-length verdict position (end of stream) maps to the last delivery that reached it.
    for (let i = n - 1; i >= 0; i--) {
      const at = (base + ((head + i) % DELIVERIES_KEPT)) * D_FIELDS;
      if (d[at + 1] === offset) return at;
    }
    return -1;
  }

  /**
   * The connection closed and its session has been flushed: let go of what only a live session
   * needs (the session and its buffers, the delivery rings, the RST templates), so connections
   * lingering in the flow table for late packets cost a few hundred bytes, not kilobytes. The
   * edit histories stay: a late retransmission still gets the edits.
   */
  releaseSession(): void {
    this.session?.release?.();
    this.session = null;
    this.ctx = null;
    if (this.deliveries !== null && SPARE_RINGS.length < MAX_SPARE_RINGS) SPARE_RINGS.push(this.deliveries);
    this.deliveries = null;
    this.dCount0 = this.dCount1 = 0;
    this.tmpl0 = null;
    this.tmpl1 = null;
  }

  removeHeld(e: QueueEntry): void {
    const held = this.held as QueueEntry[];
    if (held[0] === e) {
      held.shift();
      return;
    }
    const i = held.indexOf(e);
    if (i >= 0) held.splice(i, 1);
  }
}
