/**
 * Loads every module in a folder next to this file (each registers itself), in name order, so a
 * layer adds a bench section or a fuzz target by adding a file — no shared list to edit.
 * Accepts .js (built) and .ts (tests run from source).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

async function loadFolder(folder: string): Promise<void> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), folder);
  if (!fs.existsSync(dir)) return;
  const files = fs.readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort();
  for (const f of files) await import(pathToFileURL(path.join(dir, f)).href);
}

/** Bench sections: src/bench/sections/*. */
export function loadBenchSections(): Promise<void> {
  return loadFolder('sections');
}

/**
 * Loads just the file named after a section (`read+decode` -> sections/read-decode.js) when it
 * exists, so a worker does not pay for loading every other layer's modules; false when absent.
 */
export async function loadBenchSectionFile(name: string): Promise<boolean> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const slug = name.replace(/[^a-zA-Z0-9]+/g, '-');
  for (const ext of ['.js', '.ts']) {
    const file = path.join(here, 'sections', slug + ext);
    if (fs.existsSync(file)) {
      await import(pathToFileURL(file).href);
      return true;
    }
  }
  return false;
}

/** Fuzz targets: src/bench/fuzz-targets/*. */
export function loadFuzzTargets(): Promise<void> {
  return loadFolder('fuzz-targets');
}
