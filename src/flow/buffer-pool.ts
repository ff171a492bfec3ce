/**
 * Recycles the retransmission-check history buffers. A history empties every time the peer ACKs
 * everything (each command/reply turn), so without recycling every turn would allocate a fresh
 * Buffer outside the JS heap — the main cost of reassembly in profiles. Buffers come in
 * power-of-two sizes; at most `maxPooledBytes` wait here (a fixed, small amount).
 */
export class BufferPool {
  private readonly classes = new Map<number, Buffer[]>();
  private pooled = 0;

  constructor(
    private readonly minSize: number,
    private readonly maxSize: number,
    private readonly maxPooledBytes: number,
  ) {}

  /** The size class a request of `n` bytes gets (power of two, within [minSize, maxSize]). */
  sizeFor(n: number): number {
    let s = this.minSize;
    while (s < n && s < this.maxSize) s *= 2;
    return Math.min(s, this.maxSize);
  }

  take(size: number): Buffer {
    const list = this.classes.get(size);
    const b = list?.pop();
    if (b !== undefined) {
      this.pooled -= size;
      return b;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  give(buf: Buffer): void {
    const size = buf.length;
    if (this.pooled + size > this.maxPooledBytes || size !== this.sizeFor(size)) return;
    let list = this.classes.get(size);
    if (list === undefined) {
      list = [];
      this.classes.set(size, list);
    }
    list.push(buf);
    this.pooled += size;
  }

  get pooledBytes(): number {
    return this.pooled;
  }
}
