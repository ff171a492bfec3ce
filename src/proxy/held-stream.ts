/**
 * One direction of a proxied connection between "read from the sender" and "written to the
 * receiver": the bytes not forwarded yet, in the chunks they were read in, with their stream
 * offsets. The engine's same-length edits are applied here, and bytes are released only up to the
 * engine's committed offset, so an edit can never arrive for bytes already on their way.
 */

export interface HeldChunk {
  /** Global arrival number of the read that produced these bytes (orders the two directions). */
  read: number;
  /** Stream offset of buf[0]. */
  offset: number;
  buf: Buffer;
}

export class HeldStream {
  private chunks: HeldChunk[] = [];
  /** Stream offset of the first byte not yet released (everything below went to the receiver). */
  released = 0;
  /** Stream offset one past the last byte read. */
  received = 0;
  /** Edit bytes that targeted already-released data and so could not be applied. */
  lateEditBytes = 0;

  /** Takes ownership of `buf` (a fresh Buffer from the socket: it is kept, not copied). */
  push(read: number, buf: Buffer): HeldChunk {
    const chunk: HeldChunk = { read, offset: this.received, buf };
    this.chunks.push(chunk);
    this.received += buf.length;
    return chunk;
  }

  /** Overwrites held bytes [offset, offset + bytes.length) with `bytes`; the part already released is counted as late. */
  applyEdit(offset: number, bytes: Uint8Array): void {
    let start = offset;
    let srcIndex = 0;
    if (start < this.released) {
      const late = Math.min(this.released - start, bytes.length);
      this.lateEditBytes += late;
      start += late;
      srcIndex += late;
    }
    const end = offset + bytes.length;
    for (const c of this.chunks) {
      if (start >= end) break;
      const cEnd = c.offset + c.buf.length;
      if (cEnd <= start) continue;
      if (c.offset >= end) break;
      const from = start - c.offset;
      const n = Math.min(cEnd, end) - start;
      c.buf.set(bytes.subarray(srcIndex, srcIndex + n), from);
      start += n;
      srcIndex += n;
    }
  }

  /** Removes and returns the held bytes below `upTo` (clamped to what was received), in order. */
  release(upTo: number): Buffer[] {
    const limit = Math.min(upTo, this.received);
    const out: Buffer[] = [];
    while (this.released < limit) {
      const c = this.chunks[0];
      if (!c) break;
      const cEnd = c.offset + c.buf.length;
      const skip = this.released - c.offset;
      if (cEnd <= limit) {
        out.push(skip > 0 ? c.buf.subarray(skip) : c.buf);
        this.chunks.shift();
        this.released = cEnd;
      } else {
        out.push(c.buf.subarray(skip, limit - c.offset));
        this.released = limit;
      }
    }
    return out;
  }

  /** Releases the whole chunks that arrived before read number `beforeRead` and do not reach `stopOffset`. */
  releaseBefore(beforeRead: number, stopOffset: number): Buffer[] {
    let upTo = this.released;
    for (const c of this.chunks) {
      if (c.read >= beforeRead || c.offset + c.buf.length > stopOffset) break;
      upTo = c.offset + c.buf.length;
    }
    return this.release(upTo);
  }

  /** The chunk holding stream offset `offset`, if still held. */
  chunkAt(offset: number): HeldChunk | undefined {
    return this.chunks.find((c) => offset >= c.offset && offset < c.offset + c.buf.length);
  }

  /** Throws away everything still held (drop/reset). Returns the number of bytes discarded. */
  discard(): number {
    const n = this.received - this.released;
    this.chunks = [];
    this.released = this.received;
    return n;
  }

  get heldBytes(): number {
    return this.received - this.released;
  }
}
