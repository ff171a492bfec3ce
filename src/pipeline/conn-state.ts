/**
 * What the pipeline keeps per connection (in Connection.state): the policy decision, the
 * inspector session, the edits made so far, the packets of this connection still in the hold-back
 * queue, and what a reset needs (header templates, sequence numbers). Allocated once per
 * connection; the per-direction pieces are created only when first needed.
 */
import type { ConnectionMeta, Direction, HalfStreamStats } from '../flow/types.js';
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

/** Where some stream bytes came from, so a verdict at a stream offset names its packet. */
export interface Delivery {
  offset: number;
  end: number;
  packetNumber: number;
}

const DELIVERIES_KEPT = 16;

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
  /** Recent in-order deliveries per direction (ring), for mapping verdict offsets to packets. */
  readonly deliveries: [Delivery[], Delivery[]] = [[], []];
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
    const ring = this.deliveries[dir];
    const last = ring[ring.length - 1];
    if (last && last.packetNumber === packetNumber && last.end === offset) {
      last.end = offset + length;
      return;
    }
    if (ring.length >= DELIVERIES_KEPT) ring.shift();
    ring.push({ offset, end: offset + length, packetNumber });
  }

  /** The packet that carried stream byte `offset` of `dir`, if still remembered. */
  packetAt(dir: Direction, offset: number): number | null {
    const ring = this.deliveries[dir];
    for (let i = ring.length - 1; i >= 0; i--) {
      const d = ring[i]!;
      if (d.offset <= offset && offset < d.end) return d.packetNumber;
    }
    // A zero-length verdict position (end of stream) maps to the last delivery that reached it.
    for (let i = ring.length - 1; i >= 0; i--) {
      const d = ring[i]!;
      if (d.end === offset) return d.packetNumber;
    }
    return null;
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
