/**
 * The bounded fuzz run of `npm test` (the long one is `npm run fuzz -- --minutes N`): mutated real
 * captures through the capture+decode target end in success or a CaptureError, nothing else.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { runCaptureDecode } from '../../src/bench/fuzz-targets/capture-decode.js';
import { CaptureError } from '../../src/errors.js';
import { mutate, mutateRandomly, MUTATIONS } from '../../src/bench/mutate.js';
import { Prng } from '../../src/bench/prng.js';
import { GENERATED_DIR, EXTERNAL_PCAPS, haveShared } from '../helpers/shared.js';

const SEEDS = haveShared
  ? [
      path.join(GENERATED_DIR, '02-ehlo-basic.pcap'),
      path.join(GENERATED_DIR, '18c-dumpcap-pcapng.pcapng'),
      path.join(GENERATED_DIR, '18d-nanosecond.pcap'),
      path.join(EXTERNAL_PCAPS, 'sv-url-base64-2525.pcap'),
      path.join(EXTERNAL_PCAPS, 'zeek-bdat-cmd-invalid.pcapng'),
    ].filter((f) => fs.existsSync(f))
  : [];

describe.skipIf(SEEDS.length === 0)('bounded fuzz: mutated real captures through reader + decoder', () => {
  it('every mutation kind produces a different input', () => {
    const seed = fs.readFileSync(SEEDS[0]!);
    const rng = new Prng(1);
    for (const op of MUTATIONS) {
      let changed = false;
      for (let i = 0; i < 20 && !changed; i++) changed = !mutate(seed, rng, op).equals(seed);
      expect(changed, op).toBe(true);
    }
  });

  it('400 mutated inputs: success or CaptureError only', async () => {
    const seeds = SEEDS.map((f) => fs.readFileSync(f));
    const rng = new Prng(20250101);
    let defined = 0;
    for (let i = 0; i < 400; i++) {
      const { output, ops } = mutateRandomly(rng.pick(seeds), rng);
      try {
        await runCaptureDecode(output);
      } catch (err) {
        if (!(err instanceof CaptureError)) throw new Error(`input ${i} (${ops.join(',')}): ${String(err)}`);
        expect(err.code).toMatch(/^E_CAPTURE_/);
        defined++;
      }
    }
    // Mutations that never break a capture would mean the loop tests nothing.
    expect(defined).toBeGreaterThan(20);
  });
});
