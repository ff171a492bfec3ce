/**
 * `smtp-inspect live -i IFACE`: the replay pipeline on packets captured now, through libpcap (the
 * optional `cap` binding). Verdicts and syslog lines are printed as they happen; -w writes what
 * the ASA would have passed, --annotate every packet with comments. SIGINT/SIGTERM stop cleanly:
 * the pipeline finishes, every output is closed valid, the counters are printed.
 */
import { Command, Option } from 'commander';
import { createPcapngWriter } from '../capture/pcapng-writer.js';
import { createWriterLike } from '../capture/writer-like.js';
import { defaultFilter, formatDevices, listDevices, LiveSource } from '../capture/live-source.js';
import { CAP_SNAPLEN, deviceMtu } from '../capture/live-cap.js';
import type { ChecksumMode } from '../decode/checksum.js';

import type { PacketWriter } from '../capture/types.js';
import { EXIT, OutputError, SmtpInspectError } from '../errors.js';
import { loadPolicy, POLICY_MODES, type PolicyMode } from '../policy/load.js';
import { InspectionPipeline } from '../pipeline/inspection-pipeline.js';
import { startLiveTicker } from '../pipeline/live-tick.js';
import { GuardedFeed } from '../pipeline/guarded-feed.js';
import type { InterfaceAwareWriter, PipelineProfile } from '../pipeline/types.js';
import { formatSummary } from '../output/summary.js';
import { SyslogFileWriter } from '../output/syslog.js';
import { TextFileOutput } from '../output/text-file.js';
import { formatVerdict, VerdictFileWriter, type VerdictRecord } from '../output/verdicts.js';
import { action } from './errors.js';
import { Interrupt } from './interrupt.js';
import { dropPrivileges, resolveUser } from '../capture/live-privileges.js';
import { engineOptionsFromCli, collectEngineOption } from './engine-set.js';
import { checkOutputPaths } from './output-paths.js';
import { positiveIntegerOption } from './numbers.js';

/** Room for the link-layer header on top of the MTU (Ethernet with a VLAN tag, or SLL2). */
const LINK_HEADER_ALLOWANCE = 20;

/**
 * Default kernel capture buffer (-B), KiB. cap opens libpcap in immediate mode (TPACKET_V2: one
 * fixed frame per packet, sized from the snaplen and the device's MTU: 64 KiB on lo), so the
 * buffer is a number of frames, not of bytes. See native-notes/live-capture.md for the numbers.
 */
export const DEFAULT_BUFFER_KIB = 131072;
/** cap passes the size to libpcap as a C int (bytes). */
export const MAX_BUFFER_KIB = Math.floor(0x7fffffff / 1024);
/** After the first gap warning, at most one more per this many ms while gaps keep appearing. */
const GAP_WARNING_INTERVAL_MS = 60_000;

export interface LiveCliOptions {
  interface?: string;
  filter?: string;
  policy?: string;
  policyMode?: PolicyMode;
  write?: string;
  annotate?: string;
  verdicts?: string;
  syslog?: string;
  syslogTimestamps?: boolean;
  listInterfaces?: boolean;
  user?: string;
  set?: string[];
  /** Undefined when not given: the config's interfaces and routes, else outside / inside (InterfaceEnds). */
  clientInterface?: string;
  serverInterface?: string;
  profile?: PipelineProfile;
  quiet?: boolean;
  print: 'verdicts' | 'syslog' | 'both' | 'none';
  count?: string;
  bufferSize?: string;
  checksum?: ChecksumMode;
}

export function registerLive(program: Command): void {
  program
    .command('live')
    .summary('inspect a network interface in real time (libpcap)')
    .description(
      'Inspect a network interface in real time through libpcap (needs root or CAP_NET_RAW and the optional `cap` binding): ' +
        'the same policy, engine, verdicts, syslog lines and counters as replay. The inspector only observes: verdicts say ' +
        'what the ASA would have done; -w writes the traffic as the ASA would have passed it.',
    )
    .option('-i, --interface <IFACE>', 'capture device (see --list-interfaces)')
    .option('--filter <BPF>', 'libpcap filter replacing the default (built from the ports the policy inspects, e.g. "tcp port 25")')
    .option('--policy <FILE>', 'ASA running-config with the inspection policy (default: the ASA default policy)')
    .addOption(new Option('--policy-mode <MODE>', 'how the policy file is laid over the ASA factory default: auto (a show running-config printout replaces, an excerpt is merged as commands), merge, snapshot').choices([...POLICY_MODES]).default('auto'))
    .option('-w, --write <OUT.pcap>', 'write the traffic as the inspector would have passed it (edited, drops left out, RSTs added)')
    .option('--annotate <OUT.pcapng>', 'write every captured packet with a comment for each thing done or seen')
    .option('--verdicts <FILE>', 'also write the verdict records (JSON lines) to FILE')
    .option('--syslog <FILE>', 'also write the ASA syslog lines to FILE')
    .option('--syslog-timestamps', 'prefix syslog lines in FILE with the ASA "logging timestamp" form')
    .option('--print <WHAT>', 'what to print on stdout as it happens: verdicts, syslog, both, none', 'both')
    .addOption(
      // Listing ignores every capture option: given together, the user expected a capture.
      new Option('--list-interfaces', 'list the capture devices and exit').conflicts([
        'interface',
        'filter',
        'policy',
        'write',
        'annotate',
        'verdicts',
        'syslog',
        'syslogTimestamps',
        'user',
        'profile',
        'count',
        'bufferSize',
        // before, these were silently ignored with --list-interfaces (--filter and -w were refused)
        'clientInterface',
        'serverInterface',
        'set',
        'print',
        'checksum',
        'policyMode',
      ]),
    )
    .option('--user <NAME>', 'drop root privileges to this user once the capture handle and outputs are open')
    .option('--set <OPTION=VALUE>', 'engine option (repeatable), e.g. --set judging=line; --set help lists them', collectEngineOption)
    .option('--client-interface <NAME>', "ASA interface name of the clients (syslog lines; its interface service-policy applies); default: outside, or per connection from the --policy config's interfaces and routes when neither interface option is given")
    .option('--server-interface <NAME>', "ASA interface name of the servers (syslog lines; its interface service-policy applies); default: inside, or per connection from the config as for --client-interface")
    .option('--profile <NAME>', "asa (default): emulate the ASA's out-of-order queue; analysis: reassemble generously")
    .option('-c, --count <N>', 'stop after N captured packets')
    .option('-B, --buffer-size <KiB>', `kernel capture buffer in KiB, as tcpdump -B (default ${DEFAULT_BUFFER_KIB} = ${DEFAULT_BUFFER_KIB / 1024} MiB); raise it when the summary reports capture gaps`)
    .addOption(new Option('--checksum <MODE>', 'TCP checksum of an edited packet: incremental (RFC 1624 update: a wrong one stays wrong), fix (recomputed), keep (left as it was); on lo every checksum is offloaded, i.e. partial: only fix makes the edited ones valid').choices(['incremental', 'fix', 'keep']).default('incremental'))
    .option('-q, --quiet', 'do not print the counters at the end')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sudo smtp-inspect live -i eth0\n' +
        '  sudo smtp-inspect live -i eth0 --policy running-config.txt -w passed.pcap --annotate notes.pcapng --user nobody\n' +
        '  sudo smtp-inspect live -i lo --filter "tcp port 2525" --print syslog\n' +
        '  smtp-inspect live --list-interfaces\n' +
        '\nStop with Ctrl-C (or SIGTERM): outputs are flushed and valid, the show service-policy counters are printed.\n' +
        'Needs the optional libpcap binding: apt-get install libpcap-dev && npm rebuild cap\n' +
        'Exit codes: 0 ok, 2 bad usage/policy, 3 output failed, 4 live capture unavailable (binding, permission, device, filter), 130 interrupted.',
    )
    .action(action(async (opts: LiveCliOptions) => runLive(opts)));
}

export async function runLive(opts: LiveCliOptions): Promise<number> {
  if (opts.listInterfaces) {
    const devices = await listDevices();
    process.stdout.write((devices.length ? formatDevices(devices) : '(libpcap lists no devices: capture usually needs root or CAP_NET_RAW)') + '\n');
    return EXIT.OK;
  }
  if (!opts.interface) throw new SmtpInspectError('E_USAGE', 'live needs -i IFACE (see --list-interfaces)');
  if (!['verdicts', 'syslog', 'both', 'none'].includes(opts.print)) throw new SmtpInspectError('E_USAGE', `--print must be verdicts, syslog, both or none, got ${opts.print}`);
  if (opts.profile !== undefined && opts.profile !== 'asa' && opts.profile !== 'analysis') throw new SmtpInspectError('E_USAGE', `--profile must be asa or analysis, got ${opts.profile}`);
  let maxCount = 0;
  if (opts.count !== undefined) {
    maxCount = positiveIntegerOption(opts.count, '--count');
  }
  const bufferKiB = opts.bufferSize === undefined ? DEFAULT_BUFFER_KIB : positiveIntegerOption(opts.bufferSize, '-B/--buffer-size', MAX_BUFFER_KIB);
  if (opts.syslogTimestamps === true && opts.syslog === undefined) {
    throw new SmtpInspectError('E_USAGE', '--syslog-timestamps applies to the --syslog FILE lines: add --syslog FILE or drop --syslog-timestamps');
  }
  // Before anything is opened: no output may be the policy, share a file with another, or share
  // stdout with the printed lines.
  checkOutputPaths(
    [{ option: '--policy', path: opts.policy }],
    [
      { option: '-w', path: opts.write },
      { option: '--annotate', path: opts.annotate },
      { option: '--verdicts', path: opts.verdicts },
      { option: '--syslog', path: opts.syslog },
      { option: `--print ${opts.print}`, path: opts.print === 'none' ? undefined : '-', stdoutHint: 'or use --print none' },
    ],
  );
  const engineOptions = engineOptionsFromCli(opts.set ?? []);
  const policy = await loadPolicy(opts.policy ?? null, opts.policyMode ? { mode: opts.policyMode } : {});
  const filter = opts.filter ?? defaultFilter(policy.esmtpPorts());
  // A wrong --user is a usage error before the device or any output file is opened.
  const targetUser = opts.user !== undefined ? resolveUser(opts.user) : null;

  // Open the device first: permission, device and filter errors come before any file is created.
  const source = await LiveSource.open({ device: opts.interface, filter, kernelBuffer: bufferKiB * 1024 });

  const stdoutLines = new TextFileOutput('-');
  let packets: PacketWriter | null = null;
  let annotate: InterfaceAwareWriter | null = null;
  let verdictFile: VerdictFileWriter | null = null;
  let syslogFile: SyslogFileWriter | null = null;
  const closeAll = async (): Promise<OutputError | null> => {
    let first: OutputError | null = null;
    const note = (err: unknown) => {
      first ??= err instanceof OutputError ? err : new OutputError('E_OUTPUT', err instanceof Error ? err.message : String(err));
    };
    for (const w of [packets, annotate]) {
      try {
        await w?.close();
      } catch (err) {
        note(err);
      }
    }
    for (const w of [verdictFile, syslogFile, stdoutLines]) {
      try {
        w?.close();
      } catch (err) {
        note(err);
      }
    }
    return first;
  };
  try {
    if (opts.write !== undefined) packets = createWriterLike(source, opts.write);
    if (opts.annotate !== undefined) annotate = createPcapngWriter(opts.annotate, { interfaces: [], userAppl: 'smtp-inspect live' });
    if (opts.verdicts !== undefined) verdictFile = new VerdictFileWriter(opts.verdicts);
    if (opts.syslog !== undefined) syslogFile = new SyslogFileWriter(opts.syslog, opts.syslogTimestamps === true);
    // The file headers go out now: a reader (tshark -r -, tail) sees a valid capture at once.
    packets?.flush?.();
    annotate?.flush?.();
    // Outputs are open (files created as root where root may write): now give up root.
    if (targetUser !== null) dropPrivileges(targetUser);
  } catch (err) {
    source.stop();
    await closeAll();
    throw err;
  }

  const printVerdicts = opts.print === 'verdicts' || opts.print === 'both';
  const printSyslog = opts.print === 'syslog' || opts.print === 'both';
  const onVerdict = (r: VerdictRecord): void => {
    verdictFile?.write(r);
    // Live users want to see events as they happen: flush each one.
    verdictFile?.flush();
    if (printVerdicts) {
      stdoutLines.writeLine(formatVerdict(r));
      stdoutLines.flush();
    }
  };
  const onSyslog = (line: string, tsSec: number): void => {
    syslogFile?.write(line, tsSec);
    syslogFile?.flush();
    if (printSyslog) {
      stdoutLines.writeLine(line);
      stdoutLines.flush();
    }
  };
  const pipeline = new InspectionPipeline({
    policy,
    engineOptions,
    profile: opts.profile ?? 'asa',
    clientInterface: opts.clientInterface,
    serverInterface: opts.serverInterface,
    format: 'pcap',
    checksumMode: opts.checksum ?? 'incremental',
    outputs: { packets, annotate, verdicts: onVerdict, syslog: onSyslog },
  });

  process.stderr.write(`smtp-inspect: capturing on ${opts.interface} (${source.linkName}), filter "${filter}", buffer ${bufferKiB} KiB; Ctrl-C to stop\n`);
  const mtu = deviceMtu(opts.interface);
  if (mtu !== null && mtu + LINK_HEADER_ALLOWANCE > CAP_SNAPLEN) {
    process.stderr.write(
      `smtp-inspect: note: ${opts.interface}'s MTU is ${mtu}: frames longer than ${CAP_SNAPLEN} bytes are cut by the capture binding's fixed snaplen, ` +
        'the bytes lost become gaps for the inspector (the cut records are counted in the summary, apart from capture gaps); for bulk transfers capture with `tcpdump -s 0 -w` and replay the file\n',
    );
  }
  const interrupt = new Interrupt(() => source.stop());
  source.onHandlerError = (err) => {
    process.stderr.write(`smtp-inspect: internal error on a captured packet (capture continues): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  };
  const feed = new GuardedFeed(pipeline, source);
  const gapWarner = new GapWarner(bufferKiB);
  // Like tcpdump -U, but per batch: the records of one poll of the capture (cap drains the ring in
  // one libuv poll callback) are written with one write() once the batch is done.
  const flushOutputs = (): void => {
    try {
      packets?.flush?.();
      annotate?.flush?.();
    } catch (err) {
      feed.fail(err);
    }
    gapWarner.check(pipeline.summary().gaps);
  };
  let flushScheduled = false;
  const flushBatch = (): void => {
    flushScheduled = false;
    flushOutputs();
  };
  // Connections expire and held packets leave on time even when no packet arrives.
  const stopTicker = startLiveTicker(
    {
      tick: (sec, nsec) => {
        pipeline.tick(sec, nsec);
        flushOutputs();
      },
    },
    (err) => {
      if (!(err instanceof OutputError)) return source.onHandlerError?.(err);
      feed.fail(err);
    },
  );
  let stats;
  try {
    stats = await source.run(
      (rec) => {
        // setImmediate runs after the poll phase, i.e. after the whole batch.
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushBatch);
        }
        if (feed.process(rec) && maxCount > 0 && rec.packetNumber >= maxCount) source.stop();
      },
      (iface) => pipeline.addInterface(iface),
    );
  } finally {
    stopTicker();
    interrupt.dispose();
  }
  const summary = feed.finish();
  let outputError = feed.outputError;
  const closeError = await closeAll();
  outputError ??= closeError;
  if (outputError !== null) throw outputError;
  if (summary && !opts.quiet) {
    // formatSummary's first line names a replay input; the live header below replaces it.
    const text = formatSummary(summary, { input: `live:${opts.interface}`, out: opts.write ?? null, verdicts: opts.verdicts ?? null, syslog: opts.syslog ?? null, annotate: opts.annotate ?? null }, false).replace(/^replay of [^\n]*\n/, '');
    const extra = (stats.snapTruncated ? `records longer than libpcap's 65535-byte snaplen (cut): ${stats.snapTruncated}\n` : '') + formatGapLine(summary.gaps, bufferKiB);
    process.stderr.write(`live capture on ${opts.interface}: ${stats.packets} packet(s) captured, filter "${filter}"\n${extra}${text}`);
  }
  return interrupt.interrupted ? EXIT.INTERRUPTED : EXIT.OK;
}

interface GapTotals {
  count: number;
  bytes: number;
  connections: number;
}

function describeGaps(g: GapTotals): string {
  return `${g.count} gap(s), ${g.bytes} byte(s) never seen, in ${g.connections} connection(s)`;
}

/**
 * The summary's capture-loss line. cap gives no pcap_stats (kernel drop counter), so what the
 * capture itself shows is reported: stream bytes that never arrived while the peers went on.
 */
export function formatGapLine(g: GapTotals, bufferKiB: number): string {
  if (g.count === 0) return 'capture gaps: none (no sign of packets lost by the capture)\n';
  return (
    `capture gaps: ${describeGaps(g)}\n` +
    `  most likely packets the kernel dropped because the capture buffer (-B ${bufferKiB} KiB) was full: raise -B; ` +
    'the verdicts on those connections (tcp-gap, out-of-order drops, sessions picked up midstream) may not be what the ASA saw\n'
  );
}

/** The running warning on stderr: at the first gap, then at most once a minute while more appear. */
class GapWarner {
  private warnedCount = 0;
  private lastWarnMs = 0;

  constructor(private readonly bufferKiB: number) {}

  check(g: GapTotals): void {
    if (g.count <= this.warnedCount) return;
    const now = Date.now();
    if (this.warnedCount > 0 && now - this.lastWarnMs < GAP_WARNING_INTERVAL_MS) return;
    this.lastWarnMs = now;
    process.stderr.write(
      `smtp-inspect: warning: capture gaps so far: ${describeGaps(g)}: most likely packets the kernel dropped ` +
        `(capture buffer -B ${this.bufferKiB} KiB full); raise -B${this.warnedCount === 0 ? ' (repeated at most once a minute)' : ''}\n`,
    );
    this.warnedCount = g.count;
  }
}
