/**
 * A buffered, synchronous byte sink for capture writers: a file path or '-' (stdout, fd 1).
 * Writers reserve room for one whole record, fill it and commit; the buffer is flushed only
 * between records, so an interrupted run leaves a capture that ends on a record boundary.
 */
import fs from 'node:fs';
import { OutputError } from '../errors.js';

export const OUTPUT_BUFFER_BYTES = 1024 * 1024;

/** Sleeps synchronously (for EAGAIN on a non-blocking pipe); no busy loop. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function errnoOf(err: unknown): string {
  return err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : '';
}

/** A run this long or longer is written straight from the reader's buffer; shorter ones are copied. */
const DIRECT_RUN_BYTES = 64 * 1024;

export class OutputSink {
  buf: Buffer = Buffer.allocUnsafe(OUTPUT_BUFFER_BYTES);
  /** DataView over `buf` (remade with it): writers set header fields without Buffer's checks. */
  view: DataView = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private len = 0;
  private readonly fd: number;
  private readonly dest: string;
  private failure: OutputError | null = null;
  private closed = false;

  constructor(dest: string) {
    this.dest = dest;
    if (dest === '-') {
      this.fd = 1;
    } else {
      try {
        this.fd = fs.openSync(dest, 'w');
      } catch (err) {
        throw new OutputError('E_OUTPUT', `cannot create output: ${err instanceof Error ? err.message : String(err)}`, { file: dest });
      }
    }
  }

  /** Offset in `buf` where `n` bytes of one record may be written; follow with commit(). */
  reserve(n: number): number {
    if (this.failure) throw this.failure;
    if (this.closed) throw new OutputError('E_OUTPUT', 'write after close', { file: this.dest });
    if (this.len + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) {
        // one oversized record: grow once
        this.buf = Buffer.allocUnsafe(n);
        this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      }
    }
    return this.len;
  }

  commit(n: number): void {
    this.len += n;
  }

  flush(): void {
    if (this.failure) throw this.failure;
    this.writeAll(this.buf, 0, this.len);
    this.len = 0;
  }

  /**
   * Writes a run of whole records `src[start, end)` from another buffer (the reader's): straight
   * from it when long, through this sink's buffer when short (a syscall per short run costs more
   * than the copy).
   */
  writeRun(src: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len >= DIRECT_RUN_BYTES) {
      this.writeDirect(src, start, end);
    } else {
      const off = this.reserve(len);
      src.copy(this.buf, off, start, end);
      this.commit(len);
    }
  }

  /**
   * Writes whole records straight from `src[start, end)` (after the buffered ones, so the order
   * is kept): large runs of unmodified input records go out without being copied here first.
   */
  writeDirect(src: Buffer, start: number, end: number): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new OutputError('E_OUTPUT', 'write after close', { file: this.dest });
    this.flush();
    this.writeAll(src, start, end);
  }

  private writeAll(src: Buffer, start: number, end: number): void {
    let off = start;
    while (off < end) {
      try {
        off += fs.writeSync(this.fd, src, off, end - off);
      } catch (err) {
        const code = errnoOf(err);
        if (code === 'EAGAIN') {
          sleepMs(1);
          continue;
        }
        this.failure =
          code === 'EPIPE'
            ? new OutputError('E_OUTPUT_CLOSED', 'output closed by its reader (broken pipe)', { file: this.dest })
            : new OutputError('E_OUTPUT', `cannot write output: ${code === 'ENOSPC' ? 'no space left on device' : err instanceof Error ? err.message : String(err)}`, {
                file: this.dest,
              });
        throw this.failure;
      }
    }
  }

  /** Flushes and closes (stdout stays open). After a write failure it only releases the file. */
  close(): void {
    if (this.closed) return;
    try {
      if (!this.failure) this.flush();
    } finally {
      this.closed = true;
      if (this.fd !== 1) {
        try {
          fs.closeSync(this.fd);
        } catch (err) {
          if (!this.failure) throw new OutputError('E_OUTPUT', `cannot close output: ${err instanceof Error ? err.message : String(err)}`, { file: this.dest });
        }
      }
    }
  }
}
