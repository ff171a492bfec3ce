/**
 * `smtp-inspect replay IN`: runs a capture through the ASA ESMTP emulation and writes what the
 * firewall would forward (OUT), the verdicts, the syslog lines, an annotated pcapng and a summary.
 * Every output is written in whole records, so after an error, a closed pipe or SIGINT each file is
 * valid and the summary matches its contents.
 */
import { statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { openCapture } from '../capture/open.js';
import type { CaptureSource } from '../capture/types.js';
import { createAnnotateWriter, createWriterLike, type WriterLike } from '../capture/writer-like.js';
import type { ChecksumMode } from '../decode/checksum.js';
import { EXIT, OutputError, SmtpInspectError } from '../errors.js';
import { loadPolicy, POLICY_MODES, type PolicyMode } from '../policy/load.js';
import { InspectionPipeline } from '../pipeline/inspection-pipeline.js';
import { checkReplayInvariant } from '../pipeline/invariant.js';
import { GuardedFeed } from '../pipeline/guarded-feed.js';
import type { PipelineProfile, ReplaySummary, SkippedBlockNote } from '../pipeline/types.js';
import { ProgressBar } from '../output/progress.js';
import { describeSkippedBlock, formatSummary } from '../output/summary.js';
import { MAX_OTHER_BLOCK_BYTES } from '../capture/limits.js';
import { blockTypeName } from '../capture/pcapng-reader.js';
import { SyslogFileWriter } from '../output/syslog.js';
import { VerdictFileWriter } from '../output/verdicts.js';
import { checkOutputsCreatable, removeOpenedOutputs } from '../output/writable.js';
import { action } from './errors.js';
import { endProcessIfInputBlocked, Interrupt, untilEndOrInterrupt } from './interrupt.js';
import { engineOptionsFromCli, collectEngineOption } from './engine-set.js';
import { checkOutputPaths } from './output-paths.js';
import { positiveIntegerOption } from './numbers.js';

export interface ReplayCliOptions {
  output?: string;
  policy?: string;
  policyMode?: PolicyMode;
  verdicts?: string;
  syslog?: string;
  syslogTimestamps?: boolean;
  annotate?: string;
  summary?: boolean;
  checksum: ChecksumMode;
  set?: string[];
  /** Undefined when not given: the config's interfaces and routes, else outside / inside (InterfaceEnds). */
  clientInterface?: string;
  serverInterface?: string;
  check?: boolean;
  asaOoo: boolean;
  profile?: PipelineProfile;
  maxHeld?: string;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .summary('replay a capture through the inspection (the main job)')
    .description(
      'Replay a capture through the ASA ESMTP inspection emulation: writes the modified capture (what the ASA would forward), ' +
        'verdicts (JSON lines), ASA syslog lines, an annotated pcapng and the show service-policy counters.',
    )
    .argument('<IN>', 'capture to replay (pcap, pcapng, optionally gzip-compressed; - for stdin)')
    .option('-o, --output <OUT>', 'write the modified capture here (same format as IN; - for stdout)')
    .option('--policy <FILE>', 'ASA running-config with the inspection policy (default: the ASA default policy)')
    .addOption(new Option('--policy-mode <MODE>', 'how the policy file is laid over the ASA factory default: auto (a show running-config printout replaces, an excerpt is merged as commands), merge, snapshot').choices([...POLICY_MODES]).default('auto'))
    .option('--verdicts <FILE>', 'write one JSON record per event (every dropped packet included)')
    .option('--syslog <FILE>', 'write the ASA syslog lines alone')
    .option('--syslog-timestamps', 'prefix syslog lines with the capture time in ASA "logging timestamp" form')
    .option('--annotate <FILE>', 'write every input packet (dropped ones too) as pcapng with a comment for each thing done or seen')
    .option('--summary', 'print the summary and counters (always printed when stderr is a terminal)')
    .addOption(new Option('--checksum <MODE>', 'TCP checksum of an edited packet: incremental (RFC 1624 update: a wrong one stays wrong), fix (recomputed), keep (left untouched: it no longer matches the edited bytes)').choices(['incremental', 'fix', 'keep']).default('incremental'))
    .option('--set <OPTION=VALUE>', 'engine option (repeatable), e.g. --set judging=line; --set help lists them', collectEngineOption)
    .option('--client-interface <NAME>', "ASA interface name of the clients (syslog lines; its interface service-policy applies); default: outside, or per connection from the --policy config's interfaces and routes when neither interface option is given")
    .option('--server-interface <NAME>', "ASA interface name of the servers (syslog lines; its interface service-policy applies); default: inside, or per connection from the config as for --client-interface")
    .option('--check', 'verify afterwards that every packet is accounted for and OUT is sound (exit 1 if not)')
    .option('--no-asa-ooo', "do not emulate the ASA's 3-packet / 4 s out-of-order queue (same as --profile analysis)")
    .addOption(new Option('--profile <NAME>', 'asa: emulate the ASA queue limits; analysis: reassemble generously').choices(['asa', 'analysis']))
    .option('--max-held <N>', 'most packets held back waiting for a decision (default 10000)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  smtp-inspect replay in.pcap -o out.pcap --verdicts v.jsonl --annotate notes.pcapng --summary\n' +
        '  smtp-inspect replay in.pcap -o - | tshark -r - -Y smtp\n' +
        '  smtp-inspect replay in.pcap --policy running-config.txt --syslog asa.log --check\n' +
        '\nExit codes: 0 ok, 1 --check found a problem, 2 bad input or usage, 3 output failed (closed pipe, disk full), 130 interrupted.',
    )
    .action(action(async (input: string, opts: ReplayCliOptions) => runReplay(input, opts)));
}

interface Outputs {
  packets: WriterLike | null;
  annotate: WriterLike | null;
  verdicts: VerdictFileWriter | null;
  syslog: SyslogFileWriter | null;
}

async function closeAll(o: Outputs): Promise<OutputError | null> {
  let first: OutputError | null = null;
  const note = (err: unknown) => {
    if (first === null) first = err instanceof OutputError ? err : new OutputError('E_OUTPUT', err instanceof Error ? err.message : String(err));
  };
  for (const w of [o.packets, o.annotate]) {
    if (!w) continue;
    try {
      await w.close();
    } catch (err) {
      note(err);
    }
  }
  for (const w of [o.verdicts, o.syslog]) {
    if (!w) continue;
    try {
      w.close();
    } catch (err) {
      note(err);
    }
  }
  return first;
}

export interface ReplayResult {
  summary: ReplaySummary;
  interrupted: boolean;
  /** The capture error that ended the input early (everything before it was processed and written). */
  inputError: SmtpInspectError | null;
  /** False when an interrupt abandoned a read still waiting on a silent pipe (see endProcessIfInputBlocked). */
  inputEnded: boolean;
}

/**
 * Runs one replay and closes every output. Throws OutputError when an output failed (what was
 * written is whole records); a damaged input is returned in `inputError` after the outputs hold
 * everything before the fault.
 */
export async function executeReplay(input: string, opts: ReplayCliOptions): Promise<ReplayResult> {
  // Before anything is opened: an output must not be the input, nor share a file with another.
  checkOutputPaths(
    [
      { option: 'IN', path: input },
      { option: '--policy', path: opts.policy },
    ],
    [
      { option: '-o', path: opts.output },
      { option: '--verdicts', path: opts.verdicts },
      { option: '--syslog', path: opts.syslog },
      { option: '--annotate', path: opts.annotate },
    ],
  );
  if (opts.asaOoo === false && opts.profile === 'asa') {
    throw new SmtpInspectError('E_USAGE', '--no-asa-ooo and --profile asa contradict each other (--no-asa-ooo is --profile analysis): give one of them');
  }
  if (opts.syslogTimestamps === true && opts.syslog === undefined) {
    throw new SmtpInspectError('E_USAGE', '--syslog-timestamps applies to the --syslog FILE lines: add --syslog FILE or drop --syslog-timestamps');
  }
  const engineOptions = engineOptionsFromCli(opts.set ?? []);
  const profile: PipelineProfile = opts.profile ?? (opts.asaOoo === false ? 'analysis' : 'asa');
  let maxHeld: number | undefined;
  if (opts.maxHeld !== undefined) {
    maxHeld = positiveIntegerOption(opts.maxHeld, '--max-held');
  }
  const policy = await loadPolicy(opts.policy ?? null, opts.policyMode ? { mode: opts.policyMode } : {});
  const source: CaptureSource = await openCapture(input);

  const outs: Outputs = { packets: null, annotate: null, verdicts: null, syslog: null };
  // Opening truncates: every output is checked first, so a bad one leaves the others untouched.
  checkOutputsCreatable([opts.output, opts.annotate, opts.verdicts, opts.syslog]);
  const opened: string[] = [];
  try {
    // Runs of unmodified records go out straight from the reader's buffers (released below).
    if (opts.output !== undefined) {
      outs.packets = createWriterLike(source, opts.output, { holdInputRuns: true });
      opened.push(opts.output);
    }
    if (opts.annotate !== undefined) {
      outs.annotate = createAnnotateWriter(source, opts.annotate, 'smtp-inspect replay');
      opened.push(opts.annotate);
    }
    if (opts.verdicts !== undefined) {
      outs.verdicts = new VerdictFileWriter(opts.verdicts);
      opened.push(opts.verdicts);
    }
    if (opts.syslog !== undefined) outs.syslog = new SyslogFileWriter(opts.syslog, opts.syslogTimestamps === true);
  } catch (err) {
    // One failed despite the check (a race): the ones opened hold only headers; an empty capture
    // would look like a replay that forwarded nothing, so they are removed.
    await closeAll(outs);
    removeOpenedOutputs(opened);
    throw err;
  }

  const verdictWriter = outs.verdicts;
  const syslogWriter = outs.syslog;
  const pipeline = new InspectionPipeline({
    policy,
    engineOptions,
    profile,
    checksumMode: opts.checksum,
    clientInterface: opts.clientInterface,
    serverInterface: opts.serverInterface,
    format: source.format,
    maxHeldPackets: maxHeld,
    outputs: {
      packets: outs.packets,
      annotate: outs.annotate,
      verdicts: verdictWriter ? (r) => verdictWriter.write(r) : null,
      syslog: syslogWriter ? (line, tsSec) => syslogWriter.write(line, tsSec) : null,
    },
  });
  for (const iface of source.interfaces) pipeline.addInterface(iface);

  let fileSize = 0;
  if (input !== '-' && !source.gzip) {
    try {
      fileSize = statSync(input).size;
    } catch {
      fileSize = 0;
    }
  }
  const progress = new ProgressBar(fileSize);
  const interrupt = new Interrupt(() => source.stop());

  let inputError: SmtpInspectError | null = null;
  const feed = new GuardedFeed(pipeline, source);
  // Blocks too large to buffer are passed over by the reader, so the outputs cannot copy them.
  const leftOutOf = [...(outs.packets ? ['OUT'] : []), ...(outs.annotate ? ['the annotated capture'] : [])];
  const skippedBlocks: SkippedBlockNote[] = [];
  // A reader sees stop() only with its next chunk: on a pipe that stays open and silent
  // (`tcpdump -U -w - | smtp-inspect replay -`) Ctrl-C would wait for traffic, and a second
  // Ctrl-C would end the process with the outputs unflushed. So the signal wins the race and the
  // abandoned reading delivers nothing more (its callbacks are shut).
  let abandoned = false;
  let inputEnded = true;
  try {
    const reading = source.run(
      (rec) => {
        if (abandoned) return;
        if (feed.process(rec)) progress.update(rec.fileOffset, rec.packetNumber);
      },
      (iface) => {
        if (!abandoned) pipeline.addInterface(iface);
      },
      () => {
        if (!abandoned) outs.packets?.releaseInput?.();
      },
      // pcapng: sections, interfaces and the other blocks go to OUT and the annotated capture as
      // read, in their place among the packets (after those still held).
      (block) => {
        if (abandoned) return;
        pipeline.inputBlock(block);
      },
      (block) => {
        if (abandoned) return;
        const note: SkippedBlockNote = {
          type: block.type,
          typeName: blockTypeName(block.type),
          offset: block.fileOffset,
          decompressed: source.gzip,
          length: block.length,
          leftOutOf,
        };
        skippedBlocks.push(note);
        process.stderr.write(`smtp-inspect: warning: ${describeSkippedBlock(note, MAX_OTHER_BLOCK_BYTES)}\n`);
      },
    );
    const outcome = await untilEndOrInterrupt(reading, interrupt);
    if (!outcome.ended) {
      abandoned = true;
      inputEnded = false;
    }
  } catch (err) {
    if (err instanceof OutputError) feed.outputError ??= err;
    else if (err instanceof SmtpInspectError) inputError = err;
    else {
      await closeAll(outs);
      throw err;
    }
  } finally {
    interrupt.dispose();
    progress.done();
  }

  const summary = feed.finish();
  let outputError = feed.outputError;
  const closeError = await closeAll(outs);
  if (outputError === null && closeError !== null) outputError = closeError;
  if (outputError !== null) {
    // A closed pipe or full disk: one clear line, no summary (what was written is whole records).
    throw outputError;
  }
  if (summary === null) throw new OutputError('E_OUTPUT', 'replay ended without a summary');
  if (skippedBlocks.length > 0) summary.skippedBlocks = skippedBlocks;
  return { summary, interrupted: interrupt.interrupted, inputError, inputEnded };
}

export async function runReplay(input: string, opts: ReplayCliOptions): Promise<number> {
  const { summary, interrupted, inputError, inputEnded } = await executeReplay(input, opts);
  const toStdout = opts.output !== '-' && opts.verdicts !== '-' && opts.syslog !== '-' && opts.annotate !== '-';
  if (opts.summary === true || process.stderr.isTTY) {
    const text = formatSummary(
      summary,
      { input, out: opts.output ?? null, verdicts: opts.verdicts ?? null, syslog: opts.syslog ?? null, annotate: opts.annotate ?? null },
      interrupted,
      { gaps: true, checksumMode: opts.checksum },
    );
    if (toStdout) process.stdout.write(text);
    else process.stderr.write(text);
  }

  let rc: number = EXIT.OK;
  if (opts.check === true) {
    const report = await checkReplayInvariant({
      input,
      summary,
      out: opts.output !== undefined && opts.output !== '-' ? opts.output : null,
      verdicts: opts.verdicts !== undefined && opts.verdicts !== '-' ? opts.verdicts : null,
      checksumMode: opts.checksum,
    });
    const w = (s: string) => (toStdout ? process.stdout.write(s) : process.stderr.write(s));
    for (const c of report.checks) w(`check ok: ${c}\n`);
    for (const p of report.problems) w(`check FAILED: ${p}\n`);
    if (!report.ok) rc = EXIT.FINDINGS;
  }
  if (inputError !== null) throw inputError;
  if (interrupted) {
    process.stderr.write('smtp-inspect: interrupted: outputs are complete up to the last packet processed\n');
    endProcessIfInputBlocked(inputEnded, input);
    return EXIT.INTERRUPTED;
  }
  return rc;
}
