/**
 * Child process of the bench: `node dist/bench/worker-entry.cjs SECTION FILE [ARGS...]` (which sizes
 * the thread pool as the CLI's entry does, then loads this module) runs one section's
 * `work` over FILE and prints one JSON line: the work result, the time spent in it and VmHWM.
 */
import { loadBenchSectionFile, loadBenchSections } from './load-sections.js';
import { benchSection } from './registry.js';
import { peakRssBytes } from './memory.js';

async function main(): Promise<void> {
  const [name, file, ...args] = process.argv.slice(2);
  if (!name || !file) throw new Error('usage: worker.js SECTION FILE [ARGS...]');
  // Already registered when this runs from the section's bundle; else only the section's own file
  // when it is named after the section: start-up counts in the timing.
  if (!benchSection(name) && (!(await loadBenchSectionFile(name)) || !benchSection(name))) await loadBenchSections();
  const section = benchSection(name);
  if (!section?.work) throw new Error(`no bench worker for section "${name}"`);
  const start = process.hrtime.bigint();
  const result = await section.work(file, args);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ ...result, seconds, peakRssBytes: peakRssBytes() }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
