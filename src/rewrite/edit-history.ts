/**
 * The edits made to one direction of a connection, kept so every packet that carried (or will
 * carry again, as a retransmission) the edited bytes gets the same edit. Bounded: the oldest edits
 * are forgotten first, which only matters for a retransmission of bytes older than the last
 * `limit` edits (counted as `forgotten`).
 *
 * Stored as a ring of parallel arrays (offsets in a Float64Array, the rest in slots reused as the
 * ring turns) and read by index, so the per-packet look-up allocates nothing: no closure, no
 * record object. A packet beyond every kept edit (the common case) costs one comparison.
 */
export interface StoredEdit {
  offset: number;
  bytes: Buffer;
  rule: string;
  action: string;
}

export const DEFAULT_EDIT_HISTORY = 256;

const INITIAL_CAPACITY = 4;

export class EditHistory {
  private offsets = new Float64Array(INITIAL_CAPACITY);
  private ends = new Float64Array(INITIAL_CAPACITY);
  private bytesAt: Buffer[] = [];
  private rules: string[] = [];
  private actions: string[] = [];
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

  add(edit: StoredEdit): void {
    if (this.n === this.limit) {
      // Forget the oldest: its slot becomes the newest.
      const old = this.head;
      this.forgotten++;
      this.forgottenBelow = Math.max(this.forgottenBelow, this.ends[old]!);
      this.head = (this.head + 1) % this.offsets.length;
      this.n--;
    } else if (this.n === this.offsets.length) {
      this.grow();
    }
    const at = (this.head + this.n) % this.offsets.length;
    const end = edit.offset + edit.bytes.length;
    this.offsets[at] = edit.offset;
    this.ends[at] = end;
    this.bytesAt[at] = edit.bytes;
    this.rules[at] = edit.rule;
    this.actions[at] = edit.action;
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
    const cap = this.offsets.length;
    for (let i = from; i < this.n; i++) {
      const at = (this.head + i) % cap;
      if (this.offsets[at]! < end && this.ends[at]! > start) return i;
    }
    return -1;
  }

  offset(i: number): number {
    return this.offsets[(this.head + i) % this.offsets.length]!;
  }

  bytes(i: number): Buffer {
    return this.bytesAt[(this.head + i) % this.offsets.length]!;
  }

  rule(i: number): string {
    return this.rules[(this.head + i) % this.offsets.length]!;
  }

  action(i: number): string {
    return this.actions[(this.head + i) % this.offsets.length]!;
  }

  /** Calls `fn` for each kept edit overlapping stream range [start, end), oldest first (tests, tools). */
  forEachOverlapping(start: number, end: number, fn: (e: StoredEdit) => void): void {
    if (!this.mayOverlap(start, end)) return;
    for (let i = this.next(start, end, 0); i >= 0; i = this.next(start, end, i + 1)) {
      fn({ offset: this.offset(i), bytes: this.bytes(i), rule: this.rule(i), action: this.action(i) });
    }
  }

  private grow(): void {
    const cap = Math.min(this.limit, this.offsets.length * 2);
    const offsets = new Float64Array(cap);
    const ends = new Float64Array(cap);
    const bytesAt: Buffer[] = [];
    const rules: string[] = [];
    const actions: string[] = [];
    for (let i = 0; i < this.n; i++) {
      const at = (this.head + i) % this.offsets.length;
      offsets[i] = this.offsets[at]!;
      ends[i] = this.ends[at]!;
      bytesAt.push(this.bytesAt[at]!);
      rules.push(this.rules[at]!);
      actions.push(this.actions[at]!);
    }
    this.offsets = offsets;
    this.ends = ends;
    this.bytesAt = bytesAt;
    this.rules = rules;
    this.actions = actions;
    this.head = 0;
  }
}
