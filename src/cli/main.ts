#!/usr/bin/env node
/** smtp-inspect: the command-line entry point. Each command lives in its own module. */
import { Command } from 'commander';
import { registerInfo } from './info.js';
import { registerFlows } from './flows.js';
import { registerReplay } from './replay.js';
import { registerPolicy } from './policy.js';
import { registerLive } from './live.js';
import { registerProxy } from './proxy.js';
import { registerDiagnose } from './diagnose.js';
import { registerRegress } from './regress.js';
import { tuneHeapForReplay } from '../pipeline/heap-tuning.js';
import { exitQuietlyOnClosedStdout } from '../diagnose/stdout.js';

// Long replays: collect the old generation at 1.5x the live heap, not ~4x (peak RSS; see the module).
tuneHeapForReplay();

// `smtp-inspect … | head`: a reader that goes away ends any command with exit 3, not a stack trace.
exitQuietlyOnClosedStdout();

const program = new Command();
program
  .name('smtp-inspect')
  .description(
    'Emulates Cisco ASA ESMTP inspection (inspect esmtp) over pcap/pcapng captures, live traffic and an inline proxy: ' +
      'shows which rule hits which SMTP session, what it does to the bytes, and writes the modified capture.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .exitOverride((err) => {
    // commander's own usage errors: exit 2 as documented; --help/--version: 0
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) process.exit(0);
    process.exit(2);
  });

registerInfo(program);
registerFlows(program);
registerReplay(program);
registerPolicy(program);
registerLive(program);
registerProxy(program);
registerDiagnose(program);
registerRegress(program);

await program.parseAsync(process.argv);
