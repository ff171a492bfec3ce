/**
 * Fuzz worker process: receives inputs over IPC, runs them through their target, replies with the
 * outcome and its RSS. Runs apart from the driver so a hang can be killed and a crash or an
 * allocation driven by a claimed length (under --max-old-space-size) is observed, not suffered.
 */
import { loadFuzzTargets } from './load-sections.js';
import { fuzzTarget } from './fuzz-registry.js';

interface Job {
  id: number;
  target: string;
  input: Uint8Array;
}

export interface JobResult {
  id: number;
  outcome: 'ok' | 'expected-error' | 'unexpected-error';
  detail: string;
  rssBytes: number;
}

async function handle(job: Job): Promise<JobResult> {
  const target = fuzzTarget(job.target);
  if (!target) return { id: job.id, outcome: 'unexpected-error', detail: `no target ${job.target}`, rssBytes: process.memoryUsage().rss };
  let outcome: JobResult['outcome'] = 'ok';
  let detail = '';
  try {
    await target.run(Buffer.from(job.input.buffer, job.input.byteOffset, job.input.byteLength));
  } catch (err) {
    if (target.isExpectedError(err)) {
      outcome = 'expected-error';
      detail = err instanceof Error ? err.message : String(err);
    } else {
      outcome = 'unexpected-error';
      detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    }
  }
  return { id: job.id, outcome, detail, rssBytes: process.memoryUsage().rss };
}

await loadFuzzTargets();
process.on('message', (msg: Job) => {
  void handle(msg).then((r) => process.send?.(r));
});
process.send?.({ id: -1, outcome: 'ok', detail: 'ready', rssBytes: 0 });
