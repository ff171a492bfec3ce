/**
 * Output files are checked before any is opened: opening one truncates it, so with `-o out.pcap
 * --verdicts /missing/v.jsonl` the first open would replace a previous OUT by an empty capture
 * (a valid-looking 24-byte pcap) before the second failed.
 */
import { accessSync, constants, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { OutputError } from '../errors.js';

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Throws OutputError (exit 3) for the first path that cannot be created or overwritten; `-` is stdout. */
export function checkOutputsCreatable(paths: readonly (string | undefined)[]): void {
  for (const p of paths) {
    if (p === undefined || p === '-') continue;
    try {
      let st = null;
      try {
        st = statSync(p);
      } catch {
        st = null;
      }
      if (st !== null) {
        if (st.isDirectory()) throw new Error(`EISDIR: is a directory, '${p}'`);
        accessSync(p, constants.W_OK);
      } else {
        const dir = path.dirname(path.resolve(p));
        if (!statSync(dir).isDirectory()) throw new Error(`ENOTDIR: not a directory, '${dir}'`);
        accessSync(dir, constants.W_OK | constants.X_OK);
      }
    } catch (err) {
      throw new OutputError('E_OUTPUT', `${p}: cannot create output: ${reason(err)}; nothing was written`);
    }
  }
}

/** Removes outputs opened by a run that failed before writing anything (best effort). */
export function removeOpenedOutputs(paths: readonly (string | undefined)[]): void {
  for (const p of paths) {
    if (p === undefined || p === '-') continue;
    try {
      unlinkSync(p);
    } catch {
      // Never created, or already gone.
    }
  }
}
