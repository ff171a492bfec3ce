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
    async function* raw(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          const c = await self.next();
          if (c === null) return;
          yield c;
        }
      } finally {
        await self.close();
      }
    }
    const gz = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    pipeline(Readable.from(raw(), { objectMode: false }), gz, () => {
      // errors reach the consumer through the gunzip iterator
    });
    return new ChunkInput(gz, this.file, true, { decoded: () => gz.bytesWritten, read: () => self.delivered });
  }
}
