/** The bench worker's entry, started like the CLI (smtp-inspect.cts): thread pool first, then worker.js. */
import { sizeThreadPoolForReads } from '../capture/thread-pool.cjs';

sizeThreadPoolForReads();
void import('./worker.js');
