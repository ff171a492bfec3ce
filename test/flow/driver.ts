/** Drives a FlowTable with synthetic segments of one connection, relative to chosen ISNs. */
import { FlowTable, PacketFlowResult, type FlowOptions } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection, type SegmentOptions } from '../../src/flow/synthetic.js';
import type { Direction } from '../../src/flow/types.js';
import { Recorder } from './recorder.js';

export interface SendResult {
  status: number;
  offset: number;
  delivered: number;
  overlapOffset: number;
  overlapLength: number;
  connId: number;
}

export class Driver {
  readonly rec = new Recorder();
  readonly table: FlowTable;
  readonly conn: SyntheticConnection;
  readonly result = new PacketFlowResult();
  packet = 0;
  time = 1_700_000_000;

  constructor(
    readonly isnC: number,
    readonly isnS: number,
    options: Partial<FlowOptions> = {},
    conn = new SyntheticConnection('10.0.0.1', 40000, '10.0.0.2', 25),
  ) {
    this.table = new FlowTable(this.rec, options);
    this.conn = conn;
  }

  raw(dir: Direction, seq: number, payload: Buffer | string = '', opt: SegmentOptions = {}): SendResult {
    this.packet++;
    this.table.process(this.conn.segment(dir, seq, payload, opt), this.packet, Math.floor(this.time), Math.round((this.time % 1) * 1e9), this.result);
    const r = this.result;
    return { status: r.status, offset: r.streamOffset, delivered: r.deliveredLength, overlapOffset: r.overlapDifferentOffset, overlapLength: r.overlapDifferentLength, connId: r.conn?.id ?? 0 };
  }

  /** Client SYN, server SYN-ACK, client ACK. */
  handshake(): void {
    this.raw(0, this.isnC, '', { flags: F.SYN });
    this.raw(1, this.isnS, '', { flags: F.SYN | F.ACK, ack: this.isnC + 1 });
    this.raw(0, this.isnC + 1, '', { flags: F.ACK, ack: this.isnS + 1 });
  }

  /** Data at stream offset `rel` of direction `dir` (the sequence number wraps as it must). */
  data(dir: Direction, rel: number, payload: Buffer | string, opt: SegmentOptions = {}): SendResult {
    const isn = dir === 0 ? this.isnC : this.isnS;
    const peerIsn = dir === 0 ? this.isnS : this.isnC;
    return this.raw(dir, isn + 1 + rel, payload, { ack: peerIsn + 1, ...opt });
  }

  /** A pure ACK from `dir` acknowledging the peer's stream up to offset `rel`. */
  ackTo(dir: Direction, rel: number, ownRel = 0): SendResult {
    const isn = dir === 0 ? this.isnC : this.isnS;
    const peerIsn = dir === 0 ? this.isnS : this.isnC;
    return this.raw(dir, isn + 1 + ownRel, '', { ack: peerIsn + 1 + rel });
  }
}

export const ISNS = [0, 1, 0xffffffff, 0xffffffff - 10] as const;
