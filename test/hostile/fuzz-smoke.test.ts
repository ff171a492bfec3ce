/**
 * The bounded fuzz run of `npm test` for the structure-level targets (the long run is
 * `npm run fuzz -- --minutes N --target NAME`): seeds from real captures and real policies,
 * byte-level mutations (src/bench/mutate.ts) plus each target's own structure-level mutations.
 * Only a target's defined outcome is accepted; any other error fails with the input saved to the
 * message (paste it into test/fuzz-regressions/<target>/ to keep it).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import fs from 'node:fs';
import { loadFuzzTargets } from '../../src/bench/load-sections.js';
import { fuzzTarget, type FuzzTarget } from '../../src/bench/fuzz-registry.js';
import { mutateRandomly } from '../../src/bench/mutate.js';
import { Prng } from '../../src/bench/prng.js';
import { runReassemblyScript, mutateScript, reassemblySeeds } from '../../src/bench/fuzz-targets/reassembly.js';
import { smtpEngineSeeds, decodeEngineScript, engineScriptOptions, runEngine, resplit } from '../../src/bench/fuzz-targets/smtp-engine.js';
import { policySeeds } from '../../src/bench/fuzz-targets/policy.js';
import { replaySeeds } from '../../src/bench/fuzz-targets/replay.js';
import { PolicyError, CaptureError } from '../../src/errors.js';
import { haveShared } from '../helpers/shared.js';

async function fuzz(target: FuzzTarget, seeds: Buffer[], iterations: number, seed: number): Promise<{ ok: number; defined: number }> {
  const rng = new Prng(seed);
  let ok = 0;
  let defined = 0;
  for (const s of seeds) {
    try {
      await target.run(s);
      ok++;
    } catch (err) {
      if (!target.isExpectedError(err)) throw new Error(`${target.name}: seed failed: ${String(err instanceof Error ? err.stack : err)}`);
      defined++;
    }
  }
  for (let i = 0; i < iterations; i++) {
    const { output, ops } = mutateRandomly(rng.pick(seeds), rng);
    try {
      await target.run(output);
      ok++;
    } catch (err) {
      if (!target.isExpectedError(err)) {
        throw new Error(`${target.name}: input ${i} (${ops.join(',')}; base64 ${output.length < 4096 ? output.toString('base64') : '(large)'}): ${String(err instanceof Error ? err.stack : err)}`);
      }
      defined++;
    }
  }
  return { ok, defined };
}

const read = (files: string[]): Buffer[] => files.filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));

describe.skipIf(!haveShared)('bounded fuzz: structure-level targets', () => {
  beforeAll(async () => {
    await loadFuzzTargets();
  });

  it('every target of issue 8 is registered and has real seeds', () => {
    for (const name of ['reassembly', 'smtp-engine', 'policy', 'replay']) expect(fuzzTarget(name), name).toBeDefined();
    expect(reassemblySeeds().length).toBeGreaterThan(20);
    expect(smtpEngineSeeds().length).toBeGreaterThan(20);
    expect(policySeeds().length).toBeGreaterThanOrEqual(5);
    expect(replaySeeds().length).toBeGreaterThan(50);
  });

  it('reassembly: 1500 mutated scripts, limits hit and respected', async () => {
    const seeds = read(reassemblySeeds());
    const r = await fuzz(fuzzTarget('reassembly')!, seeds, 1500, 8001);
    expect(r.defined).toBe(0);
    // The limits are really exercised (else the loop tests nothing).
    const rng = new Prng(8002);
    const hit = { ooo: 0, cap: 0, table: 0, gaps: 0 };
    for (let i = 0; i < 300; i++) {
      const s = runReassemblyScript(mutateScript(mutateRandomly(rng.pick(seeds), rng).output, rng));
      if (s.outOfOrderLimitHits > 0) hit.ooo++;
      if (s.memoryCapHits > 0) hit.cap++;
      if (s.connectionLimitHits > 0) hit.table++;
      if (s.gaps > 0) hit.gaps++;
    }
    expect(hit.table).toBeGreaterThan(0);
    expect(hit.gaps).toBeGreaterThan(0);
    expect(hit.ooo + hit.cap).toBeGreaterThan(0);
  });

  it('smtp-engine: 1500 mutated, re-split sessions (default and rich map) keep the edit contract', async () => {
    const seeds = read(smtpEngineSeeds());
    const r = await fuzz(fuzzTarget('smtp-engine')!, seeds, 1500, 8003);
    expect(r.defined).toBe(0);
    // Both maps and both judging modes were used, and edits happened.
    let edits = 0;
    const headers = new Set<number>();
    for (const s of seeds) {
      const { header, pieces } = decodeEngineScript(s);
      headers.add(header & 3);
      const { map, options } = engineScriptOptions(header);
      edits += runEngine(map, options, resplit(pieces, new Prng(header))).edits;
    }
    expect(headers.size).toBe(4);
    expect(edits).toBeGreaterThan(50);
  });

  it('policy: 600 mutated configurations end compiled or in a PolicyError with line:column', async () => {
    const seeds = read(policySeeds());
    const r = await fuzz(fuzzTarget('policy')!, seeds, 600, 8004);
    expect(r.defined).toBeGreaterThan(50);
    expect(r.ok).toBeGreaterThan(5);
    expect(fuzzTarget('policy')!.isExpectedError(new PolicyError('E_POLICY_SYNTAX', 'x', { line: 3, column: 1 }))).toBe(true);
    expect(fuzzTarget('policy')!.isExpectedError(new Error('x'))).toBe(false);
  });

  it('replay: 80 mutated captures through the pipeline, invariant holds, only CaptureError', async () => {
    const seeds = read(replaySeeds().filter((f) => fs.statSync(f).size < 60_000));
    const r = await fuzz(fuzzTarget('replay')!, seeds.slice(0, 12), 80, 8005);
    expect(r.defined).toBeGreaterThan(5);
    expect(r.ok).toBeGreaterThan(5);
    expect(fuzzTarget('replay')!.isExpectedError(new CaptureError('E_CAPTURE_TRUNCATED', 'x', { offset: 10 }))).toBe(true);
  }, 60_000);
});
