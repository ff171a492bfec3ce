/**
 * libuv's thread-pool size for the read-ahead, set before anything starts the pool.
 *
 * The read-ahead (open.ts) keeps READ_AHEAD_DEPTH chunk reads in flight on the pool. With libuv's
 * default of four threads the reads hop between threads and each woken thread preempts the parser
 * on a small machine; two threads measured fastest (1.1 GB bench capture, 2 vCPU, median of 8:
 * read+decode 0.147 s with four threads, 0.120 s with two; see native-notes/capture-formats.md).
 * libuv reads UV_THREADPOOL_SIZE once, when the pool first starts — and the ES module loader
 * starts it while loading modules — so this runs from the CommonJS entry points (the CLI's and the
 * bench worker's) before any ES module is loaded. A value set in the environment is kept.
 */
export const READ_THREAD_POOL_SIZE = 2;

export function sizeThreadPoolForReads(): void {
  if (process.env['UV_THREADPOOL_SIZE'] === undefined) process.env['UV_THREADPOOL_SIZE'] = String(READ_THREAD_POOL_SIZE);
}
