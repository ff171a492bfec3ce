/**
 * The edits made to one direction of a connection, kept so every packet that carried (or will
 * carry again, as a retransmission) the edited bytes gets the same edit. Bounded: the oldest edits
 * are forgotten first, which only matters for a retransmission of bytes older than the last
 * `limit` edits (counted as `forgotten`).
 */
export interface StoredEdit {
  offset: number;
  bytes: Buffer;
  rule: string;
  action: string;
}

export const DEFAULT_EDIT_HISTORY = 256;

export class EditHistory {
  private edits: StoredEdit[] = [];
  /** Highest end offset of any edit kept: a packet entirely beyond it needs no look-up. */
  maxEnd = 0;
  /** Lowest offset still covered by the history (older edits were dropped). */
  forgottenBelow = 0;
  forgotten = 0;

  constructor(private readonly limit = DEFAULT_EDIT_HISTORY) {}

  get size(): number {
    return this.edits.length;
  }

  add(edit: StoredEdit): void {
    this.edits.push(edit);
    const end = edit.offset + edit.bytes.length;
    if (end > this.maxEnd) this.maxEnd = end;
    if (this.edits.length > this.limit) {
      const old = this.edits.shift();
      this.forgotten++;
      if (old) this.forgottenBelow = Math.max(this.forgottenBelow, old.offset + old.bytes.length);
    }
  }

  /** Calls `fn` for each kept edit overlapping stream range [start, end), oldest first. */
  forEachOverlapping(start: number, end: number, fn: (e: StoredEdit) => void): void {
    if (this.edits.length === 0 || start >= this.maxEnd || end <= start) return;
    for (const e of this.edits) {
      if (e.offset < end && e.offset + e.bytes.length > start) fn(e);
    }
  }
}
