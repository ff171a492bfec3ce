/**
 * `npm run build` step after tsc: bundles the program into one file per entry with esbuild, because
 * loading some 150 ES modules one by one is a third of the CLI's start-up (`--version`: ~100 ms
 * unbundled, ~70 ms bundled; Node's own start is ~45 ms of either). Outputs:
 * - dist/smtp-inspect.mjs: the command line (dist/cli/main.js and everything it imports, commander
 *   included; the optional native `cap` binding stays external and is found at run time);
 * - dist/bench/bundles/<section>.mjs: the bench worker with one section, so a section is measured
 *   loading the way the installed program loads.
 * The entries (src/cli/smtp-inspect.cts, src/bench/worker-entry.cts) fall back to the unbundled
 * modules when a bundle is missing or older than them (a plain `tsc` after an edit).
 * It also copies the launcher (src/cli/launcher.cjs, plain JavaScript tsc does not compile) to
 * dist/cli/launcher.cjs, the package's `bin`, executable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.resolve(DIST, '..', 'src');

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['cap'],
  logLevel: 'warning',
  // Bundled CommonJS dependencies (commander) call require() for Node's modules.
  banner: { js: "import { createRequire as __smtpInspectRequire } from 'node:module'; const require = __smtpInspectRequire(import.meta.url);" },
};

async function main(): Promise<void> {
  const launcher = path.join(DIST, 'cli/launcher.cjs');
  fs.copyFileSync(path.join(SRC, 'cli/launcher.cjs'), launcher);
  fs.chmodSync(launcher, 0o755);

  await build({ ...common, entryPoints: [path.join(DIST, 'cli/main.js')], outfile: path.join(DIST, 'smtp-inspect.mjs') });

  const sectionsDir = path.join(DIST, 'bench/sections');
  const outDir = path.join(DIST, 'bench/bundles');
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(sectionsDir).filter((n) => n.endsWith('.js')).sort()) {
    const slug = f.slice(0, -'.js'.length);
    await build({
      ...common,
      // The section registers itself first; the worker then finds it registered and runs it.
      stdin: { contents: `import './sections/${f}';\nimport './worker.js';\n`, resolveDir: path.join(DIST, 'bench'), loader: 'js' },
      outfile: path.join(outDir, `${slug}.mjs`),
    });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
