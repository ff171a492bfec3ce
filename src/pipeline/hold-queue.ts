/**
 * The hold-back queue: packets waiting (or waiting behind a packet) for the inspector's decision,
 * in input order. A ring of slots that grows to the largest backlog seen and is then reused, plus
 * a pool of spare entries whose byte stores are reused too, so a steady hold/release cycle
 * allocates nothing but a view per held packet.
 */
import type { CaptureBlock, CaptureRecord } from '../capture/types.js';
import { QueueEntry } from './queue-entry.js';

const INITIAL_SLOTS = 16;
/** Spare entries kept for reuse beyond this are left to the GC (after a burst). */
const MAX_SPARE = 1024;

export class HoldQueue {
  private slots: (QueueEntry | null)[] = new Array<QueueEntry | null>(INITIAL_SLOTS).fill(null);
  private head = 0;
  private n = 0;
  private readonly spare: QueueEntry[] = [];
  /** Bytes of packet data held, and of the packet-less input blocks held after them. */
  bytes = 0;
  /** Packet-less input blocks held after queued packets (QueueEntry.blocksAfter). */
  blocks = 0;

  get size(): number {
    return this.n;
  }

  /** The i-th entry from the head (0 = oldest). */
  at(i: number): QueueEntry {
    return this.slots[(this.head + i) & (this.slots.length - 1)]!;
  }

  peek(): QueueEntry | null {
    return this.n === 0 ? null : this.at(0);
  }

  push(e: QueueEntry): void {
    if (this.n === this.slots.length) this.grow();
    this.slots[(this.head + this.n) & (this.slots.length - 1)] = e;
    this.n++;
    this.bytes += e.captureLength;
  }

  shift(): QueueEntry | null {
    if (this.n === 0) return null;
    const mask = this.slots.length - 1;
    const e = this.slots[this.head]!;
    this.slots[this.head] = null;
    this.head = (this.head + 1) & mask;
    this.n--;
    this.bytes -= e.captureLength;
    const after = e.blocksAfter;
    if (after !== null) {
      this.blocks -= after.length;
      for (const b of after) this.bytes -= b.length;
    }
    return e;
  }

  /**
   * Holds an input block (a copy) after the newest queued packet, so it is written right after
   * it; it counts in `blocks` and `bytes` until that packet leaves the queue. The queue is not empty.
   */
  attachBlock(block: CaptureBlock): void {
    const tail = this.at(this.n - 1);
    (tail.blocksAfter ??= []).push(block);
    this.blocks++;
    this.bytes += block.length;
  }

  /** Position of `e` in the queue, or -1. */
  indexOf(e: QueueEntry): number {
    for (let i = 0; i < this.n; i++) if (this.at(i) === e) return i;
    return -1;
  }

  /** Inserts `items` right after position `i` (rare: RSTs after a held trigger). */
  insertAfter(i: number, items: readonly QueueEntry[]): void {
    for (const x of items) {
      if (this.n === this.slots.length) this.grow();
      const mask = this.slots.length - 1;
      // Move entries i+1.. one slot towards the tail.
      for (let j = this.n; j > i + 1; j--) this.slots[(this.head + j) & mask] = this.slots[(this.head + j - 1) & mask]!;
      this.slots[(this.head + i + 1) & mask] = x;
      this.n++;
      this.bytes += x.captureLength;
      i++;
    }
  }

  /** A queued copy of `src` (its bytes copied into a reused store unless it already owns them). */
  copyOf(src: QueueEntry): QueueEntry {
    const e = this.spare.pop() ?? new QueueEntry();
    e.copyFrom(src);
    return e;
  }

  /** Fresh or recycled entry for a packet the pipeline makes. */
  blank(): QueueEntry {
    const e = this.spare.pop() ?? new QueueEntry();
    e.load(EMPTY_RECORD);
    return e;
  }

  /** An entry that has been written and is referenced by nothing any more. */
  recycle(e: QueueEntry): void {
    if (this.spare.length < MAX_SPARE) {
      e.clearRefs();
      this.spare.push(e);
    }
  }

  private grow(): void {
    const old = this.slots;
    const next = new Array<QueueEntry | null>(old.length * 2).fill(null);
    for (let i = 0; i < this.n; i++) next[i] = old[(this.head + i) & (old.length - 1)]!;
    this.slots = next;
    this.head = 0;
  }
}

const EMPTY_RECORD: Pick<CaptureRecord, 'packetNumber' | 'interfaceIndex' | 'linkType' | 'tsSec' | 'tsNsec' | 'tsRawHigh' | 'tsRawLow' | 'originalLength' | 'buffer' | 'offset' | 'captureLength' | 'comments'> = {
  packetNumber: 0,
  interfaceIndex: 0,
  linkType: 0,
  tsSec: 0,
  tsNsec: 0,
  tsRawHigh: 0,
  tsRawLow: 0,
  originalLength: 0,
  buffer: Buffer.alloc(0),
  offset: 0,
  captureLength: 0,
  comments: null,
};
