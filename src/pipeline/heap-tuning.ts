/**
 * One V8 setting for long replays: how far the old generation may grow past the live heap before
 * the next full GC.
 *
 * Why: a replay's live heap is small and flat (~20-30 MB: open connections, connections lingering
 * for late packets, pools), but every connection's objects outlive a few scavenges and are
 * promoted, then die in the old generation when the connection leaves the table. By default V8
 * lets the old generation grow to up to ~4x the live heap before collecting it, so the process
 * peaks far above what it uses (1.1 GB bench capture: ~150-165 MB RSS for ~25 MB live).
 * `--heap-growing-percent=50` makes the limit 1.5x the live heap after each full GC: measured on
 * the 1.1 GB bench capture, peak RSS ~127-131 MB, CPU +2-4 % (native-notes/replay.md).
 *
 * It never caps the heap: the limit is recomputed from the live size after every full GC, so a
 * capture that keeps a million connections open grows the heap as before (only with more
 * frequent full GCs); no out-of-memory risk is added. The flag only changes a GC heuristic and is
 * read by V8 at run time, so setting it after start-up takes effect. A value given by the user
 * (NODE_OPTIONS or node's own flags) wins.
 */
import v8 from 'node:v8';

export const REPLAY_HEAP_GROWING_PERCENT = 50;

let applied = false;

/** Sets --heap-growing-percent for this process once, unless the user set it. Returns whether it did. */
export function tuneHeapForReplay(): boolean {
  if (applied) return false;
  applied = true;
  const given = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  if (/--heap[-_]growing[-_]percent/.test(given)) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${REPLAY_HEAP_GROWING_PERCENT}`);
  return true;
}
