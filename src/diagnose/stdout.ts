/**
 * `smtp-inspect diagnose … | head`: a reader that goes away is not a crash (exit 3, "output
 * closed"), and neither is a stdout that cannot take the bytes (`> report.txt` on a full disk:
 * ENOSPC, EIO, EFBIG): one line on stderr and exit 3, never a stack trace and never exit 1, which
 * a script would read as "findings".
 */
import fs from 'node:fs';
import { EXIT } from '../errors.js';

let installed = false;

/** The line printed for a stdout write error other than a closed reader (as the CLI's E_OUTPUT). */
function stdoutErrorLine(err: NodeJS.ErrnoException): string | null {
  if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return null;
  return `smtp-inspect: <stdout>: cannot write: ${err.message} [E_OUTPUT]\n`;
}

export function exitQuietlyOnClosedStdout(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    const line = stdoutErrorLine(err);
    if (line !== null) {
      try {
        fs.writeSync(2, line);
      } catch {
        // stderr gone too: the exit code still says it
      }
    }
    process.exit(EXIT.OUTPUT);
  });
}

/** Bytes gathered before one write: few system calls, and never the whole report in memory. */
const WRITE_BATCH = 1 << 16;

/**
 * `parts` joined by `sep`, then `tail`, in chunks of at least `batch` characters (the last may be
 * shorter; nothing empty): what the writers below hand to their stream or file.
 */
function* batched(parts: Iterable<string>, sep: string, tail: string, batch: number): Generator<string> {
  let pending = '';
  let first = true;
  for (const part of parts) {
    pending += first ? part : sep + part;
    first = false;
    if (pending.length >= batch) {
      yield pending;
      pending = '';
    }
  }
  pending += tail;
  if (pending.length > 0) yield pending;
}

/**
 * Writes `parts` joined by `sep` (then `tail`) to a stream as they come, waiting for the stream
 * to drain when it asks to: a big capture's report goes out one session at a time.
 */
export async function writeParts(out: NodeJS.WritableStream, parts: Iterable<string>, sep: string, tail: string, batch = WRITE_BATCH): Promise<void> {
  for (const chunk of batched(parts, sep, tail, batch)) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
}

/** As writeParts, to a file (the HTML report), synchronously. */
export function writePartsToFile(path: string, parts: Iterable<string>, sep: string, tail: string): void {
  const fd = fs.openSync(path, 'w');
  try {
    for (const chunk of batched(parts, sep, tail, WRITE_BATCH)) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
}
