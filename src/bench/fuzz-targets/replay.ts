/**
 * Fuzz target "replay": a mutated real capture through the whole pipeline (reader, decoder,
 * reassembly, engine, rewriter, writers) with `replay --check` semantics: OUT and the verdicts go
 * to temporary files and checkReplayInvariant must hold afterwards (every input packet in OUT or
 * in a drop record, OUT reads back, no valid checksum made invalid), also when the input ended in
 * a CaptureError. Defined outcomes: success or a CaptureError with its code and byte offset.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { executeReplay, type ReplayCliOptions } from '../../cli/replay.js';
import { CaptureError } from '../../errors.js';
import { checkReplayInvariant } from '../../pipeline/invariant.js';
import { captureFiles, FIXTURE_CAPTURE_DIRS, REPO_ROOT, SHARED_CAPTURES } from '../corpus.js';
import { registerFuzzTarget } from '../fuzz-registry.js';

export class ReplayInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayInvariantError';
  }
}

let tmpDir: string | null = null;
let counter = 0;

export interface CheckedReplay {
  packetsIn: number;
  /** Packets in OUT (checked against OUT itself by the invariant). */
  packetsOut: number;
  inputError: CaptureError | null;
}

/** Replays `file` into `dir` and checks the invariant; throws ReplayInvariantError when it fails. */
export async function checkedReplay(file: string, dir: string, extra: Partial<ReplayCliOptions> = {}, useTshark = false): Promise<CheckedReplay & { out: string; verdicts: string }> {
  const out = path.join(dir, 'out' + (/\.pcapng(\.gz)?$/.test(file) ? '.pcapng' : '.pcap'));
  const verdicts = path.join(dir, 'verdicts.jsonl');
  const opts: ReplayCliOptions = { output: out, verdicts, checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true, ...extra };
  const r = await executeReplay(file, opts);
  if (r.inputError !== null && !(r.inputError instanceof CaptureError)) throw r.inputError;
  const report = await checkReplayInvariant({ input: file, summary: r.summary, out, verdicts, useTshark });
  if (!report.ok) throw new ReplayInvariantError(`invariant broken for ${path.basename(file)}: ${report.problems.join('; ')}`);
  return { packetsIn: r.summary.packets.in, packetsOut: r.summary.packets.out, inputError: r.inputError, out, verdicts };
}

export async function replayTarget(input: Buffer): Promise<void> {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-inspect-fuzz-replay-'));
  const dir = path.join(tmpDir, `run-${process.pid}-${counter++ % 4}`);
  fs.mkdirSync(dir, { recursive: true });
  const isNg = input.length >= 4 && input.readUInt32BE(0) === 0x0a0d0d0a;
  const file = path.join(dir, isNg ? 'input.pcapng' : 'input.pcap');
  fs.writeFileSync(file, input);
  try {
    const r = await checkedReplay(file, dir);
    if (r.inputError !== null) throw r.inputError;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function replaySeeds(): string[] {
  return captureFiles([path.join(REPO_ROOT, 'captures'), ...FIXTURE_CAPTURE_DIRS, path.join(SHARED_CAPTURES, 'generated'), path.join(SHARED_CAPTURES, 'external', 'pcaps')], 300_000);
}

registerFuzzTarget({
  name: 'replay',
  description: 'mutated real captures through the whole replay pipeline with --check semantics (no-loss invariant, OUT readable)',
  seeds: replaySeeds,
  run: replayTarget,
  isExpectedError: (err) => err instanceof CaptureError && err.offset !== undefined,
});
