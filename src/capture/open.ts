/**
 * openCapture(): the one entry point for reading captures from a path or '-' (stdin), plain or
 * gzip-compressed, pcap or pcapng. Regular files are read in large chunks into three reusable
 * buffers, the next chunks' reads running on libuv's thread pool while the parser works through the
 * current one (copying out of the page cache is over half the cost of a read+decode pass: this
 * overlaps it with parsing); stdin and gunzip output arrive as async chunks. Both feed the same synchronous record
 * parser, so there is no promise and no allocation per packet (records point into the buffer).
 */
import fs from 'node:fs';
import { CaptureError } from '../errors.js';
import { ChunkInput, inDecompressedInput } from './chunk-input.js';
import { detectFormat, isGzip } from './detect.js';
import { READ_AHEAD_CHUNK_BYTES, READ_AHEAD_DEPTH, READ_AHEAD_RESERVE_BYTES, READ_CHUNK_BYTES } from './limits.js';
import { PCAP_HEADER_BYTES, PcapRecordParser, parsePcapHeader, pcapInterface } from './pcap-reader.js';
import { PcapngBlockParser } from './pcapng-reader.js';
import type { RecordParser, RecordSink } from './record-parser.js';
import { finestFractionDigits } from './timestamp.js';
import type {
  CaptureBlock,
  CaptureFormat,
  CaptureInterface,
  CaptureRecord,
  CaptureSource,
  PcapFileHeader,
  ReadStats,
  SkippedBlock,
} from './types.js';

/** Where the bytes come from: a regular file (read ahead by chunks), or an async chunk stream. */
type ByteInput = { kind: 'file'; fd: number; own: boolean } | { kind: 'chunks'; input: ChunkInput };

/** A read-ahead buffer: the chunk at file offset `filePos` lands at buf[reserve...]. */
interface ReadSlot {
  buf: Buffer;
  filePos: number;
  pending: Promise<number> | null;
}

/**
 * Read sizes (defaults in limits.ts; tests use tiny ones to put chunk boundaries everywhere).
 * `chunkBytes`: bytes per read of a regular file, and the window size for streamed input.
 * `reserveBytes`: room in front of each read-ahead buffer for the record cut by the previous
 * chunk's end; a longer cut unit (a giant record or pcapng block) switches the rest of the file to
 * one growable window read synchronously. `readDepth`: reads in flight while the parser works.
 */
export interface ReadTuning {
  chunkBytes?: number;
  reserveBytes?: number;
  /** Chunk reads in flight while parsing (>= 1). */
  readDepth?: number;
}

function errnoOf(err: unknown): string {
  return err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : '';
}

function openError(file: string, err: unknown): CaptureError {
  const code = errnoOf(err);
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : err instanceof Error
            ? err.message
            : String(err);
  return new CaptureError('E_CAPTURE_OPEN', `cannot open capture: ${reason}`, { file });
}

function readSyncChecked(fd: number, buf: Buffer, at: number, len: number, position: number | null, file: string): number {
  try {
    return fs.readSync(fd, buf, at, len, position);
  } catch (err) {
    throw openError(file, err);
  }
}

/** Read size for pipes and other non-seekable inputs. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

/** The first bytes of a regular file by pread, so the file position stays where it is. */
function readHead(fd: number, path: string): Buffer {
  const b = Buffer.alloc(PCAP_HEADER_BYTES);
  let n = 0;
  for (;;) {
    const got = readSyncChecked(fd, b, n, b.length - n, n, path);
    if (got === 0) break;
    n += got;
    if (n === b.length) break;
  }
  return b.subarray(0, n);
}

function isFifo(path: string): boolean {
  try {
    return fs.statSync(path).isFIFO();
  } catch {
    return false; // the open reports what is wrong
  }
}

/**
 * Opens a capture and reads just enough to know its format (and, for pcap, its file header).
 * `tuning` sets the read sizes for regular files (defaults: limits.ts); only tests need it.
 */
export async function openCapture(path: string, tuning: ReadTuning = {}): Promise<CaptureSource> {
  let input: ByteInput;
  let head: Buffer;
  if (path === '-') {
    let stat: fs.Stats | null = null;
    try {
      stat = fs.fstatSync(0);
    } catch {
      stat = null;
    }
    if (stat?.isFile()) {
      // `< file`: as fast as a named file (the descriptor is not ours to close).
      input = { kind: 'file', fd: 0, own: false };
      head = readHead(0, path);
    } else if (stat?.isFIFO()) {
      // A pipe: fs reads are several times faster than process.stdin's socket-style reads.
      return openCaptureStream(fs.createReadStream('', { fd: 0, highWaterMark: STREAM_CHUNK_BYTES, autoClose: false }), '-');
    } else {
      if (process.stdin.isTTY) {
        throw new CaptureError('E_CAPTURE_OPEN', 'standard input is a terminal: pipe a capture into it', { file: '-' });
      }
      return openCaptureStream(process.stdin, '-');
    }
  } else {
    let fd: number;
    try {
      // A named FIFO's open waits for a writer: on the thread pool, not the main thread, so a
      // signal meanwhile is still handled (SIGINT while `mkfifo p; smtp-inspect info p` waits).
      // (fs.open, not fs.promises.open: a raw descriptor, which no FileHandle closes when collected).
      fd = isFifo(path) ? await new Promise<number>((resolve, reject) => fs.open(path, 'r', (e, d) => (e ? reject(e) : resolve(d)))) : fs.openSync(path, 'r');
    } catch (err) {
      throw openError(path, err);
    }
    let stat: fs.Stats;
    try {
      stat = fs.fstatSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw openError(path, err);
    }
    if (stat.isDirectory()) {
      fs.closeSync(fd);
      throw new CaptureError('E_CAPTURE_OPEN', 'cannot open capture: is a directory', { file: path });
    }
    if (stat.isFile()) {
      input = { kind: 'file', fd, own: true };
      head = readHead(fd, path);
    } else {
      // FIFO, character device, process substitution: not seekable, read as a stream.
      const chunks = new ChunkInput(fs.createReadStream('', { fd, highWaterMark: STREAM_CHUNK_BYTES }), path, false);
      input = { kind: 'chunks', input: chunks };
      head = await chunks.peek(PCAP_HEADER_BYTES);
    }
  }

  return openInput(path, input, head, tuning);
}

/**
 * Opens a capture delivered as a stream of byte chunks (stdin, a socket, a test's arbitrary
 * chunking). `name` is used in messages. Same formats and guarantees as openCapture().
 */
export async function openCaptureStream(stream: AsyncIterable<unknown>, name: string): Promise<CaptureSource> {
  const chunks = new ChunkInput(stream, name, false);
  return openInput(name, { kind: 'chunks', input: chunks }, await chunks.peek(PCAP_HEADER_BYTES));
}

async function openInput(path: string, input: ByteInput, head: Buffer, tuning: ReadTuning = {}): Promise<CaptureSource> {
  let gzip = false;
  if (isGzip(head)) {
    gzip = true;
    const raw =
      input.kind === 'chunks'
        ? input.input
        : new ChunkInput(fs.createReadStream('', { fd: input.fd, start: 0, highWaterMark: STREAM_CHUNK_BYTES, autoClose: input.own }), path, false);
    const inflated = raw.gunzip();
    input = { kind: 'chunks', input: inflated };
    head = await inflated.peek(PCAP_HEADER_BYTES);
  }

  try {
    const detected = detectFormat(head, path);
    if (detected === 'gzip') {
      throw new CaptureError('E_CAPTURE_UNSUPPORTED', 'gzip inside gzip is not supported', { file: path, offset: 0 });
    }
    if (detected === 'pcap') {
      if (head.length < PCAP_HEADER_BYTES) {
        throw new CaptureError('E_CAPTURE_TRUNCATED', `input ends inside the ${PCAP_HEADER_BYTES}-byte pcap file header`, {
          file: path,
          offset: head.length,
        });
      }
      const header = parsePcapHeader(head, path);
      return new Source(path, 'pcap', gzip, header, input, tuning);
    }
    return new Source(path, 'pcapng', gzip, null, input, tuning);
  } catch (err) {
    await release(input);
    throw gzip ? inDecompressedInput(err) : err;
  }
}

async function release(input: ByteInput): Promise<void> {
  if (input.kind === 'file') {
    if (input.own) fs.closeSync(input.fd);
  } else await input.input.close();
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Source implements CaptureSource {
  readonly path: string;
  readonly format: CaptureFormat;
  readonly gzip: boolean;
  readonly pcapHeader: PcapFileHeader | null;
  readonly interfaces: CaptureInterface[];
  private readonly input: ByteInput;
  /** Chunk size override from ReadTuning (null: READ_AHEAD_CHUNK_BYTES for files, READ_CHUNK_BYTES for streams). */
  private readonly chunkBytes: number | null;
  private readonly reserveBytes: number;
  private readonly readDepth: number;
  private sink: RecordSink | null = null;
  /** The pcapng parser once run() made it (it knows the first section's byte order). */
  private pcapngParser: PcapngBlockParser | null = null;
  private stopRequested = false;
  private started = false;

  constructor(path: string, format: CaptureFormat, gzip: boolean, pcapHeader: PcapFileHeader | null, input: ByteInput, tuning: ReadTuning) {
    this.path = path;
    this.format = format;
    this.gzip = gzip;
    this.pcapHeader = pcapHeader;
    this.input = input;
    this.interfaces = pcapHeader ? [pcapInterface(pcapHeader)] : [];
    this.chunkBytes = tuning.chunkBytes === undefined ? null : Math.max(1, Math.floor(tuning.chunkBytes));
    this.reserveBytes = Math.max(0, Math.floor(tuning.reserveBytes ?? READ_AHEAD_RESERVE_BYTES));
    this.readDepth = Math.max(1, Math.floor(tuning.readDepth ?? READ_AHEAD_DEPTH));
  }

  get littleEndian(): boolean | null {
    if (this.pcapHeader) return this.pcapHeader.littleEndian;
    return this.pcapngParser?.firstSectionLittleEndian ?? null;
  }

  get timePrecisionDigits(): number | null {
    return finestFractionDigits(this.interfaces);
  }

  stop(): void {
    this.stopRequested = true;
    if (this.sink) this.sink.stopped = true;
  }

  async run(
    onRecord: (rec: CaptureRecord) => void,
    onInterface?: (iface: CaptureInterface) => void,
    onRelease?: () => void,
    onBlock?: (block: CaptureBlock) => void,
    onSkippedBlock?: (block: SkippedBlock) => void,
  ): Promise<ReadStats> {
    if (this.started) throw new Error('CaptureSource.run() may be called only once');
    this.started = true;
    const sink: RecordSink = { onRecord, onInterface, onRelease, onBlock, onSkippedBlock, stopped: this.stopRequested };
    this.sink = sink;
    let parser: RecordParser;
    if (this.format === 'pcap') parser = new PcapRecordParser(this.pcapHeader!, this.path);
    else parser = this.pcapngParser = new PcapngBlockParser(this.path, this.interfaces);
    const skip = this.format === 'pcap' ? PCAP_HEADER_BYTES : 0;
    let consumed: number;
    try {
      if (this.format === 'pcap') onInterface?.(this.interfaces[0]!);
      if (this.input.kind === 'file') consumed = await this.runFile(this.input.fd, parser, sink, skip);
      else {
        const window = new Window(skip, this.chunkBytes ?? READ_CHUNK_BYTES);
        await this.runChunks(this.input.input, parser, window, sink);
        consumed = window.base + window.start;
      }
    } catch (err) {
      // Parser offsets of a gzip input count gunzipped bytes: say so.
      throw this.gzip ? inDecompressedInput(err) : err;
    } finally {
      await release(this.input);
    }
    return {
      format: this.format,
      packets: parser.packets,
      bytes: consumed,
      truncatedRecords: parser.truncatedRecords,
      skippedBlocks: parser.skippedBlocks ?? 0,
      skippedBlockBytes: parser.skippedBlockBytes ?? 0,
      otherFrames: parser.otherFrames ?? 0,
    };
  }

  /**
   * A regular file, read ahead: `readDepth` chunk reads run on the thread pool (at explicit file
   * positions, into their own buffers) while the parser walks the current buffer. When it is done,
   * the record cut by the buffer's end is copied into the reserve in front of the next chunk, and
   * the freed buffer takes the next read. Every read in flight is awaited before returning or
   * throwing, so the descriptor is closed only when no read can touch it.
   * Returns the input offset after the last consumed byte.
   */
  private async runFile(fd: number, parser: RecordParser, sink: RecordSink, skip: number): Promise<number> {
    const reserve = this.reserveBytes;
    const chunk = this.chunkBytes ?? READ_AHEAD_CHUNK_BYTES;
    const slots: ReadSlot[] = [];
    for (let i = 0; i <= this.readDepth; i++) slots.push({ buf: Buffer.allocUnsafe(reserve + chunk), filePos: 0, pending: null });
    let nextReadPos = 0;
    /** Set once a chunk came back short after filling: no read is started past it. */
    let eofSeen = false;
    const issue = (slot: ReadSlot): void => {
      if (eofSeen) return;
      slot.filePos = nextReadPos;
      nextReadPos += chunk;
      const pending = this.readChunk(fd, slot.buf, reserve, chunk, slot.filePos);
      // Handled here so a failure of a read not yet awaited is not an unhandled rejection; the
      // error still surfaces where the read is awaited.
      pending.catch(() => undefined);
      slot.pending = pending;
    };
    /** Waits for a slot's read; a short count is filled up synchronously unless it is the end of the file. */
    const complete = async (slot: ReadSlot): Promise<number> => {
      const pending = slot.pending;
      slot.pending = null;
      if (pending === null) return 0;
      let n = await pending;
      while (n < chunk) {
        const more = readSyncChecked(fd, slot.buf, reserve + n, chunk - n, slot.filePos + n, this.path);
        if (more === 0) {
          eofSeen = true;
          break;
        }
        n += more;
      }
      return n;
    };
    const settle = async (): Promise<void> => {
      await Promise.allSettled(slots.map((x) => x.pending));
    };

    try {
      for (let i = 0; i < this.readDepth; i++) issue(slots[i]!);
      let cur = 0;
      let n = await complete(slots[0]!);
      issue(slots[this.readDepth]!);
      let buf = slots[0]!.buf;
      // buf[start, end) holds the bytes not yet parsed; buf[0] sits at input offset `base`.
      let base = -reserve;
      let start = reserve + skip;
      let end = reserve + n;
      for (;;) {
        const lastChunk = n < chunk;
        const pos = start < end ? parser.parse(buf, start, end, base, sink) : start;
        // Before this buffer's tail is moved and the buffer takes the next read.
        sink.onRelease?.();
        if (sink.stopped) return base + pos;
        if (lastChunk) {
          this.finishAt(parser, end - pos, base + pos);
          return base + pos;
        }
        const nextIndex = (cur + 1) % slots.length;
        const next = slots[nextIndex]!;
        n = await complete(next);
        const tail = end - pos;
        if (tail > reserve) {
          // A unit longer than the reserve is cut: continue with one growable window, synchronously.
          await settle();
          const w = Window.holding(buf, pos, end, next.buf, reserve, n, base + pos, chunk);
          await this.runFileWindow(fd, parser, w, sink);
          return w.base + w.start;
        }
        if (tail > 0) buf.copy(next.buf, reserve - tail, pos, end);
        issue(slots[cur]!);
        cur = nextIndex;
        buf = next.buf;
        base = next.filePos - reserve;
        start = reserve - tail;
        end = reserve + n;
        if (sink.stopped) return base + start;
      }
    } finally {
      await settle();
    }
  }

  /** One chunk read on the thread pool at `position`; I/O errors become E_CAPTURE_OPEN. */
  private readChunk(fd: number, buf: Buffer, at: number, len: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.read(fd, buf, at, len, position, (err, bytesRead) => (err ? reject(openError(this.path, err)) : resolve(bytesRead)));
    });
  }

  /** The synchronous path for files whose units outgrow the read-ahead reserve (explicit positions). */
  private async runFileWindow(fd: number, parser: RecordParser, w: Window, sink: RecordSink): Promise<void> {
    for (;;) {
      w.start = parser.parse(w.buf, w.start, w.end, w.base, sink);
      sink.onRelease?.();
      if (sink.stopped) return;
      w.makeRoom(parser.needed);
      if (w.end === w.buf.length) throw new Error('capture read window full without a parsable unit');
      const n = readSyncChecked(fd, w.buf, w.end, w.buf.length - w.end, w.base + w.end, this.path);
      w.end += n;
      if (n === 0) return this.finish(parser, w);
      // Let signal handlers (stop()) and other I/O run between chunks.
      await yieldToEventLoop();
      if (sink.stopped) return;
    }
  }

  private async runChunks(input: ChunkInput, parser: RecordParser, w: Window, sink: RecordSink): Promise<void> {
    for (;;) {
      const chunk = await input.next();
      if (chunk === null) return this.finish(parser, w);
      let off = 0;
      while (off < chunk.length) {
        w.makeRoom(parser.needed);
        const take = Math.min(chunk.length - off, w.buf.length - w.end);
        chunk.copy(w.buf, w.end, off, off + take);
        off += take;
        w.end += take;
        w.start = parser.parse(w.buf, w.start, w.end, w.base, sink);
        sink.onRelease?.();
        if (sink.stopped) return;
      }
    }
  }

  /** End of input: leftover bytes mean the input stopped inside a record or block. */
  private finish(parser: RecordParser, w: Window): void {
    this.finishAt(parser, w.end - w.start, w.base + w.start);
  }

  private finishAt(parser: RecordParser, have: number, offset: number): void {
    const passing = parser.passing;
    if (passing) {
      // Inside a block passed over unbuffered: it starts well before the window.
      throw new CaptureError(
        'E_CAPTURE_TRUNCATED',
        `input ends inside a ${parser.format} ${parser.unitName} (${passing.consumed + have} of ${passing.length} bytes present)`,
        { file: this.path, offset: passing.offset },
      );
    }
    if (have > 0) {
      throw new CaptureError(
        'E_CAPTURE_TRUNCATED',
        `input ends inside a ${parser.format} ${parser.unitName} (${have} of ${Math.max(parser.needed, have + 1)} bytes present)`,
        { file: this.path, offset },
      );
    }
  }
}

/**
 * The read window: buf[start, end) holds bytes not yet parsed; buf[0] is at input offset `base`.
 * Unconsumed tails are moved to the front (one copy of at most one record) before each read.
 */
class Window {
  buf: Buffer;
  start: number;
  end = 0;
  base = 0;
  /** Growth step (the read chunk size). */
  private readonly step: number;

  constructor(skip: number, chunkBytes: number, size = chunkBytes) {
    this.buf = Buffer.allocUnsafe(size);
    this.step = chunkBytes;
    // The pcap file header was validated by openCapture(); parsing starts after it.
    this.start = skip;
  }

  /**
   * A window holding a.subarray(aStart, aEnd) followed by b.subarray(bStart, bStart + bLength),
   * whose first byte is at input offset `base` (the read-ahead handing over a long cut unit).
   */
  static holding(a: Buffer, aStart: number, aEnd: number, b: Buffer, bStart: number, bLength: number, base: number, chunkBytes: number): Window {
    const have = aEnd - aStart + bLength;
    // Room for what is present plus one more chunk; it grows further only as bytes arrive.
    const w = new Window(0, chunkBytes, have + chunkBytes);
    a.copy(w.buf, 0, aStart, aEnd);
    b.copy(w.buf, aEnd - aStart, bStart, bStart + bLength);
    w.end = have;
    w.base = base;
    return w;
  }

  makeRoom(needed: number): void {
    if (this.start > 0 && this.start <= this.end) {
      if (this.end > this.start) this.buf.copy(this.buf, 0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    // A unit larger than the window (bounded by the parsers' limits): grow to hold it whole, but
    // only as its bytes actually arrive (doubling), so a bogus length in a short input costs nothing.
    if (needed > this.buf.length && this.end === this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(Math.ceil(needed / this.step) * this.step, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
  }
}
