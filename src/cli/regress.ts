/** `smtp-inspect regress DIR [--update]`: replay every case of a suite and compare with its expectations. */
import type { Command } from 'commander';
import { EXIT } from '../errors.js';
import { action } from './errors.js';
import { exitQuietlyOnClosedStdout } from '../diagnose/stdout.js';
import { runSuite } from '../regress/run.js';

export function registerRegress(program: Command): void {
  program
    .command('regress')
    .summary('replay case folders and compare with their expected outputs')
    .description(
      'Replay every case folder of DIR (capture + optional policy.txt) and compare verdicts, annotations, ' +
        'counts and output digests with the expected.* files; exit 1 with a readable diff on any difference.',
    )
    .argument('<dir>', 'suite folder (folders holding capture.pcap|capture.pcapng), or one case folder')
    .option('--update', 'rewrite the expected.* files from this run (review them before committing)')
    .action(
      action(async (dir: string, opts: { update?: boolean }) => {
        exitQuietlyOnClosedStdout();
        const results = await runSuite(dir, { update: opts.update === true, log: (l) => process.stdout.write(l + '\n') });
        const failed = results.filter((r) => !r.ok);
        const verb = opts.update ? 'updated' : 'passed';
        process.stdout.write(
          failed.length === 0
            ? `${results.length} case${results.length === 1 ? '' : 's'} ${verb}\n`
            : `${failed.length} of ${results.length} case${results.length === 1 ? '' : 's'} failed: ${failed.map((f) => f.name).join(', ')}\n`,
        );
        return failed.length === 0 ? EXIT.OK : EXIT.FINDINGS;
      }),
    );
}
