/**
 * For commands that read their capture more than once (diagnose replays it with each proposed
 * fix): a piped standard input can be read only once, so it is first copied, streaming, into a
 * private temporary file, removed when the command ends. A regular file redirected into stdin
 * (`< file`) is re-readable as it is and is used directly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { EXIT, SmtpInspectError } from '../errors.js';

export interface Spooled {
  /** The path to read ('-' itself when stdin is a regular file). */
  path: string;
  /** Removes the temporary copy (a no-op when none was made). */
  dispose(): void;
}

export async function spoolStdinIfPiped(input: string): Promise<Spooled> {
  if (input !== '-') return { path: input, dispose: () => undefined };
  try {
    if (fs.fstatSync(0).isFile()) return { path: input, dispose: () => undefined };
  } catch {
    // no stdin at all: let the reader report it
    return { path: input, dispose: () => undefined };
  }
  if (process.stdin.isTTY) throw new SmtpInspectError('E_CAPTURE_OPEN', 'standard input is a terminal: pipe a capture into it', { file: '-' });
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-inspect-stdin-'));
  } catch (err) {
    throw new SmtpInspectError('E_CAPTURE_OPEN', `cannot make a temporary copy of standard input in ${os.tmpdir()}: ${err instanceof Error ? err.message : String(err)}`, {
      file: '-',
    });
  }
  const file = path.join(dir, 'capture');
  // The copy goes whatever way the command ends: normally (dispose), an exit() elsewhere (closed
  // stdout: 'exit'), or Ctrl-C / SIGTERM, which would otherwise kill it before any finally runs.
  const remove = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const onSignal = (): void => {
    remove();
    process.exit(EXIT.INTERRUPTED);
  };
  process.once('exit', remove);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const dispose = (): void => {
    process.removeListener('exit', remove);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    remove();
  };
  try {
    await pipeline(process.stdin, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    dispose();
    throw new SmtpInspectError('E_CAPTURE_OPEN', `cannot read standard input: ${err instanceof Error ? err.message : String(err)}`, { file: '-' });
  }
  return { path: file, dispose };
}
