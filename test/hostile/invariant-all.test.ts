/**
 * The no-loss invariant (`replay --check` semantics: executeReplay + checkReplayInvariant) over
 * every capture we have: the project's case folders (with their policy and options), the shared
 * generated and external captures, and 20 fuzzed captures (mutated real ones, some ending in a
 * CaptureError). tshark then reads every OUT in one run over a mergecap concatenation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkedReplay } from '../../src/bench/fuzz-targets/replay.js';
import { captureFiles } from '../../src/bench/corpus.js';
import { mutateRandomly } from '../../src/bench/mutate.js';
import { Prng } from '../../src/bench/prng.js';
import type { ReplayCliOptions } from '../../src/cli/replay.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, PROJECT_CAPTURES, haveShared, haveTool, tshark } from '../helpers/shared.js';

interface Input {
  name: string;
  file: string;
  extra: Partial<ReplayCliOptions>;
}

interface CaseJson {
  engineOptions?: string[];
  profile?: 'asa' | 'analysis';
  checksum?: 'incremental' | 'fix' | 'keep';
}

function caseInputs(): Input[] {
  if (!fs.existsSync(PROJECT_CAPTURES)) return [];
  const out: Input[] = [];
  for (const d of fs.readdirSync(PROJECT_CAPTURES).sort()) {
    const dir = path.join(PROJECT_CAPTURES, d);
    if (!fs.statSync(dir).isDirectory()) continue;
    const cap = fs.readdirSync(dir).find((f) => /^capture\.(pcap|pcapng)(\.gz)?$/.test(f));
    if (!cap) continue;
    const extra: Partial<ReplayCliOptions> = {};
    const policy = path.join(dir, 'policy.txt');
    if (fs.existsSync(policy)) extra.policy = policy;
    const cj = path.join(dir, 'case.json');
    if (fs.existsSync(cj)) {
      const c = JSON.parse(fs.readFileSync(cj, 'utf8')) as CaseJson;
      if (c.engineOptions) extra.set = c.engineOptions;
      if (c.profile) extra.profile = c.profile;
      if (c.checksum) extra.checksum = c.checksum;
    }
    out.push({ name: `captures/${d}`, file: path.join(dir, cap), extra });
  }
  return out;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-invariant-'));

function fuzzedInputs(n: number): Input[] {
  const seeds = captureFiles([GENERATED_DIR], 200_000);
  const rng = new Prng(424242);
  const out: Input[] = [];
  for (let i = 0; i < n && seeds.length > 0; i++) {
    const seed = rng.pick(seeds);
    const { output } = mutateRandomly(fs.readFileSync(seed), rng);
    const file = path.join(tmp, `fuzzed-${i}${path.extname(seed)}`);
    fs.writeFileSync(file, output);
    out.push({ name: `fuzzed-${i} (${path.basename(seed)})`, file, extra: {} });
  }
  return out;
}

const outs: Array<{ name: string; out: string; packets: number }> = [];
let counter = 0;

async function check(inputs: Input[]): Promise<{ ok: number; inputErrors: number }> {
  let inputErrors = 0;
  for (const x of inputs) {
    const dir = path.join(tmp, `run-${counter++}`);
    fs.mkdirSync(dir);
    let r;
    try {
      r = await checkedReplay(x.file, dir, x.extra);
    } catch (err) {
      throw new Error(`${x.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (r.inputError) inputErrors++;
    outs.push({ name: x.name, out: r.out, packets: r.packetsOut });
  }
  return { ok: inputs.length - inputErrors, inputErrors };
}

const ready = haveShared;

describe.skipIf(!ready)('the invariant over every capture', () => {
  beforeAll(() => {
    outs.length = 0;
  });

  it("the project's case folders (their policies and options)", async () => {
    const inputs = caseInputs();
    expect(inputs.length).toBeGreaterThan(20);
    const r = await check(inputs);
    expect(r.inputErrors).toBe(0);
  }, 60_000);

  it('the shared generated captures', async () => {
    const r = await check(captureFiles([GENERATED_DIR], 50_000_000).map((f) => ({ name: path.basename(f), file: f, extra: {} })));
    expect(r.ok).toBeGreaterThan(25);
  }, 60_000);

  it('the shared external captures', async () => {
    const r = await check(captureFiles([EXTERNAL_PCAPS], 50_000_000).map((f) => ({ name: path.basename(f), file: f, extra: {} })));
    expect(r.ok).toBeGreaterThan(30);
  }, 60_000);

  it('20 fuzzed captures (mutated real ones)', async () => {
    const r = await check(fuzzedInputs(20));
    // Mutations both keep captures readable and break them: both paths are covered.
    expect(r.ok).toBeGreaterThan(0);
    expect(r.inputErrors).toBeGreaterThan(0);
  }, 60_000);

  it.skipIf(!haveTool('tshark') || !haveTool('mergecap'))('tshark reads every OUT (one run over a mergecap concatenation)', () => {
    expect(outs.length).toBeGreaterThan(100);
    const merged = path.join(tmp, 'all-out.pcapng');
    const nonEmpty = outs.filter((o) => o.packets > 0);
    execFileSync('mergecap', ['-a', '-F', 'pcapng', '-w', merged, ...nonEmpty.map((o) => o.out)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const text = tshark(['-r', merged, '-T', 'fields', '-e', 'frame.number']);
    const frames = text.split('\n').filter((l) => l !== '').length;
    expect(frames).toBe(nonEmpty.reduce((a, o) => a + o.packets, 0));
  }, 60_000);
});
