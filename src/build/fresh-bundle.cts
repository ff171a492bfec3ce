/**
 * Picks the bundled file when it is at least as new as the unbundled module it was made from, else
 * the module itself (a `tsc` run after an edit leaves the bundle stale). For the CommonJS entries.
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

export function freshBundleOr(bundle: string, module: string): string {
  try {
    if (fs.statSync(bundle).mtimeMs >= fs.statSync(module).mtimeMs) return pathToFileURL(bundle).href;
  } catch {
    // no bundle (or no module): the module
  }
  return pathToFileURL(module).href;
}
