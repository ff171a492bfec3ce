/**
 * A line-oriented output (verdicts, syslog) to a path or '-' (stdout), written synchronously in
 * whole lines: whatever has been written when the process stops is a valid prefix of the output.
 * Lines are buffered up to a small size and flushed with writeSync, so a crash or SIGINT never
 * leaves half a record behind, and a closed pipe surfaces as an OutputError instead of a stack.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { OutputError } from '../errors.js';

const FLUSH_AT = 64 * 1024;
const EAGAIN_WAIT = new Int32Array(new SharedArrayBuffer(4));

/** Writes every byte of `buf` to `fd`, retrying partial writes and EAGAIN (non-blocking stdout pipes). */
export function writeAllSync(fd: number, buf: Buffer, label: string): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(EAGAIN_WAIT, 0, 0, 2);
        continue;
      }
      throw outputError(err, label);
    }
  }
}

export function outputError(err: unknown, label: string): OutputError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EPIPE' || code === 'ECONNRESET') {
    return new OutputError('E_OUTPUT_CLOSED', `output closed by the reader (${code}) while writing`, { file: label });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new OutputError('E_OUTPUT', `cannot write: ${msg}`, { file: label });
}

export class TextFileOutput {
  readonly label: string;
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private parts: string[] = [];
  private pending = 0;
  private closed = false;
  lines = 0;

  constructor(path: string) {
    this.label = path === '-' ? '<stdout>' : path;
    if (path === '-') {
      this.fd = 1;
      this.ownsFd = false;
    } else {
      try {
        this.fd = openSync(path, 'w');
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new OutputError('E_OUTPUT', `cannot open for writing: ${msg}`, { file: path });
      }
      this.ownsFd = true;
    }
  }

  /** Appends one line (without its newline). */
  writeLine(line: string): void {
    if (this.closed) return;
    this.parts.push(line, '\n');
    this.pending += line.length + 1;
    this.lines++;
    if (this.pending >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
    writeAllSync(this.fd, buf, this.label);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      if (this.ownsFd) closeSync(this.fd);
    }
  }
}
