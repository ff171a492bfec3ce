/**
 * The edits made to one direction of a connection, kept so every packet that carried (or will
 * carry again, as a retransmission) the edited bytes gets the same edit. Bounded: the oldest edits
 * are forgotten first, which only matters for a retransmission of bytes older than the last
 * `limit` edits (counted as `forgotten`).
 *
 * Stored as a ring in ONE plain array (five slots per edit: offset, end, bytes, rule, action) and
 * read by index, so the per-packet look-up allocates nothing and a connection's history is one
 * small object plus one array: histories outlive their connection by the flow table's linger time,
 * so their size is what lingering connections cost. An edit whose bytes are all one value (X's,
 * banner stars: nearly all of them) is kept as that value, not as a Buffer; `bytes(i)` hands out a
 * view of a shared, read-only fill buffer for it. A packet beyond every kept edit (the common case)
 * costs one comparison.
 */
export interface StoredEdit {
  offset: number;
  bytes: Buffer;
  rule: string;
  action: string;
}

export const DEFAULT_EDIT_HISTORY = 256;

const INITIAL_CAPACITY = 4;
const STRIDE = 5;
const F_OFFSET = 0;
const F_END = 1;
const F_BYTES = 2;
const F_RULE = 3;
const F_ACTION = 4;

/** Shared fill buffers by byte value (read-only: callers never write into edit bytes). */
const FILL_BYTES = 4096;
const fills: (Buffer | undefined)[] = [];

function fillView(value: number, length: number): Buffer {
  if (length > FILL_BYTES) return Buffer.alloc(length, value);
  let f = fills[value];
  if (f === undefined) {
    f = Buffer.alloc(FILL_BYTES, value);
    fills[value] = f;
  }
  return f.subarray(0, length);
}

/** The single value every byte has, or -1 (and -1 for an empty edit). */
function uniformValue(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n === 0) return -1;
  const v = bytes[0]!;
  for (let i = 1; i < n; i++) if (bytes[i] !== v) return -1;
  return v;
}

export class EditHistory {
  /** Ring of STRIDE-slot records; capacity = slots.length / STRIDE. */
  private slots: (number | string | Buffer)[] = new Array<number | string | Buffer>(INITIAL_CAPACITY * STRIDE).fill(0);
  /** Ring position of the oldest edit, and the number kept. */
  private head = 0;
  private n = 0;
  /** Highest end offset of any edit kept: a packet entirely beyond it needs no look-up. */
  maxEnd = 0;
  /** Lowest offset still covered by the history (older edits were dropped). */
  forgottenBelow = 0;
  forgotten = 0;

  private readonly limit: number;

  constructor(limit = DEFAULT_EDIT_HISTORY) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  get size(): number {
    return this.n;
  }

  private get cap(): number {
    return this.slots.length / STRIDE;
  }

  add(edit: StoredEdit): void {
    this.push(edit.offset, edit.bytes.length, edit.bytes, edit.rule, edit.action);
  }

  /**
   * Adds an edit whose bytes are only valid during the call: a uniform edit is kept as its value,
   * any other is copied.
   */
  addCopy(offset: number, bytes: Uint8Array, rule: string, action: string): void {
    const v = uniformValue(bytes);
    this.push(offset, bytes.length, v >= 0 ? v : Buffer.from(bytes), rule, action);
  }

  private push(offset: number, length: number, bytes: Buffer | number, rule: string, action: string): void {
    if (this.n === this.limit) {
      // Forget the oldest: its slot becomes the newest.
      const old = this.head * STRIDE;
      this.forgotten++;
      this.forgottenBelow = Math.max(this.forgottenBelow, this.slots[old + F_END] as number);
      this.head = (this.head + 1) % this.cap;
      this.n--;
    } else if (this.n === this.cap) {
      this.grow();
    }
    const at = ((this.head + this.n) % this.cap) * STRIDE;
    const end = offset + length;
    const s = this.slots;
    s[at + F_OFFSET] = offset;
    s[at + F_END] = end;
    s[at + F_BYTES] = bytes;
    s[at + F_RULE] = rule;
    s[at + F_ACTION] = action;
    this.n++;
    if (end > this.maxEnd) this.maxEnd = end;
  }

  /** Could any kept edit overlap stream range [start, end)? (cheap pre-check) */
  mayOverlap(start: number, end: number): boolean {
    return this.n > 0 && start < this.maxEnd && start < end;
  }

  /**
   * Index (0 = oldest) of the first kept edit at or after `from` that overlaps [start, end), or
   * -1. Iterate with `for (let i = h.next(s, e, 0); i >= 0; i = h.next(s, e, i + 1))`.
   */
  next(start: number, end: number, from: number): number {
    const cap = this.cap;
    const s = this.slots;
    for (let i = from; i < this.n; i++) {
      const at = ((this.head + i) % cap) * STRIDE;
      if ((s[at + F_OFFSET] as number) < end && (s[at + F_END] as number) > start) return i;
    }
    return -1;
  }

  private at(i: number): number {
    return ((this.head + i) % this.cap) * STRIDE;
  }

  offset(i: number): number {
    return this.slots[this.at(i) + F_OFFSET] as number;
  }

  /** The edit's bytes (read-only: a view of a shared fill buffer for a uniform edit). */
  bytes(i: number): Buffer {
    const at = this.at(i);
    const b = this.slots[at + F_BYTES]!;
    if (typeof b !== 'number') return b as Buffer;
    return fillView(b, (this.slots[at + F_END] as number) - (this.slots[at + F_OFFSET] as number));
  }

  rule(i: number): string {
    return this.slots[this.at(i) + F_RULE] as string;
  }

  action(i: number): string {
    return this.slots[this.at(i) + F_ACTION] as string;
  }

  /** Calls `fn` for each kept edit overlapping stream range [start, end), oldest first (tests, tools). */
  forEachOverlapping(start: number, end: number, fn: (e: StoredEdit) => void): void {
    if (!this.mayOverlap(start, end)) return;
    for (let i = this.next(start, end, 0); i >= 0; i = this.next(start, end, i + 1)) {
      fn({ offset: this.offset(i), bytes: this.bytes(i), rule: this.rule(i), action: this.action(i) });
    }
  }

  private grow(): void {
    const cap = Math.min(this.limit, this.cap * 2);
    const next = new Array<number | string | Buffer>(cap * STRIDE).fill(0);
    for (let i = 0; i < this.n; i++) {
      const from = this.at(i);
      for (let k = 0; k < STRIDE; k++) next[i * STRIDE + k] = this.slots[from + k]!;
    }
    this.slots = next;
    this.head = 0;
  }
}
