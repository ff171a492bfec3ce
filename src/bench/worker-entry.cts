/**
 * The bench worker's entry, started like the CLI (src/cli/smtp-inspect.cts): thread pool first, then
 * the section's bundle (worker + that section, src/build/bundle.ts) or worker.js unbundled.
 */
import path from 'node:path';
import { sizeThreadPoolForReads } from '../capture/thread-pool.cjs';
import { freshBundleOr } from '../build/fresh-bundle.cjs';

sizeThreadPoolForReads();
const slug = (process.argv[2] ?? '').replace(/[^a-zA-Z0-9]+/g, '-');
void import(freshBundleOr(path.join(__dirname, 'bundles', `${slug}.mjs`), path.join(__dirname, 'worker.js')));
