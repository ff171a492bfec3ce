/**
 * Bench sections: each layer registers one in its own file under src/bench/sections/ (every file
 * there is loaded by main and by the worker). A section has two halves:
 *  - `work(file, args)`: OUR code over the capture, run inside a child process (dist/bench/worker.js)
 *    so its peak RSS is that run's alone; returns what it processed;
 *  - `run(ctx)`: the orchestration in the parent: measure ours (ctx.measureOurs) and the peers
 *    (ctx.measurePeer) on the same file in the same run, print rows, ratios and bars.
 */

/** What a worker reports about one run of our code. */
export interface WorkResult {
  /** Input bytes processed (file bytes). */
  bytes: number;
  packets: number;
  /** Free-form figures a section wants printed (connections, edits, ...). */
  extra?: Record<string, number | string>;
}

/** One measured run (ours or a peer's). */
export interface Measurement {
  label: string;
  seconds: number;
  bytes: number;
  packets: number;
  /** Peak resident set size in bytes, or null when it could not be measured. */
  peakRssBytes: number | null;
  extra?: Record<string, number | string>;
}

export interface PeerCommand {
  label: string;
  /** Executable name (looked up on PATH) and arguments. */
  command: string;
  args: string[];
}

export interface BenchContext {
  /** The bulk capture every section measures. */
  file: string;
  fileBytes: number;
  packets: number;
  /** Best of this many runs for each measurement. */
  runs: number;
  /** Runs `work` of the named section in a child process, best of ctx.runs. */
  measureOurs(label: string, section: string, args?: string[]): Promise<Measurement>;
  /** Runs a peer tool on the capture, best of ctx.runs; null (with a printed note) when not installed. */
  measurePeer(peer: PeerCommand): Promise<Measurement | null>;
  /** Prints a table of measurements, with throughput ratios against the first row. */
  table(rows: ReadonlyArray<Measurement | null>): void;
  /** Prints `PASS`/`FAIL` for a bar. */
  bar(description: string, pass: boolean, detail: string): void;
  log(line: string): void;
}

export interface BenchSection {
  name: string;
  description: string;
  /** Runs our code over `file` (in the worker process). */
  work?(file: string, args: string[]): Promise<WorkResult>;
  run(ctx: BenchContext): Promise<void>;
}

const sections = new Map<string, BenchSection>();

export function registerBenchSection(section: BenchSection): void {
  if (sections.has(section.name)) throw new Error(`bench section "${section.name}" registered twice`);
  sections.set(section.name, section);
}

export function benchSections(): BenchSection[] {
  return [...sections.values()];
}

export function benchSection(name: string): BenchSection | undefined {
  return sections.get(name);
}
