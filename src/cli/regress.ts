/** `smtp-inspect regress DIR [--update]`: replay every case of a suite and compare with its expectations. */
import type { Command } from 'commander';
import { action } from './errors.js';
import { exitQuietlyOnClosedStdout } from '../diagnose/stdout.js';
import fs from 'node:fs';
import path from 'node:path';
import { SmtpInspectError } from '../errors.js';
import { junitReport } from '../regress/junit.js';
import { checkOutputsCreatable } from '../output/writable.js';
import { runSuite, suiteExitCode, type SuiteCaseResult } from '../regress/run.js';

function plural(n: number): string {
  return `${n} case${n === 1 ? '' : 's'}`;
}

/**
 * The last line: all passed, or (--update) how many were rewritten and how many already matched,
 * or how many failed (output differs) and how many could not run; and how many --case left out.
 */
function summaryLine(results: readonly SuiteCaseResult[], update: boolean, notSelected: number): string {
  const failed = results.filter((r) => r.status === 'fail');
  const errored = results.filter((r) => r.status === 'error');
  const rest = notSelected > 0 ? ` (${plural(notSelected)} not selected by --case)` : '';
  if (failed.length === 0 && errored.length === 0) {
    if (!update) return `${plural(results.length)} passed${rest}`;
    const updated = results.filter((r) => r.status === 'updated').length;
    return `${plural(results.length)}: ${updated} updated, ${results.length - updated} unchanged${rest}`;
  }
  const parts: string[] = [];
  if (update) {
    const updated = results.filter((r) => r.status === 'updated').length;
    parts.push(`${plural(results.length)}: ${updated} updated, ${results.filter((r) => r.status === 'ok').length} unchanged`);
  }
  if (failed.length > 0) parts.push(`${failed.length} of ${plural(results.length)} failed: ${failed.map((f) => f.name).join(', ')}`);
  const unwritten = errored.filter((r) => r.outputError === true);
  const notRun = errored.filter((r) => r.outputError !== true);
  if (notRun.length > 0) {
    parts.push(`${notRun.length} of ${plural(results.length)} could not run (ERROR): ${notRun.map((f) => f.name).join(', ')}`);
  }
  if (unwritten.length > 0) {
    parts.push(`${unwritten.length} of ${plural(results.length)} could not be written (ERROR): ${unwritten.map((f) => f.name).join(', ')}`);
  }
  return parts.join('; ') + rest;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerRegress(program: Command): void {
  program
    .command('regress')
    .summary('replay case folders and compare with their expected outputs')
    .description(
      'Replay every case folder of DIR (capture + optional policy.txt and case.json; case folders may be grouped in ' +
        'sub-folders) and compare verdicts, annotations, counts and output digests with the expected.* files. ' +
        'Exit 1 with a readable diff when an output differs (FAIL); exit 2 when a case cannot run (ERROR: bad ' +
        'case.json, policy, engine option or capture, missing or ambiguous capture); every case runs either way. ' +
        'With --update, only the expected.* files whose content changes are written, each case says which, and ' +
        'what changed is shown for review; a case that cannot run is left as it is (exit 2), an expectation file ' +
          'that cannot be written is named (exit 3) and the other cases are still updated.',
    )
    .argument('<dir>', 'suite folder (case folders holding capture.pcap|capture.pcapng, grouped or not), or one case folder')
    .option('--update', 'rewrite the expected.* files that differ from this run (review the changes shown before committing)')
    .option(
      '--case <pattern>',
      "run only the cases whose name (path under DIR) or group matches, e.g. 07c-rcpt-101, tls, 'tls/*', '**/rcpt-*': * and ? stay within a folder, ** crosses folders; repeatable; a pattern matching no case is an error (exit 2)",
      collect,
    )
    .option('--junit <FILE>', 'also write the results as JUnit XML (for CI test reports: a FAIL is a <failure>, an ERROR an <error>, with the lines shown here)')
    .action(
      action(async (dir: string, opts: { update?: boolean; case?: string[]; junit?: string }) => {
        exitQuietlyOnClosedStdout();
        // A report path that cannot be written fails now, not after the whole suite has run.
        checkOutputsCreatable([opts.junit]);
        const update = opts.update === true;
        let notSelected = 0;
        const results = await runSuite(dir, {
          update,
          select: opts.case ?? [],
          onSelect: (selected, total) => (notSelected = total - selected),
          log: (l) => process.stdout.write(l + '\n'),
        });
        process.stdout.write(summaryLine(results, update, notSelected) + '\n');
        if (opts.junit !== undefined) {
          try {
            fs.writeFileSync(opts.junit, junitReport(results, path.basename(path.resolve(dir))));
          } catch (err) {
            throw new SmtpInspectError('E_OUTPUT', `cannot write the JUnit report (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { file: opts.junit });
          }
        }
        return suiteExitCode(results);
      }),
    );
}
