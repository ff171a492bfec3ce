/**
 * `smtp-inspect flows FILE [--json] [--all-ports] [--ports LIST] [--dump DIR]`: one record per TCP
 * connection as the reassembler sees it (what the inspector will get), with the sha256 of each
 * direction's delivered bytes so it can be checked against tshark's "follow TCP stream".
 */
import type { Command } from 'commander';
import { EXIT, SmtpInspectError } from '../errors.js';
import { DEFAULT_FLOW_OPTIONS } from '../flow/options.js';
import { runFlows, type DirectionRecord, type FlowRecord } from '../flow/flows-report.js';
import type { FlowTableStats } from '../flow/flow-table.js';
import { TextFileOutput } from '../output/text-file.js';
import { action } from './errors.js';
import { endProcessIfInputBlocked, Interrupt } from './interrupt.js';
import { checkOutputPaths } from './output-paths.js';

interface FlowsCliOptions {
  json?: boolean;
  allPorts?: boolean;
  ports?: string;
  dump?: string;
}

export function parsePortList(text: string): number[] {
  const ports: number[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (!/^\d{1,5}$/.test(t) || Number(t) > 65535) {
      throw new SmtpInspectError('E_USAGE', `--ports: not a port number: '${part}' (expected e.g. 25,587,2525)`);
    }
    ports.push(Number(t));
  }
  return ports;
}

function directionText(name: string, d: DirectionRecord): string {
  const parts = [`${name} ${d.bytes} B sha256 ${d.sha256}`];
  if (d.gaps > 0) parts.push(`gaps ${d.gaps} (${d.gapBytes} B)`);
  if (d.retransmittedBytes > 0) parts.push(`retransmitted ${d.retransmittedBytes} B`);
  if (d.overlapDifferentBytes > 0) parts.push(`overlap-different-data ${d.overlapDifferentBytes} B`);
  if (d.outOfOrderPackets > 0) parts.push(`out-of-order ${d.outOfOrderPackets} pkts`);
  return '  ' + parts.join(', ');
}

/** A record as printed: a connection still open when a signal stopped the run says `open`. */
type PrintedRecord = Omit<FlowRecord, 'close'> & { close: FlowRecord['close'] | 'open' };

function printed(r: FlowRecord, interrupted: boolean): PrintedRecord {
  // Spread keeps the key order of the JSON line.
  return interrupted && r.close === 'end-of-capture' ? { ...r, close: 'open' } : r;
}

function recordText(r: PrintedRecord): string {
  const end = r.close === 'open' ? 'still open (interrupted)' : `closed: ${r.close}`;
  return (
    `#${r.id} ${r.client} -> ${r.server} (client by ${r.clientBy}) ${r.packets} packets ${r.firstTime} .. ${r.lastTime} ${end}\n` +
    directionText('c2s', r.c2s) +
    '\n' +
    directionText('s2c', r.s2c)
  );
}

function statsText(s: FlowTableStats, packets: number, interrupted: boolean): string {
  const closed = Object.entries(s.closed)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${interrupted && k === 'end-of-capture' ? 'still open' : k} ${n}`)
    .join(', ');
  const limits: string[] = [];
  if (s.outOfOrderLimitHits > 0) limits.push(`out-of-order limit hit ${s.outOfOrderLimitHits}x`);
  if (s.outOfOrderDrops > 0) limits.push(`out-of-order segments dropped ${s.outOfOrderDrops}`);
  if (s.memoryCapHits > 0) limits.push(`memory cap hit ${s.memoryCapHits}x`);
  if (s.connectionLimitHits > 0) limits.push(`connection limit hit ${s.connectionLimitHits}x`);
  if (s.ignoredPackets > 0) limits.push(`packets ignored ${s.ignoredPackets}`);
  return (
    (interrupted ? 'interrupted (SIGINT/SIGTERM): ' : '') +
    `${s.opened} connection${s.opened === 1 ? '' : 's'} (${closed || 'none closed'}); ${packets} packets, ${s.trackedPackets} on tracked connections, ` +
    `${s.untrackedPackets} not tracked; peak buffered ${s.peakMemoryInUse} B` +
    (limits.length ? `; ${limits.join(', ')}` : '')
  );
}

export function registerFlows(program: Command): void {
  program
    .command('flows')
    .summary('list TCP connections as reassembled: bytes, gaps, retransmissions')
    .description(
      'List the TCP connections of a capture as the reassembler delivers them: endpoints, times, close reason, ' +
        'and per direction the bytes delivered (with sha256), gaps, retransmitted and overlap-different bytes.',
    )
    .argument('<file>', "pcap or pcapng capture (optionally gzip'd; '-' for standard input)")
    .option('--json', 'one JSON object per connection and line, fixed key order')
    .option('--all-ports', 'every TCP connection, not only the SMTP ports')
    .option('--ports <list>', `server ports to select, comma-separated (default ${DEFAULT_FLOW_OPTIONS.serverPorts!.join(',')})`)
    .option('--dump <dir>', 'write each direction to DIR/SRCIP.SRCPORT-DSTIP.DSTPORT as tcpflow does (gaps as zero bytes)')
    .action(
      action(async (file: string, opts: FlowsCliOptions) => {
        if (opts.allPorts && opts.ports !== undefined) throw new SmtpInspectError('E_USAGE', '--all-ports and --ports exclude each other');
        // --dump creates DIR: refuse the capture itself (a dump directory '-' would be ambiguous).
        checkOutputPaths(
          [{ option: 'FILE', path: file }],
          [
            { option: '--dump', path: opts.dump },
            { option: 'the connection list', path: '-', stdoutHint: '(the list is always printed)' },
          ],
        );
        const serverPorts = opts.allPorts ? null : opts.ports !== undefined ? parsePortList(opts.ports) : DEFAULT_FLOW_OPTIONS.serverPorts;
        // Whole lines, synchronously; a closed pipe (`| head`) ends the run as E_OUTPUT_CLOSED.
        const out = new TextFileOutput('-');
        // SIGINT/SIGTERM: stop reading, list the connections so far (those still open as open), exit 130.
        const interrupt = new Interrupt();
        let res: Awaited<ReturnType<typeof runFlows>>;
        try {
          res = await runFlows(file, {
            flow: { serverPorts },
            dumpDir: opts.dump ?? null,
            stop: interrupt.signalled,
            onRecord: (r) => {
              const p = printed(r, interrupt.interrupted);
              out.writeLine(opts.json ? JSON.stringify(p) : recordText(p));
            },
          });
          // Interrupted before the header: nothing was read, only the stderr line (README).
          if (!opts.json && res.headerRead) out.writeLine(statsText(res.stats, res.packets, res.interrupted));
        } finally {
          interrupt.dispose();
          out.close();
        }
        if (res.error !== null) throw res.error;
        if (res.interrupted) {
          process.stderr.write(
            res.headerRead
              ? `smtp-inspect: interrupted: ${res.stats.opened} connection(s) from the ${res.packets} packet(s) read until the signal\n`
              : `smtp-inspect: ${file}: interrupted before the capture header was read: nothing to list\n`,
          );
          endProcessIfInputBlocked(res.inputEnded, file);
          return EXIT.INTERRUPTED;
        }
        return EXIT.OK;
      }),
    );
}
