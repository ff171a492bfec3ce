/** `smtp-inspect regress DIR [--update]`: replay every case of a suite and compare with its expectations. */
import type { Command } from 'commander';
import { action } from './errors.js';
import { exitQuietlyOnClosedStdout } from '../diagnose/stdout.js';
import { runSuite, suiteExitCode, type SuiteCaseResult } from '../regress/run.js';

function plural(n: number): string {
  return `${n} case${n === 1 ? '' : 's'}`;
}

/** The last line: all passed/updated, or how many failed (output differs) and how many could not run. */
function summaryLine(results: readonly SuiteCaseResult[], update: boolean): string {
  const failed = results.filter((r) => r.status === 'fail');
  const errored = results.filter((r) => r.status === 'error');
  if (failed.length === 0 && errored.length === 0) return `${plural(results.length)} ${update ? 'updated' : 'passed'}`;
  const parts: string[] = [];
  if (failed.length > 0) parts.push(`${failed.length} of ${plural(results.length)} failed: ${failed.map((f) => f.name).join(', ')}`);
  if (errored.length > 0) {
    parts.push(`${errored.length} of ${plural(results.length)} could not run (ERROR): ${errored.map((f) => f.name).join(', ')}`);
  }
  return parts.join('; ');
}

export function registerRegress(program: Command): void {
  program
    .command('regress')
    .summary('replay case folders and compare with their expected outputs')
    .description(
      'Replay every case folder of DIR (capture + optional policy.txt and case.json; case folders may be grouped in ' +
        'sub-folders) and compare verdicts, annotations, counts and output digests with the expected.* files. ' +
        'Exit 1 with a readable diff when an output differs (FAIL); exit 2 when a case cannot run (ERROR: bad ' +
        'case.json, policy, engine option or capture, missing or ambiguous capture); every case runs either way.',
    )
    .argument('<dir>', 'suite folder (case folders holding capture.pcap|capture.pcapng, grouped or not), or one case folder')
    .option('--update', 'rewrite the expected.* files from this run (review them before committing)')
    .action(
      action(async (dir: string, opts: { update?: boolean }) => {
        exitQuietlyOnClosedStdout();
        const update = opts.update === true;
        const results = await runSuite(dir, { update, log: (l) => process.stdout.write(l + '\n') });
        process.stdout.write(summaryLine(results, update) + '\n');
        return suiteExitCode(results);
      }),
    );
}
