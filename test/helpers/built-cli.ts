/**
 * The built command-line program for tests that run it as a user would (a child process).
 * `npm ci` builds dist (prepare); a test run after editing src rebuilds it only when a source is
 * newer than the build (a neighbour's type error does not stop tsc from emitting).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './shared.js';

export const CLI_MAIN = path.join(REPO_ROOT, 'dist/cli/main.js');

function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (m, e) => Math.max(m, e.isDirectory() ? newestMtime(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs),
    0,
  );
}

/** Rebuilds dist when src is newer; true when the entry point exists afterwards. */
export function ensureBuiltCli(): boolean {
  const built = existsSync(CLI_MAIN) ? statSync(CLI_MAIN).mtimeMs : 0;
  if (newestMtime(path.join(REPO_ROOT, 'src')) > built) {
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(REPO_ROOT, 'tsconfig.build.json')], { stdio: 'ignore' });
  }
  return existsSync(CLI_MAIN);
}
