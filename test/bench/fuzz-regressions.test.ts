/**
 * Every input a fuzz target ever failed on (test/fuzz-regressions/<target>/*.bin) is replayed
 * through that target: only success or the target's defined error is acceptable, and memory must
 * not grow with what the input claims.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { loadFuzzTargets } from '../../src/bench/load-sections.js';
import { fuzzTargets, type FuzzTarget } from '../../src/bench/fuzz-registry.js';
import { REGRESSIONS_DIR, regressionDir } from '../../src/bench/corpus.js';

const cases: Array<[string, string]> = [];
for (const dir of fs.existsSync(REGRESSIONS_DIR) ? fs.readdirSync(REGRESSIONS_DIR).sort() : []) {
  const full = path.join(REGRESSIONS_DIR, dir);
  if (!fs.statSync(full).isDirectory()) continue;
  for (const f of fs.readdirSync(full).sort()) if (f.endsWith('.bin')) cases.push([dir, path.join(full, f)]);
}

describe('fuzz regressions', () => {
  let targets: FuzzTarget[] = [];
  beforeAll(async () => {
    await loadFuzzTargets();
    targets = fuzzTargets();
  });

  it('the folder holds cases and every case folder belongs to a registered target', () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const [dir] of cases) {
      expect(targets.some((t) => path.basename(regressionDir(t.name)) === dir), `target for ${dir}`).toBe(true);
    }
  });

  it.each(cases.map(([dir, file]) => [`${dir}/${path.basename(file)}`, dir, file]))('%s', async (_name, dir, file) => {
    const target = targets.find((t) => path.basename(regressionDir(t.name)) === dir)!;
    const input = fs.readFileSync(file);
    const rssBefore = process.memoryUsage().rss;
    let error: unknown = null;
    try {
      await target.run(input);
    } catch (err) {
      error = err;
    }
    if (error !== null) expect(target.isExpectedError(error), String(error instanceof Error ? error.stack : error)).toBe(true);
    // Hand-made hostile inputs must be refused, not read.
    if (path.basename(file).startsWith('claim-')) expect(error).not.toBeNull();
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });
});
