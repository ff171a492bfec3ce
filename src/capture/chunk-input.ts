/**
 * Asynchronous byte inputs (stdin, pipes, gunzip output) as a pull-style chunk queue with
 * look-ahead, so the format can be recognised before the records are parsed.
 */
import { createGunzip } from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { CaptureError } from '../errors.js';

/** Gunzip output chunk: large enough that per-chunk overhead does not matter. */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

/** For a gunzip output: how far zlib got in the compressed input (for error messages). */
interface CompressedProgress {
  /** Compressed bytes zlib consumed in completed writes (Gunzip.bytesWritten): decoded cleanly. */
  decoded(): number;
  /** Compressed bytes read from the file so far. */
  read(): number;
}

/**
 * The same error with its byte offset marked as counting decompressed bytes (a gzip input: every
 * offset the parsers report is in the gunzipped stream, not in the file as stored).
 */
export function inDecompressedInput(err: unknown): unknown {
  if (!(err instanceof CaptureError) || err.offset === undefined || err.decompressed) return err;
  const marked = new CaptureError(err.code, err.message, { file: err.file, offset: err.offset, decompressed: true });
  marked.stack = err.stack;
  return marked;
}

/** A gzip member's trailer: CRC-32 and the uncompressed length. */
const GZIP_TRAILER_BYTES = 8;

/** Gunzip output chunks held ahead of the parser before zlib is paused (bounded memory). */
const GUNZIP_QUEUED_CHUNKS = 4;

/**
 * A stream's chunks, and its error only after every chunk it produced before the error. A stream's
 * own async iterator rejects at once on 'error' and drops the chunks still in its buffer: for a
 * gzip input that lost up to a few hundred KiB of good packets before a damaged CRC or block.
 */
async function* chunksThenError(stream: Readable, maxQueued: number): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let failure: { error: unknown } | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  stream.on('data', (c: Buffer) => {
    queue.push(c);
    if (queue.length >= maxQueued) stream.pause();
    notify();
  });
  stream.on('end', () => {
    ended = true;
    notify();
  });
  stream.on('error', (error: unknown) => {
    failure ??= { error };
    notify();
  });
  stream.on('close', () => {
    ended = true;
    notify();
  });
  try {
    for (;;) {
      const c = queue.shift();
      if (c !== undefined) {
        if (queue.length < maxQueued && stream.isPaused() && failure === null) stream.resume();
        yield c;
        continue;
      }
      if (failure !== null) throw (failure as { error: unknown }).error;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.destroy();
  }
}

export class ChunkInput {
  private readonly pending: Buffer[] = [];
  private readonly it: AsyncIterator<unknown>;
  private readonly file: string;
  private readonly gzip: boolean;
  private readonly compressed: CompressedProgress | null;
  /** Decompressed bytes delivered so far, for gzip error offsets. */
  private delivered = 0;
  private done = false;

  constructor(stream: AsyncIterable<unknown>, file: string, gzip: boolean, compressed: CompressedProgress | null = null) {
    this.it = stream[Symbol.asyncIterator]();
    this.file = file;
    this.gzip = gzip;
    this.compressed = compressed;
  }

  /** The next chunk, or null at the end of input. */
  async next(): Promise<Buffer | null> {
    const queued = this.pending.shift();
    if (queued !== undefined) return this.count(queued);
    if (this.done) return null;
    let r: IteratorResult<unknown>;
    try {
      r = await this.it.next();
    } catch (err) {
      throw this.wrap(err);
    }
    if (r.done) {
      this.done = true;
      return null;
    }
    const v = r.value;
    return this.count(Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));
  }

  /** At least `n` bytes from the front without consuming them (fewer only at the end of input). */
  async peek(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const c = await this.next();
      if (c === null) break;
      this.delivered -= c.length; // not consumed yet
      parts.push(c);
      have += c.length;
    }
    const joined = Buffer.concat(parts);
    if (joined.length > 0) this.pending.unshift(joined);
    return joined;
  }

  /** Releases the underlying stream early (after stop()). */
  async close(): Promise<void> {
    this.done = true;
    try {
      await this.it.return?.();
    } catch {
      // already failed or closed: nothing left to release
    }
  }

  private count(b: Buffer): Buffer {
    this.delivered += b.length;
    return b;
  }

  private wrap(err: unknown): CaptureError {
    if (err instanceof CaptureError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    const code = err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : '';
    if (this.gzip && (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED' || /zlib|unexpected end|incorrect header|invalid/i.test(msg))) {
      return new CaptureError('E_CAPTURE_GZIP', `gzip decompression failed: ${msg}${this.compressedWhere(code, msg)}`, {
        file: this.file,
        offset: this.delivered,
        decompressed: true,
      });
    }
    return new CaptureError('E_CAPTURE_OPEN', `cannot read input: ${msg}`, { file: this.file, offset: this.delivered, decompressed: this.gzip });
  }

  /**
   * Where in the compressed file: zlib tells how many compressed bytes it consumed in completed
   * writes (the fault lies in the write after them, so that count is where clean decoding ended,
   * not the fault's exact byte); a stream cut short ends at the last compressed byte read.
   */
  private compressedWhere(code: string, msg: string): string {
    const c = this.compressed;
    if (c === null) return '';
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(msg)) return ` (the compressed input ends at compressed byte offset ${c.read()})`;
    return ` (compressed input decoded cleanly up to compressed byte offset ${c.decoded()})`;
  }

  /**
   * A new input that yields this one's bytes decompressed. Takes over the remaining chunks
   * (including any peeked ones); this input must not be used afterwards.
   */
  gunzip(): ChunkInput {
    const self = this;
    // The input's last bytes (the final member's CRC-32 and length) go to zlib in a write of their
    // own: Node's zlib drops the output of a write that fails, so a bad trailer would otherwise
    // take up to a chunk of good data with it. Held back this way, everything before it is out first.
    async function* raw(): AsyncGenerator<Buffer> {
      let tail: Buffer = Buffer.alloc(0);
      try {
        for (;;) {
          const c = await self.next();
          if (c === null) break;
          if (tail.length + c.length <= GZIP_TRAILER_BYTES) {
            tail = Buffer.concat([tail, c]);
            continue;
          }
          if (c.length >= GZIP_TRAILER_BYTES) {
            if (tail.length > 0) yield tail;
            if (c.length > GZIP_TRAILER_BYTES) yield c.subarray(0, c.length - GZIP_TRAILER_BYTES);
            tail = Buffer.from(c.subarray(c.length - GZIP_TRAILER_BYTES));
          } else {
            const joined = Buffer.concat([tail, c]);
            yield joined.subarray(0, joined.length - GZIP_TRAILER_BYTES);
            tail = joined.subarray(joined.length - GZIP_TRAILER_BYTES);
          }
        }
        if (tail.length > 0) yield tail;
      } finally {
        await self.close();
      }
    }
    const gz = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    pipeline(Readable.from(raw(), { objectMode: false }), gz, () => {
      // errors reach the consumer through the gunzip iterator
    });
    return new ChunkInput(chunksThenError(gz, GUNZIP_QUEUED_CHUNKS), this.file, true, { decoded: () => gz.bytesWritten, read: () => self.delivered });
  }
}
