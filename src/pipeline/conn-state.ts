/**
 * What the pipeline keeps per connection (in Connection.state): the policy decision, the
 * inspector session, the edits made so far, the packets of this connection still in the hold-back
 * queue, and what a reset needs (header templates, sequence numbers). Allocated once per
 * connection; the per-direction pieces are created only when first needed.
 */
import type { ConnectionMeta, Direction, HalfStreamStats } from '../flow/types.js';
import type { InspectCounters } from '../inspect/counters.js';
import type { InspectorSession, SessionContext } from '../inspect/types.js';
import type { ClassDecision } from '../policy/types.js';
import { EditHistory } from '../rewrite/edit-history.js';
import type { HeaderTemplate } from '../rewrite/rst.js';
import type { QueueEntry } from './queue-entry.js';

export const ConnKind = {
  /** Inspected by an `inspect esmtp` class. */
  INSPECT: 0,
  /** No inspecting class selects it: passes untouched. */
  EXEMPT: 1,
  /** Refused by a connection limit: every packet dropped. */
  DENIED: 2,
} as const;
export type ConnKind = (typeof ConnKind)[keyof typeof ConnKind];

/** Recent in-order deliveries remembered per direction (offset, end, packet number each). */
const DELIVERIES_KEPT = 16;
const D_FIELDS = 3;

export class ConnState {
  readonly kind: ConnKind;
  readonly decision: ClassDecision | null;
  /** The flow layer's connection (meta data and per-direction statistics). */
  readonly conn: ConnectionMeta & { readonly stats: readonly [HalfStreamStats, HalfStreamStats] };
  session: InspectorSession | null = null;
  ctx: SessionContext | null = null;
  /** Edits per direction (lazily created). */
  readonly edits: [EditHistory | null, EditHistory | null] = [null, null];
  /** This connection's entries in the hold-back queue, in queue order. */
  readonly held: QueueEntry[] = [];
  /**
   * Recent in-order deliveries per direction, for mapping verdict offsets to packets: a ring of
   * (offset, end, packetNumber) triples per direction in one typed array, made on the first
   * delivery and released when the connection closes (nothing allocated per packet).
   */
  private deliveries: Float64Array | null = null;
  private readonly dHead: [number, number] = [0, 0];
  private readonly dCount: [number, number] = [0, 0];
  /** This class's `show service-policy` counters (looked up once, counted per packet). */
  counters: InspectCounters | null = null;
  /** Headers of a packet of each direction, for synthesised RSTs. */
  readonly templates: [{ t: HeaderTemplate; interfaceIndex: number } | null, { t: HeaderTemplate; interfaceIndex: number } | null] = [null, null];
  /** Next sequence number each side will send, as tracked from its packets (for RSTs). */
  readonly nextSeq: [number, number] = [0, 0];
  readonly seqSeen: [boolean, boolean] = [false, false];

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

  editHistory(dir: Direction): EditHistory {
    let h = this.edits[dir];
    if (h === null) {
      h = new EditHistory();
      this.edits[dir] = h;
    }
    return h;
  }

  recordDelivery(dir: Direction, offset: number, length: number, packetNumber: number): void {
    let d = this.deliveries;
    if (d === null) {
      d = new Float64Array(2 * DELIVERIES_KEPT * D_FIELDS);
      this.deliveries = d;
    }
    const base = dir * DELIVERIES_KEPT;
    const n = this.dCount[dir];
    if (n > 0) {
      const last = (base + ((this.dHead[dir] + n - 1) % DELIVERIES_KEPT)) * D_FIELDS;
      if (d[last + 2] === packetNumber && d[last + 1] === offset) {
        d[last + 1] = offset + length;
        return;
      }
    }
    let slot: number;
    if (n === DELIVERIES_KEPT) {
      slot = this.dHead[dir];
      this.dHead[dir] = (slot + 1) % DELIVERIES_KEPT;
    } else {
      slot = (this.dHead[dir] + n) % DELIVERIES_KEPT;
      this.dCount[dir] = n + 1;
    }
    const at = (base + slot) * D_FIELDS;
    d[at] = offset;
    d[at + 1] = offset + length;
    d[at + 2] = packetNumber;
  }

  /** The packet that carried stream byte `offset` of `dir`, if still remembered. */
  packetAt(dir: Direction, offset: number): number | null {
    const d = this.deliveries;
    if (d === null) return null;
    const base = dir * DELIVERIES_KEPT;
    const head = this.dHead[dir];
    const n = this.dCount[dir];
    for (let i = n - 1; i >= 0; i--) {
      const at = (base + ((head + i) % DELIVERIES_KEPT)) * D_FIELDS;
      if (d[at]! <= offset && offset < d[at + 1]!) return d[at + 2]!;
    }
    // A zero-length verdict position (end of stream) maps to the last delivery that reached it.
    for (let i = n - 1; i >= 0; i--) {
      const at = (base + ((head + i) % DELIVERIES_KEPT)) * D_FIELDS;
      if (d[at + 1] === offset) return d[at + 2]!;
    }
    return null;
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
    this.deliveries = null;
    this.dCount[0] = this.dCount[1] = 0;
    this.templates[0] = null;
    this.templates[1] = null;
  }

  removeHeld(e: QueueEntry): void {
    if (this.held[0] === e) {
      this.held.shift();
      return;
    }
    const i = this.held.indexOf(e);
    if (i >= 0) this.held.splice(i, 1);
  }
}
