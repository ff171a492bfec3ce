/**
 * `npm run fuzz -- [--minutes N] [--target NAME] [--seed S] [--timeout-ms MS] [--max-rss-mb MB]`
 *
 * Mutation loop over real captures (and whatever seeds other targets declare): every input goes to
 * a child process (fuzz-child.js, heap capped) with a per-input time bound. A finding is an
 * unexpected exception, a crash, a hang, or RSS growing past the bound; its input is saved under
 * test/fuzz-regressions/<target>/ and test/bench/fuzz-regressions.test.ts replays it from then on.
 */
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadFuzzTargets } from './load-sections.js';
import { fuzzTargets, type FuzzTarget } from './fuzz-registry.js';
import { mutateRandomly } from './mutate.js';
import { Prng } from './prng.js';
import { regressionDir } from './corpus.js';
import type { JobResult } from './fuzz-child.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fuzz-child.js');
const CHILD_HEAP_MB = 512;

function saveFinding(target: string, input: Buffer, reason: string): string {
  const dir = regressionDir(target);
  fs.mkdirSync(dir, { recursive: true });
  const id = crypto.createHash('sha256').update(input).digest('hex').slice(0, 16);
  const file = path.join(dir, `${id}.bin`);
  fs.writeFileSync(file, input);
  fs.writeFileSync(path.join(dir, `${id}.txt`), reason.trim() + '\n');
  return file;
}

class ChildRunner {
  private child: ChildProcess | null = null;
  private pending: ((r: JobResult | { crashed: string }) => void) | null = null;
  private nextId = 0;

  private async start(): Promise<void> {
    const child = fork(CHILD, [], {
      execArgv: [`--max-old-space-size=${CHILD_HEAP_MB}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      // A child we already killed (hang, memory) and replaced has nothing left to report.
      if (this.child !== child) return;
      this.child = null;
      const p = this.pending;
      this.pending = null;
      p?.({ crashed: `child exited (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-5).join(' | ')}` });
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('error', reject);
    });
    child.on('message', (r: JobResult) => {
      const p = this.pending;
      this.pending = null;
      p?.(r);
    });
  }

  async run(target: string, input: Buffer, timeoutMs: number): Promise<JobResult | { crashed: string } | { hung: true }> {
    if (!this.child) await this.start();
    const child = this.child!;
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = null;
        this.child = null;
        child.kill('SIGKILL');
        resolve({ hung: true });
      }, timeoutMs);
      this.pending = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      child.send({ id, target, input });
    });
  }

  restart(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  stop(): void {
    this.child?.disconnect();
    this.child = null;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      target: { type: 'string' },
      seed: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'max-rss-mb': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('npm run fuzz -- [--minutes N (default 1)] [--target NAME] [--seed S] [--timeout-ms 10000] [--max-rss-mb 400]\n');
    return 0;
  }
  const minutes = values.minutes ? Number(values.minutes) : 1;
  const seed = values.seed ? Number(values.seed) : Date.now() & 0x7fffffff;
  const timeoutMs = values['timeout-ms'] ? Number(values['timeout-ms']) : 10_000;
  const maxRss = (values['max-rss-mb'] ? Number(values['max-rss-mb']) : 400) * 1024 * 1024;
  if (!(minutes > 0)) throw new Error('--minutes must be > 0');

  await loadFuzzTargets();
  let targets: FuzzTarget[] = fuzzTargets();
  if (values.target) targets = targets.filter((t) => t.name === values.target);
  if (targets.length === 0) throw new Error(`no fuzz target${values.target ? ` named ${values.target}` : ''}`);

  const seeds = new Map<string, Buffer[]>();
  for (const t of targets) {
    const bufs = t.seeds().filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
    if (bufs.length === 0) bufs.push(Buffer.alloc(0));
    seeds.set(t.name, bufs);
    process.stdout.write(`target ${t.name}: ${t.description}; ${bufs.length} seed(s)\n`);
  }
  process.stdout.write(`seed ${seed}; ${minutes} minute(s); per-input bound ${timeoutMs} ms; RSS bound ${maxRss / 1024 / 1024} MB\n`);

  const rng = new Prng(seed);
  const runner = new ChildRunner();
  const deadline = Date.now() + minutes * 60_000;
  let inputs = 0;
  let expected = 0;
  let findings = 0;
  let lastReport = Date.now();
  try {
    while (Date.now() < deadline) {
      const target = targets[inputs % targets.length]!;
      const pool = seeds.get(target.name)!;
      const { output, ops } = mutateRandomly(rng.pick(pool), rng);
      const r = await runner.run(target.name, output, timeoutMs);
      inputs++;
      let reason: string | null = null;
      if ('hung' in r) reason = `hang: no result within ${timeoutMs} ms`;
      else if ('crashed' in r) reason = `crash: ${r.crashed}`;
      else if (r.outcome === 'unexpected-error') reason = `unexpected error: ${r.detail}`;
      else {
        if (r.outcome === 'expected-error') expected++;
        if (r.rssBytes > maxRss) {
          reason = `memory: RSS ${(r.rssBytes / 1024 / 1024).toFixed(0)} MB after a ${output.length}-byte input`;
          runner.restart();
        }
      }
      if (reason) {
        findings++;
        const file = saveFinding(target.name, output, `${reason}\nmutations: ${ops.join(', ')}\nfuzz seed: ${seed}`);
        process.stdout.write(`FINDING (${target.name}) ${reason.split('\n')[0]} -> ${path.relative(process.cwd(), file)}\n`);
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        process.stdout.write(`  ${inputs} inputs, ${expected} defined errors, ${findings} findings\n`);
      }
    }
  } finally {
    runner.stop();
  }
  process.stdout.write(`fuzz: ${inputs} inputs, ${expected} ended in a defined error, ${inputs - expected - findings} read cleanly, ${findings} finding(s)\n`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
