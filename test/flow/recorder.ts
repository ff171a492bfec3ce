/** A StreamListener that records every event, and rebuilds each direction's bytes (gaps as zeros). */
import type { Connection } from '../../src/flow/connection.js';
import type { CloseReason, Direction, StreamListener } from '../../src/flow/types.js';

export type FlowEvent =
  | { kind: 'open'; id: number }
  | { kind: 'established'; id: number }
  | { kind: 'data'; id: number; dir: Direction; offset: number; text: string; packet: number }
  | { kind: 'gap'; id: number; dir: Direction; offset: number; length: number }
  | { kind: 'close'; id: number; reason: CloseReason }
  | { kind: 'discard'; id: number; dir: Direction; offset: number; length: number; packet: number; reason: string };

export class Recorder implements StreamListener<Connection> {
  events: FlowEvent[] = [];
  /** Per connection id and direction: chunks as delivered. */
  chunks = new Map<number, [Buffer[], Buffer[]]>();
  /** Next expected offset per connection/direction, to assert offsets are contiguous. */
  private expect = new Map<number, [number, number]>();

  onOpen(conn: Connection): void {
    this.events.push({ kind: 'open', id: conn.id });
    this.chunks.set(conn.id, [[], []]);
    this.expect.set(conn.id, [0, 0]);
  }
  onEstablished(conn: Connection): void {
    this.events.push({ kind: 'established', id: conn.id });
  }
  onData(conn: Connection, dir: Direction, data: Buffer, offset: number, packetNumber: number): void {
    this.check(conn.id, dir, offset, data.length);
    this.events.push({ kind: 'data', id: conn.id, dir, offset, text: data.toString('latin1'), packet: packetNumber });
    this.chunks.get(conn.id)![dir].push(Buffer.from(data));
  }
  onGap(conn: Connection, dir: Direction, offset: number, length: number): void {
    this.check(conn.id, dir, offset, length);
    this.events.push({ kind: 'gap', id: conn.id, dir, offset, length });
    this.chunks.get(conn.id)![dir].push(Buffer.alloc(length));
  }
  onClose(conn: Connection, reason: CloseReason): void {
    this.events.push({ kind: 'close', id: conn.id, reason });
  }
  onDiscard(conn: Connection, dir: Direction, offset: number, length: number, packet: number, reason: string): void {
    this.events.push({ kind: 'discard', id: conn.id, dir, offset, length, packet, reason });
  }

  private check(id: number, dir: Direction, offset: number, length: number): void {
    const e = this.expect.get(id)!;
    if (e[dir] !== offset) throw new Error(`conn ${id} dir ${dir}: event at offset ${offset}, expected ${e[dir]}`);
    if (length <= 0) throw new Error(`conn ${id} dir ${dir}: empty event at ${offset}`);
    e[dir] += length;
  }

  /** Delivered stream of one direction, gaps as zero bytes. */
  stream(id: number, dir: Direction): Buffer {
    return Buffer.concat(this.chunks.get(id)?.[dir] ?? []);
  }
  text(id: number, dir: Direction): string {
    return this.stream(id, dir).toString('latin1');
  }
  gaps(id: number, dir: Direction): [number, number][] {
    return this.events.filter((e): e is Extract<FlowEvent, { kind: 'gap' }> => e.kind === 'gap' && e.id === id && e.dir === dir).map((e) => [e.offset, e.length]);
  }
  dataEvents(id: number, dir: Direction): Extract<FlowEvent, { kind: 'data' }>[] {
    return this.events.filter((e): e is Extract<FlowEvent, { kind: 'data' }> => e.kind === 'data' && e.id === id && e.dir === dir);
  }
}
