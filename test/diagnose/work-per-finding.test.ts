/**
 * The work diagnose does grows with the candidates, not with the findings: each fix candidate is
 * compiled and replayed once, and the gateway exemption (which compiles the policy in rounds to
 * find every inspecting class) is built once per scope, however many findings ask for it. Before,
 * every X'd command of 12-unknown-commands built the exemption again (19 compiles for 4 replays),
 * quadratic on a capture of thousands of sessions.
 */
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { diagnose } from '../../src/diagnose/analyze.js';
import { keptForDiagnose } from '../../src/diagnose/notes.js';
import { transcribeCapture } from '../../src/diagnose/transcribe.js';
import { compilePolicyText, loadPolicy } from '../../src/policy/load.js';
import { replayInMemory } from '../../src/regress/replay-run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEMO = path.join(here, '../../captures/demo/capture.pcap');
/** The exemption's extra compiles: rounds 2.. of "exempt, then look again" (analyze.ts EXEMPT_ROUNDS = 4). */
const EXEMPTION_ROUNDS = 3;

async function counted(input: string) {
  const policy = await loadPolicy(null);
  const transcripts = await transcribeCapture(input, null);
  let compiles = 0;
  let replays = 0;
  const r = await diagnose({
    input, policy, policyText: '',
    compile: (text, source) => {
      compiles++;
      return compilePolicyText(text, source);
    },
    replay: async (p) => {
      replays++;
      return { verdicts: (await replayInMemory(input, p, { keep: keptForDiagnose })).verdicts, transcripts };
    },
  });
  return { r, compiles, replays };
}

describe('diagnose work per candidate, not per finding', () => {
  it.skipIf(!haveShared)('12-unknown-commands: 18 findings, each candidate compiled and replayed once, the exemption built once', async () => {
    const { r, compiles, replays } = await counted(path.join(GENERATED_DIR, '12-unknown-commands.pcap'));
    expect(r.counts.findings).toBeGreaterThanOrEqual(10);
    // the policy's own replay, then one per proposal
    expect(replays).toBe(1 + r.fixes.length);
    expect(compiles).toBeLessThanOrEqual(r.fixes.length + EXEMPTION_ROUNDS);
  });

  it('the demo capture (two sessions, 23 findings): the same', async () => {
    const { r, compiles, replays } = await counted(DEMO);
    expect(r.counts.findings).toBeGreaterThan(10);
    expect(replays).toBe(1 + r.fixes.length);
    expect(compiles).toBeLessThanOrEqual(r.fixes.length + EXEMPTION_ROUNDS);
  });
});
