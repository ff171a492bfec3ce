/**
 * `smtp-inspect proxy --listen ADDR:PORT --upstream HOST:PORT`: an inline enforcement point. Each
 * client connection is relayed to the upstream server through the ESMTP engine, which masks,
 * X-substitutes, drops and resets as the ASA would; verdicts and syslog lines are logged as they
 * happen; SIGINT/SIGTERM stop accepting, give sessions a grace period, then print the counters.
 */
import { Command, Option } from 'commander';
import { EXIT, SmtpInspectError } from '../errors.js';
import { EsmtpCounters, formatServicePolicy } from '../inspect/counters.js';
import { loadPolicy, POLICY_MODES, type PolicyMode } from '../policy/load.js';
import { TextFileOutput } from '../output/text-file.js';
import { createInspectorFactory } from '../proxy/engine-binding.js';
import { uninspectedPortWarning } from '../proxy/startup.js';
import { formatTotals, ProxyLog, type LineOutput } from '../proxy/log.js';
import { descriptorsFor, fdBudget, FIXED_RESERVE, HEADROOM, openFdCount, SOCKETS_PER_CONNECTION, softFdLimit } from '../proxy/fd-budget.js';
import { ProxyServer, PROXY_DEFAULTS } from '../proxy/server.js';
import { createWireTap } from '../proxy/wire-tap.js';
import { endpointText } from '../proxy/connection.js';
import { action } from './errors.js';
import { engineOptionsFromCli, collectEngineOption } from './engine-set.js';
import { checkOutputPaths } from './output-paths.js';
import { positiveIntegerOption, secondsOption } from './numbers.js';

export interface ProxyCliOptions {
  listen: string;
  upstream: string;
  policy?: string;
  policyMode?: PolicyMode;
  verdicts?: string;
  syslog?: string;
  print: string;
  write?: string;
  set?: string[];
  clientInterface: string;
  serverInterface: string;
  grace: string;
  dropMode: string;
  idleTimeout: string;
  maxHeld: string;
  maxConnections?: string;
  quiet?: boolean;
}

/** `host:port`, `[v6]:port` or `:port` (all addresses). */
export function parseHostPort(text: string, what: string, defaultHost: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SmtpInspectError('E_USAGE', `${what} must be HOST:PORT (or [IPv6]:PORT), got "${text}"`);
  }
  return { host: m[1] ?? (m[2] || defaultHost), port };
}

/**
 * --max-connections: the user's N, or what the file-descriptor soft limit allows (fd-budget.ts).
 * Measured before any output file is opened, so those are counted on top. An N the limit cannot
 * hold is a usage error: past the limit, libuv closes waiting clients unseen and unlogged.
 */
export function connectionCap(opts: Pick<ProxyCliOptions, 'maxConnections' | 'verdicts' | 'syslog' | 'write'>): { max: number | undefined; text: string } {
  const files = [opts.verdicts, opts.syslog, opts.write].filter((f) => f !== undefined && f !== '-').length;
  const open = openFdCount();
  const budget = fdBudget(softFdLimit(), open === null ? null : open + files);
  const capacity = budget?.capacity ?? null;
  const limitText = budget ? `file-descriptor soft limit ${budget.softLimit}, ${budget.openAtStart} open at start` : 'file-descriptor limit unknown';
  if (opts.maxConnections !== undefined) {
    const n = positiveIntegerOption(opts.maxConnections, '--max-connections');
    if (budget && n > budget.capacity) {
      throw new SmtpInspectError(
        'E_USAGE',
        `--max-connections ${n} needs about ${descriptorsFor(n, budget.openAtStart)} file descriptors but the soft limit (ulimit -n) is ${budget.softLimit}: ` +
          `at most ${budget.capacity} fit; raise the limit (ulimit -n) or lower --max-connections`,
      );
    }
    return { max: n, text: `max-connections ${n} (${limitText})` };
  }
  if (capacity === null) {
    // No way to read the limit: assume the usual 1024 rather than run without a cap.
    const assumed = Math.floor((1024 - 32 - FIXED_RESERVE - HEADROOM) / SOCKETS_PER_CONNECTION);
    return { max: assumed, text: `max-connections ${assumed} (file-descriptor limit unknown: assumed 1024; set --max-connections to choose)` };
  }
  if (capacity === Infinity) return { max: undefined, text: `no connection cap (${limitText}: unlimited; set --max-connections to choose one)` };
  if (capacity < 1) throw new SmtpInspectError('E_USAGE', `the file-descriptor soft limit (ulimit -n ${budget?.softLimit}) leaves no room for a connection; raise it`);
  return { max: capacity, text: `max-connections ${capacity} (default from the ${limitText}: (limit - open - ${FIXED_RESERVE + HEADROOM}) / ${SOCKETS_PER_CONNECTION})` };
}

export function registerProxy(program: Command): void {
  program
    .command('proxy')
    .summary('run an inline SMTP proxy that enforces the inspection')
    .description(
      'Run an inline SMTP proxy that enforces the ASA ESMTP inspection on live sessions: masks the banner and EHLO ' +
        'keywords (STARTTLS -> XXXXXXXA), X-substitutes unknown commands, closes or resets both sides on drop-connection / ' +
        'reset, and logs the same verdicts and syslog lines as replay. See native-notes/proxy.md for how it differs from a firewall.',
    )
    .requiredOption('--listen <ADDR:PORT>', 'address to accept clients on, e.g. 0.0.0.0:25 or 127.0.0.1:2525')
    .requiredOption('--upstream <HOST:PORT>', 'the real SMTP server')
    .option('--policy <FILE>', 'ASA running-config with the inspection policy (default: the ASA default policy)')
    .addOption(new Option('--policy-mode <MODE>', 'how the policy file is laid over the ASA factory default: auto (a show running-config printout replaces, an excerpt is merged as commands), merge, snapshot').choices([...POLICY_MODES]).default('auto'))
    .option('--verdicts <FILE>', 'write the verdict records (JSON lines) to FILE (- for stdout: the same as --print verdicts)')
    .option('--syslog <FILE>', 'write the ASA syslog lines to FILE (- for stdout: the same as --print syslog)')
    .option('--print <WHAT>', 'what to print on stdout as it happens: syslog, verdicts, both, none', 'syslog')
    .option('--write <FILE.pcap>', 'record both legs (client<->proxy, proxy<->server) as a synthetic pcap (raw IP, valid checksums)')
    .option('--set <OPTION=VALUE>', 'engine option (repeatable); the proxy judges whole lines (judging=line) unless --set judging=segment, which judges each read() as a segment; --set help lists them', collectEngineOption)
    .option('--client-interface <NAME>', 'ASA interface name of the clients (syslog lines; its interface service-policy applies)', 'outside')
    .option('--server-interface <NAME>', 'ASA interface name of the server (syslog lines; its interface service-policy applies)', 'inside')
    .option('--grace <SECONDS>', 'on SIGINT/SIGTERM, how long open sessions may finish before they are cut', '10')
    .option('--drop-mode <MODE>', 'drop-connection: close (FIN to both sides) or blackhole (silence, as the ASA; sockets closed after 30 s)', 'close')
    .option('--idle-timeout <SECONDS>', 'close sessions idle this long (the ASA default conn timeout is 1 hour)', String(PROXY_DEFAULTS.idleTimeoutMs / 1000))
    .option(
      '--max-connections <N>',
      'connections proxied at once; more clients are closed at accept and logged (rule max-connections, %ASA-3-201011). ' +
        'Default: what the file-descriptor soft limit (ulimit -n) allows, (limit - open at start - ' +
        `${FIXED_RESERVE + HEADROOM}) / ${SOCKETS_PER_CONNECTION}; a larger N is a usage error`,
    )
    .option('--max-held <BYTES>', 'uncommitted bytes held per direction before they are forwarded anyway', String(PROXY_DEFAULTS.maxHeldBytes))
    .option('-q, --quiet', 'do not print the counters at the end')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  smtp-inspect proxy --listen 0.0.0.0:25 --upstream 10.0.0.5:25\n' +
        '  smtp-inspect proxy --listen 127.0.0.1:2525 --upstream 127.0.0.1:25 --policy running-config.txt --verdicts v.jsonl --write seen.pcap\n' +
        '\nreset is a TCP RST to both sides; drop-connection closes both sides with FIN after discarding the triggering read\n' +
        '(--drop-mode blackhole goes silent instead, as the ASA does). Commands are judged as whole lines (judging=line);\n' +
        '--set judging=segment judges each read as it arrives, as an ASA judges segments.\n' +
        'Exit codes: 0 stopped cleanly, 2 bad usage/policy, 3 cannot listen or write, 130 stopped by a signal.',
    )
    .action(action(async (opts: ProxyCliOptions) => runProxy(opts)));
}

export async function runProxy(opts: ProxyCliOptions): Promise<number> {
  const listen = parseHostPort(opts.listen, '--listen', '0.0.0.0');
  const upstream = parseHostPort(opts.upstream, '--upstream', '127.0.0.1');
  if (upstream.port === 0) throw new SmtpInspectError('E_USAGE', '--upstream needs a port');
  if (!['syslog', 'verdicts', 'both', 'none'].includes(opts.print)) throw new SmtpInspectError('E_USAGE', `--print must be syslog, verdicts, both or none, got ${opts.print}`);
  if (opts.dropMode !== 'close' && opts.dropMode !== 'blackhole') throw new SmtpInspectError('E_USAGE', `--drop-mode must be close or blackhole, got ${opts.dropMode}`);
  const graceMs = secondsOption(opts.grace, '--grace') * 1000;
  const idleTimeoutMs = secondsOption(opts.idleTimeout, '--idle-timeout') * 1000;
  const maxHeldBytes = positiveIntegerOption(opts.maxHeld, '--max-held');
  const cap = connectionCap(opts);
  // Before anything is opened: no output may be the policy, share a file with another, or share
  // stdout with the printed lines.
  // `--syslog -` with the default `--print syslog` (or `--verdicts -` with `--print verdicts`) asks
  // for what is printed anyway: one stream on stdout, printed once, not a clash.
  const printsSyslog = opts.print === 'syslog' || opts.print === 'both';
  const printsVerdicts = opts.print === 'verdicts' || opts.print === 'both';
  const syslogPath = opts.syslog === '-' && printsSyslog ? undefined : opts.syslog;
  const verdictsPath = opts.verdicts === '-' && printsVerdicts ? undefined : opts.verdicts;
  checkOutputPaths(
    [{ option: '--policy', path: opts.policy }],
    [
      { option: '--verdicts', path: verdictsPath },
      { option: '--syslog', path: syslogPath },
      { option: '--write', path: opts.write },
      { option: `--print ${opts.print}`, path: opts.print === 'none' ? undefined : '-', stdoutHint: 'or use --print none' },
    ],
  );
  // The proxy reads a byte stream, not TCP segments: judging per read() would X valid commands that
  // a 64 KiB read happens to cut (a fast pipelining client). Lines unless the user asks otherwise.
  const engineOptions = engineOptionsFromCli(opts.set ?? [], '--set', ['judging=line']);
  const policy = await loadPolicy(opts.policy ?? null, opts.policyMode ? { mode: opts.policyMode } : {});

  const files: TextFileOutput[] = [];
  const open = (path: string): TextFileOutput => {
    const f = new TextFileOutput(path);
    files.push(f);
    return f;
  };
  const stdout = new TextFileOutput('-');
  const verdictOutputs: LineOutput[] = [];
  const syslogOutputs: LineOutput[] = [];
  if (verdictsPath !== undefined) verdictOutputs.push(verdictsPath === '-' ? stdout : open(verdictsPath));
  if (syslogPath !== undefined) syslogOutputs.push(syslogPath === '-' ? stdout : open(syslogPath));
  if (opts.print === 'verdicts' || opts.print === 'both') verdictOutputs.push(stdout);
  if (opts.print === 'syslog' || opts.print === 'both') syslogOutputs.push(stdout);

  const counters = new EsmtpCounters();
  const log = new ProxyLog({ verdictOutputs, syslogOutputs, clientInterface: opts.clientInterface, serverInterface: opts.serverInterface, resetReasonSpacing: engineOptions.resetReasonSpacing });
  const tap = opts.write !== undefined ? createWireTap(opts.write) : null;
  const server = new ProxyServer({
    listenHost: listen.host,
    listenPort: listen.port,
    upstreamHost: upstream.host,
    upstreamPort: upstream.port,
    inspector: createInspectorFactory({ policy, engineOptions, counters, clientInterface: opts.clientInterface, serverInterface: opts.serverInterface }),
    events: log,
    tap,
    dropMode: opts.dropMode,
    idleTimeoutMs,
    maxHeldBytes,
    maxConnections: cap.max,
  });
  let addr;
  try {
    addr = await server.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    await tap?.finish();
    throw new SmtpInspectError('E_OUTPUT', `cannot listen on ${opts.listen}: ${e.code ?? e.message}${e.code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : ''}`);
  }
  const shownListen = addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
  // [::1]:25, not ::1:25, as the listen address is shown
  const upstreamText = endpointText(upstream.host, upstream.port);
  process.stderr.write(`smtp-inspect: proxy listening on ${shownListen}, upstream ${upstreamText}, policy ${policy.source}; Ctrl-C to stop\n`);
  process.stderr.write(`smtp-inspect: ${cap.text}\n`);
  const portWarning = uninspectedPortWarning(policy, upstream.port);
  if (portWarning) process.stderr.write(portWarning + '\n');

  // Every inspected map prints in the counters, with zeros until traffic arrives.
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stderr.write(`smtp-inspect: ${signal}: no longer accepting; waiting up to ${graceMs / 1000} s for ${server.active} open session(s)\n`);
  const { cut } = await server.shutdown(graceMs);
  await tap?.finish();
  for (const f of files) f.close();
  stdout.flush();
  if (!opts.quiet) {
    let text =
      `proxy ${shownListen} -> ${upstreamText}: ${server.accepted + server.refused + server.gone} client connection(s): ` +
      `${server.accepted} accepted, ${server.refused} refused at accept, ${server.gone} reset before accept; ${cut} cut at shutdown\n`;
    text += formatTotals(log.totals);
    if (tap) text += `synthetic capture: ${opts.write} (${tap.count} packets)\n`;
    const sp = formatServicePolicy(counters);
    if (sp.trim() !== '') text += `\nshow service-policy inspect esmtp\n${sp}`;
    process.stderr.write(text);
  }
  return EXIT.INTERRUPTED;
}
