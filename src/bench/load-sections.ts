/**
 * Loads every module in the sections/ folder next to this file (each registers itself), in name
 * order, so a layer adds its bench section by adding a file — no shared list to edit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export async function loadBenchSections(): Promise<void> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sections');
  if (!fs.existsSync(dir)) return;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  for (const f of files) await import(pathToFileURL(path.join(dir, f)).href);
}
