/** Where the fuzz seeds live: the project's captures/ and the shared corpus beside the checkout. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_CAPTURES = path.join(process.env.SMTP_INSPECT_SHARED ?? path.resolve(REPO_ROOT, '../shared'), 'captures');

/** Capture files (pcap, pcapng, gz) under the given folders, smaller than `maxBytes`. */
export function captureFiles(dirs: readonly string[], maxBytes = 2_000_000): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng)(\.gz)?$/.test(name) && st.size <= maxBytes) out.push(p);
    }
  };
  for (const d of dirs) walk(d);
  return out;
}

/** Test fixtures made from real sessions: encapsulations (decode) and IP fragments (pipeline). */
export const FIXTURE_CAPTURE_DIRS = [path.join(REPO_ROOT, 'test', 'decode', 'fixtures'), path.join(REPO_ROOT, 'test', 'pipeline', 'fixtures')];

export function defaultCaptureSeeds(): string[] {
  return captureFiles([
    path.join(REPO_ROOT, 'captures'),
    ...FIXTURE_CAPTURE_DIRS,
    path.join(SHARED_CAPTURES, 'generated'),
    path.join(SHARED_CAPTURES, 'external', 'pcaps'),
  ]);
}

/** Inputs that ever failed a fuzz target, replayed by test/bench/fuzz-regressions.test.ts. */
export const REGRESSIONS_DIR = path.join(REPO_ROOT, 'test', 'fuzz-regressions');

export function regressionDir(targetName: string): string {
  return path.join(REGRESSIONS_DIR, targetName.replace(/[^a-zA-Z0-9-]/g, '_'));
}
