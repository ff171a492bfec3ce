/**
 * Locations of the shared test corpus (../shared/captures beside the checkout) and of external
 * tools used as oracles. Tests that need them skip with a printed reason when they are absent.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = process.env.SMTP_INSPECT_SHARED ?? path.resolve(REPO_ROOT, '../shared');
export const SHARED_CAPTURES = path.join(SHARED_DIR, 'captures');
export const GENERATED_DIR = path.join(SHARED_CAPTURES, 'generated');
export const EXTERNAL_DIR = path.join(SHARED_CAPTURES, 'external');
export const EXTERNAL_PCAPS = path.join(EXTERNAL_DIR, 'pcaps');
export const EXTERNAL_TRUTH = path.join(EXTERNAL_DIR, 'truth');
export const PROJECT_CAPTURES = path.join(REPO_ROOT, 'captures');

export const haveShared = existsSync(SHARED_CAPTURES);
if (!haveShared) {
  // Printed once per test file that imports this module.
  console.warn(`[skip] shared captures not found at ${SHARED_CAPTURES}: tests that need them are skipped`);
}

const toolCache = new Map<string, boolean>();
export function haveTool(name: string): boolean {
  let ok = toolCache.get(name);
  if (ok === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
      console.warn(`[skip] ${name} not installed: tests that need it are skipped`);
    }
    toolCache.set(name, ok);
  }
  return ok;
}

/** Deterministic tshark: no personal profile, C locale, UTC. */
export function tshark(args: string[], opts: { maxBuffer?: number } = {}): string {
  return execFileSync('tshark', args, {
    encoding: 'utf8',
    maxBuffer: opts.maxBuffer ?? 256 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C', TZ: 'UTC', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
