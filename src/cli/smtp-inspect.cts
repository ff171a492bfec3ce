#!/usr/bin/env node
/**
 * The installed `smtp-inspect` program: a CommonJS entry so that the thread pool is sized before
 * the ES module loader starts it (thread-pool.cts), then the command line proper — bundled into one
 * file by `npm run build` (src/build/bundle.ts) for a faster start, or main.js itself.
 */
import path from 'node:path';
import { sizeThreadPoolForReads } from '../capture/thread-pool.cjs';
import { freshBundleOr } from '../build/fresh-bundle.cjs';

sizeThreadPoolForReads();
import(freshBundleOr(path.join(__dirname, '..', 'smtp-inspect.mjs'), path.join(__dirname, 'main.js'))).catch((err: unknown) => {
  // The program could not even load (e.g. EMFILE under a tiny `ulimit -n`): one line, not a stack.
  const code = err instanceof Error && 'code' in err ? ` [${String((err as { code: unknown }).code)}]` : '';
  process.stderr.write(`smtp-inspect: cannot start: ${err instanceof Error ? err.message : String(err)}${code}\n`);
  process.exitCode = 2;
});
