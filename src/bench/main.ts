/**
 * `npm run bench [-- --size BYTES] [--only SECTION[,SECTION]] [--runs N] [--file CAPTURE]`
 *
 * Makes (or reuses) the deterministic bulk SMTP capture, then runs every registered section:
 * our code in a child worker and the peer tools on the same file in the same run, printing
 * MB/s, packets/s, peak RSS and ratios, and the issues' bars as PASS/FAIL lines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_BENCH_BYTES, ensureBulkCapture, GENERATOR_VERSION } from './generate.js';
import { loadBenchSections } from './load-sections.js';
import { measureOurs, measurePeer, rssMethod } from './measure.js';
import { benchSections, type BenchContext, type Measurement } from './registry.js';
import { positiveIntegerOption } from '../cli/numbers.js';
import { SmtpInspectError } from '../errors.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MB = 1e6;
const MiB = 1024 * 1024;

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function printTable(rows: ReadonlyArray<Measurement | null>, log: (s: string) => void): void {
  const present = rows.filter((r): r is Measurement => r !== null);
  const ours = present[0];
  log(`  ${'run'.padEnd(44)} ${'time s'.padStart(8)} ${'MB/s'.padStart(9)} ${'packets/s'.padStart(12)} ${'peak RSS MB'.padStart(12)}  ratio`);
  for (const r of present) {
    const mbps = r.bytes / MB / r.seconds;
    const pps = r.packets / r.seconds;
    const rss = r.peakRssBytes === null ? 'n/a' : (r.peakRssBytes / MiB).toFixed(1);
    let ratio = '';
    if (ours && r !== ours) ratio = `ours ${(r.seconds / ours.seconds).toFixed(2)}x the throughput`;
    const extra = r.extra ? '  ' + Object.entries(r.extra).map(([k, v]) => `${k}=${v}`).join(' ') : '';
    log(`  ${r.label.padEnd(44)} ${r.seconds.toFixed(3).padStart(8)} ${mbps.toFixed(1).padStart(9)} ${fmtInt(pps).padStart(12)} ${rss.padStart(12)}  ${ratio}${extra}`);
  }
}

function warmPageCache(file: string): void {
  // Every contestant then reads from the page cache, not the disk (the first would pay for it).
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 * MiB);
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0) {
    // reading only
  }
  fs.closeSync(fd);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      only: { type: 'string' },
      runs: { type: 'string' },
      file: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'npm run bench -- [--size BYTES] [--only SECTION[,SECTION]] [--runs N] [--file CAPTURE]\n' +
        `  --size   size of the generated bulk capture (default ${DEFAULT_BENCH_BYTES})\n` +
        '  --only   run only these sections\n  --runs   best of N runs per contestant (default 3)\n' +
        '  --file   measure an existing capture instead of the generated one\n',
    );
    return 0;
  }
  const size = values.size !== undefined ? positiveIntegerOption(values.size, '--size') : DEFAULT_BENCH_BYTES;
  const runs = values.runs !== undefined ? positiveIntegerOption(values.runs, '--runs') : 3;
  if (size < 1_000_000) throw new SmtpInspectError('E_USAGE', `--size must be at least 1000000, got "${values.size}"`);

  const log = (s: string): void => void process.stdout.write(s + '\n');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  log(`smtp-inspect bench — Node ${process.version}, ${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`);

  let file: string;
  let fileBytes: number;
  let packets: number;
  if (values.file) {
    file = path.resolve(values.file);
    fileBytes = fs.statSync(file).size;
    packets = 0; // filled from our first measurement
    log(`capture: ${file} (${fmtInt(fileBytes)} bytes, given with --file)`);
  } else {
    const t0 = Date.now();
    const bulk = ensureBulkCapture(path.join(REPO_ROOT, '.bench'), size);
    file = bulk.file;
    fileBytes = bulk.stats.bytes;
    packets = bulk.stats.packets;
    const how = bulk.generated ? `generated in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'cached';
    log(
      `capture: ${path.relative(process.cwd(), file)} (generator v${GENERATOR_VERSION}, ${how}): ${fmtInt(fileBytes)} bytes, ` +
        `${fmtInt(packets)} packets, ${fmtInt(bulk.stats.sessions)} SMTP sessions ` +
        `(${bulk.stats.manyRcptSessions} with >100 RCPT, ${bulk.stats.unknownCommandSessions} with an unknown command, ` +
        `${bulk.stats.longHeaderSessions} with a header line >998 bytes)`,
    );
  }
  warmPageCache(file);
  log(`best of ${runs} run(s); time = child process wall clock; peak RSS: ${rssMethod}`);

  await loadBenchSections();
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null;
  const selected = benchSections().filter((s) => !only || only.has(s.name));
  if (only) {
    for (const name of only) if (!selected.some((s) => s.name === name)) log(`note: no bench section named "${name}"`);
  }

  let failures = 0;
  for (const section of selected) {
    log('');
    log(`== ${section.name}: ${section.description}`);
    const ctx: BenchContext = {
      file,
      fileBytes,
      packets,
      runs,
      async measureOurs(label, name, args = []) {
        const m = await measureOurs(label, name, file, args, runs);
        if (ctx.packets === 0) ctx.packets = m.packets;
        return m;
      },
      async measurePeer(peer) {
        const m = await measurePeer(peer, fileBytes, ctx.packets, runs);
        if (!m) log(`  note: ${peer.command} not installed: "${peer.label}" skipped`);
        return m;
      },
      table: (rows) => printTable(rows, log),
      bar(description, pass, detail) {
        if (!pass) failures++;
        log(`  ${pass ? 'PASS' : 'FAIL'} ${description} (${detail})`);
      },
      log,
    };
    try {
      await section.run(ctx);
    } catch (err) {
      failures++;
      log(`  ERROR ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  log('');
  log(failures === 0 ? 'bench: all bars passed' : `bench: ${failures} bar(s) failed or errored`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
