/**
 * openCapture(): the one entry point for reading captures from a path or '-' (stdin), plain or
 * gzip-compressed, pcap or pcapng. Regular files are read synchronously in large chunks into one
 * reusable buffer; stdin and gunzip output arrive as async chunks. Both feed the same synchronous
 * record parser, so there is no promise and no allocation per packet (only the `data` view).
 */
import fs from 'node:fs';
import { CaptureError } from '../errors.js';
import { ChunkInput } from './chunk-input.js';
import { detectFormat, isGzip } from './detect.js';
import { READ_CHUNK_BYTES } from './limits.js';
import { PCAP_HEADER_BYTES, PcapRecordParser, parsePcapHeader, pcapInterface } from './pcap-reader.js';
import { PcapngBlockParser } from './pcapng-reader.js';
import type { RecordParser, RecordSink } from './record-parser.js';
import type {
  CaptureFormat,
  CaptureInterface,
  CaptureRecord,
  CaptureSource,
  PcapFileHeader,
  ReadStats,
} from './types.js';

/** Where the bytes come from: a regular file read synchronously, or an async chunk stream. */
type ByteInput = { kind: 'file'; fd: number; own: boolean } | { kind: 'chunks'; input: ChunkInput };

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

/** Opens a capture and reads just enough to know its format (and, for pcap, its file header). */
export async function openCapture(path: string): Promise<CaptureSource> {
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
      fd = fs.openSync(path, 'r');
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

  return openInput(path, input, head);
}

/**
 * Opens a capture delivered as a stream of byte chunks (stdin, a socket, a test's arbitrary
 * chunking). `name` is used in messages. Same formats and guarantees as openCapture().
 */
export async function openCaptureStream(stream: AsyncIterable<unknown>, name: string): Promise<CaptureSource> {
  const chunks = new ChunkInput(stream, name, false);
  return openInput(name, { kind: 'chunks', input: chunks }, await chunks.peek(PCAP_HEADER_BYTES));
}

async function openInput(path: string, input: ByteInput, head: Buffer): Promise<CaptureSource> {
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
      return new Source(path, 'pcap', gzip, header, input);
    }
    return new Source(path, 'pcapng', gzip, null, input);
  } catch (err) {
    await release(input);
    throw err;
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
  private sink: RecordSink | null = null;
  private stopRequested = false;
  private started = false;

  constructor(path: string, format: CaptureFormat, gzip: boolean, pcapHeader: PcapFileHeader | null, input: ByteInput) {
    this.path = path;
    this.format = format;
    this.gzip = gzip;
    this.pcapHeader = pcapHeader;
    this.input = input;
    this.interfaces = pcapHeader ? [pcapInterface(pcapHeader)] : [];
  }

  stop(): void {
    this.stopRequested = true;
    if (this.sink) this.sink.stopped = true;
  }

  async run(onRecord: (rec: CaptureRecord) => void, onInterface?: (iface: CaptureInterface) => void): Promise<ReadStats> {
    if (this.started) throw new Error('CaptureSource.run() may be called only once');
    this.started = true;
    const sink: RecordSink = { onRecord, onInterface, stopped: this.stopRequested };
    this.sink = sink;
    const parser: RecordParser =
      this.format === 'pcap' ? new PcapRecordParser(this.pcapHeader!, this.path) : new PcapngBlockParser(this.path, this.interfaces);
    const window = new Window(this.format === 'pcap' ? PCAP_HEADER_BYTES : 0);
    try {
      if (this.format === 'pcap') onInterface?.(this.interfaces[0]!);
      if (this.input.kind === 'file') await this.runFile(this.input.fd, parser, window, sink);
      else await this.runChunks(this.input.input, parser, window, sink);
    } finally {
      await release(this.input);
    }
    return { format: this.format, packets: parser.packets, bytes: window.base + window.start, truncatedRecords: parser.truncatedRecords };
  }

  private async runFile(fd: number, parser: RecordParser, w: Window, sink: RecordSink): Promise<void> {
    for (;;) {
      w.makeRoom(parser.needed);
      if (w.end === w.buf.length) throw new Error('capture read window full without a parsable unit');
      const n = readSyncChecked(fd, w.buf, w.end, w.buf.length - w.end, null, this.path);
      w.end += n;
      w.start = parser.parse(w.buf, w.start, w.end, w.base, sink);
      if (sink.stopped) return;
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
        if (sink.stopped) return;
      }
    }
  }

  /** End of input: leftover bytes mean the input stopped inside a record or block. */
  private finish(parser: RecordParser, w: Window): void {
    if (w.start < w.end) {
      const have = w.end - w.start;
      throw new CaptureError(
        'E_CAPTURE_TRUNCATED',
        `input ends inside a ${parser.format} ${parser.unitName} (${have} of ${Math.max(parser.needed, have + 1)} bytes present)`,
        { file: this.path, offset: w.base + w.start },
      );
    }
  }
}

/**
 * The read window: buf[start, end) holds bytes not yet parsed; buf[0] is at input offset `base`.
 * Unconsumed tails are moved to the front (one copy of at most one record) before each read.
 */
class Window {
  buf: Buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  start: number;
  end = 0;
  base = 0;

  constructor(skip: number) {
    // The pcap file header was validated by openCapture(); parsing starts after it.
    this.start = skip;
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
      const bigger = Buffer.allocUnsafe(Math.min(Math.ceil(needed / READ_CHUNK_BYTES) * READ_CHUNK_BYTES, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
  }
}
