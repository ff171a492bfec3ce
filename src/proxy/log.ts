/**
 * The proxy's event sink: verdict records (the replay's JSON-lines format, `packet` being the
 * proxy's global read number) and ASA syslog lines (the engine's plus 302013/302014 for inspected
 * connections), written as they happen to any number of line outputs, plus running totals.
 */
import { C2S, type ConnectionMeta, type Direction } from '../flow/types.js';
import type { EngineOptions } from '../inspect/options.js';
import { syslog201011, syslog302013, syslog302014, type Endpoint, type TeardownReason } from '../inspect/syslog.js';
import type { Verdict } from '../inspect/types.js';
import { isoTime } from '../output/time.js';
import { formatVerdict, type VerdictRecord, type VerdictRecordAction } from '../output/verdicts.js';
import { ArrivalClock } from '../capture/live-clock.js';
import type { CloseCause, ConnectionStats, ProxyEvents, RefusedClient } from './types.js';
import { endpointText } from './connection.js';
import { builtDetail, teardownDetail, type InspectingClassName } from '../output/connection-wording.js';

/** Where lines go: a file, stdout, a test's array. `flush` is called after each event. */
export interface LineOutput {
  writeLine(line: string): void;
  flush(): void;
}

export interface ProxyTotals {
  connections: number;
  inspected: number;
  exempted: number;
  upstreamFailures: number;
  /** Clients that reset before they were accepted (address unknown): one record each. */
  gone: number;
  /** Clients closed at accept by --max-connections (or while shutting down): one record each. */
  refused: number;
  /** Accept failures of the listening socket (EMFILE/ENFILE): one record each. */
  acceptErrors: number;
  dropped: number;
  reset: number;
  verdicts: number;
  syslogLines: number;
  bytesIn: [number, number];
  bytesOut: [number, number];
  bytesDropped: [number, number];
}

export interface ProxyLogOptions {
  verdictOutputs: LineOutput[];
  syslogOutputs: LineOutput[];
  clientInterface: string;
  serverInterface: string;
  resetReasonSpacing?: EngineOptions['resetReasonSpacing'];
}

const dirName = (d: Direction | null): 'c2s' | 's2c' | null => (d === null ? null : d === C2S ? 'c2s' : 's2c');

export class ProxyLog implements ProxyEvents {
  readonly totals: ProxyTotals = {
    connections: 0,
    inspected: 0,
    exempted: 0,
    upstreamFailures: 0,
    refused: 0,
    gone: 0,
    acceptErrors: 0,
    dropped: 0,
    reset: 0,
    verdicts: 0,
    syslogLines: 0,
    bytesIn: [0, 0],
    bytesOut: [0, 0],
    bytesDropped: [0, 0],
  };
  private readonly clock = new ArrivalClock();
  private readonly stamp = { tsSec: 0, tsNsec: 0 };
  /** Connections whose 302013 was logged: they get a 302014. */
  private readonly loggedIds = new Set<number>();

  constructor(private readonly o: ProxyLogOptions) {}

  private now(): string {
    this.clock.stamp(this.stamp);
    return isoTime(this.stamp.tsSec, this.stamp.tsNsec, 6);
  }

  private ends(meta: ConnectionMeta): [Endpoint, Endpoint] {
    return [
      { iface: this.o.clientInterface, ip: meta.clientIp, port: meta.clientPort },
      { iface: this.o.serverInterface, ip: meta.serverIp, port: meta.serverPort },
    ];
  }

  private record(meta: ConnectionMeta, read: number, dir: Direction | null, rule: string, action: VerdictRecordAction, syslog: string[], detail: string): void {
    this.write(meta.client, meta.server, read, dir, rule, action, syslog, detail);
  }

  private write(client: string, server: string, read: number, dir: Direction | null, rule: string, action: VerdictRecordAction, syslog: string[], detail: string): void {
    const r: VerdictRecord = {
      time: this.now(),
      packet: read,
      client,
      server,
      direction: dirName(dir),
      rule,
      action,
      syslog: syslog.length ? syslog.join('\n') : null,
      detail,
    };
    this.totals.verdicts++;
    const line = formatVerdict(r);
    for (const out of this.o.verdictOutputs) {
      out.writeLine(line);
      out.flush();
    }
    for (const s of syslog) {
      this.totals.syslogLines++;
      for (const out of this.o.syslogOutputs) {
        out.writeLine(s);
        out.flush();
      }
    }
  }

  open(meta: ConnectionMeta, inspected: boolean, by: InspectingClassName | null): void {
    this.totals.connections++;
    // The ASA logs every connection it builds (302013/302014), inspected or not, as replay does.
    this.loggedIds.add(meta.id);
    const [a, b] = this.ends(meta);
    const built = syslog302013(meta.id, this.o.clientInterface === 'inside' ? 'outbound' : 'inbound', a, b);
    if (!inspected) {
      this.totals.exempted++;
      this.record(meta, 0, null, 'connection', 'note', [built], 'built: not inspected: no class with inspect esmtp selects this connection; relayed unchanged');
      return;
    }
    this.totals.inspected++;
    this.record(meta, 0, null, 'connection', 'note', [built], by ? builtDetail(by) : 'built: inspected');
  }

  verdict(meta: ConnectionMeta, v: Verdict, read: number): void {
    if (v.action === 'drop-connection') this.totals.dropped++;
    if (v.action === 'reset') this.totals.reset++;
    this.record(meta, read, v.dir, v.rule, v.action, v.syslog, v.detail);
  }

  note(meta: ConnectionMeta, dir: Direction | null, rule: string, action: 'note' | 'forward' | 'drop', detail: string, read: number): void {
    this.record(meta, read, dir, rule, action, [], detail);
  }

  /**
   * A client closed at accept. The ASA's equivalent of the cap is a connection limit (`set
   * connection conn-max`): it refuses the new connection with %ASA-3-201011 "Connection limit
   * exceeded cnt/limit for input packet from ... to ... on interface ..." (ASA syslog guide; the
   * same line replay logs for conn-max, src/pipeline/connection-limits.ts). Same record layout as
   * replay's refused connection: a `drop` of the client's connection attempt (c2s).
   */
  refused(c: RefusedClient): void {
    this.totals.refused++;
    const client = endpointText(c.clientIp, c.clientPort);
    const server = endpointText(c.serverIp, c.serverPort);
    if (c.reason === 'shutdown') {
      this.write(client, server, 0, C2S, 'shutdown', 'drop', [], 'connection refused: the proxy is shutting down; closed at accept');
      return;
    }
    const line = syslog201011(c.open, c.limit, 'input', { ip: c.clientIp, port: c.clientPort }, { ip: c.serverIp, port: c.serverPort }, this.o.clientInterface);
    this.write(client, server, 0, C2S, 'max-connections', 'drop', [line], `connection refused: ${c.open} of ${c.limit} connections open (--max-connections); closed at accept`);
  }

  /**
   * The listening socket failed to accept (EMFILE/ENFILE when descriptors ran out despite the
   * cap). libuv closes the waiting clients itself without telling Node who they were, so the
   * record has no client address: it says that some were lost, which is all that can be known.
   */
  acceptError(err: NodeJS.ErrnoException, listen: string, upstream: string): void {
    this.totals.acceptErrors++;
    const code = err.code ?? err.message;
    const why = code === 'EMFILE' || code === 'ENFILE' ? ' (out of file descriptors: lower --max-connections or raise ulimit -n)' : '';
    this.write('unknown', upstream, 0, C2S, 'accept-error', 'drop', [], `accept on ${listen} failed: ${code}${why}; waiting client(s) may have been closed unrecorded`);
  }

  /** A client reset before it was accepted: no address, no upstream connection, no syslog line to build. */
  clientGone(listen: string, upstream: string): void {
    this.totals.gone++;
    this.write(
      'unknown',
      upstream,
      0,
      C2S,
      'client-gone',
      'note',
      [],
      `a client reset its connection to ${listen} before it was accepted: its address could no longer be read; closed, not relayed`,
    );
  }

  close(meta: ConnectionMeta, cause: CloseCause, stats: ConnectionStats): void {
    for (const d of [0, 1] as const) {
      this.totals.bytesIn[d] += stats.bytesIn[d];
      this.totals.bytesOut[d] += stats.bytesOut[d];
      this.totals.bytesDropped[d] += stats.bytesDropped[d];
    }
    if (cause === 'upstream-unreachable') {
      this.totals.connections++;
      this.totals.upstreamFailures++;
      this.record(meta, 0, null, 'connection', 'note', [], `upstream ${meta.server} unreachable: client connection reset`);
      return;
    }
    if (!this.loggedIds.delete(meta.id)) return;
    const [a, b] = this.ends(meta);
    const reason = teardownReason(cause, this.o.clientInterface);
    // Dropped or reset by inspection: the bytes and duration at the drop, as replay logs them.
    const at = stats.closedByInspection;
    const bytes = at?.bytes ?? stats.bytesIn[0] + stats.bytesIn[1];
    const durationMs = at?.durationMs ?? stats.durationMs;
    const line = syslog302014(meta.id, a, b, durationMs / 1000, bytes, reason, this.o.resetReasonSpacing ?? 'compact');
    this.record(meta, 0, null, 'connection', 'note', [line], teardownDetail(reason, this.o.resetReasonSpacing ?? 'compact'));
  }
}

/** How the ASA would word the end of a proxied connection in 302014. */
export function teardownReason(cause: CloseCause, clientInterface: string): TeardownReason {
  switch (cause) {
    case 'fin':
      return 'TCP FINs';
    case 'drop-connection':
    case 'reset':
      return 'Flow closed by inspection';
    case 'client-reset':
      return clientInterface === 'inside' ? 'TCP Reset-I' : 'TCP Reset-O';
    case 'server-reset':
      return clientInterface === 'inside' ? 'TCP Reset-O' : 'TCP Reset-I';
    case 'idle-timeout':
    case 'shutdown':
    case 'upstream-unreachable':
      return 'Conn-timeout';
  }
}

/** Totals as text for the end of a run. */
export function formatTotals(t: ProxyTotals): string {
  return (
    `connections: ${t.connections} (${t.inspected} inspected, ${t.exempted} exempted, ${t.upstreamFailures} upstream unreachable; ` +
    `${t.dropped} dropped by drop-connection, ${t.reset} reset)\n` +
    `refused at accept: ${t.refused} (max-connections or shutdown)` +
    (t.gone > 0 ? `; reset by the client before accept: ${t.gone} (address unknown, not relayed)` : '') +
    (t.acceptErrors > 0 ? `; accept errors: ${t.acceptErrors} (waiting clients may have been closed unrecorded)` : '') +
    '\n' +
    `bytes client->server: ${t.bytesIn[0]} read, ${t.bytesOut[0]} forwarded, ${t.bytesDropped[0]} discarded\n` +
    `bytes server->client: ${t.bytesIn[1]} read, ${t.bytesOut[1]} forwarded, ${t.bytesDropped[1]} discarded\n` +
    `verdict records: ${t.verdicts}, syslog lines: ${t.syslogLines}\n`
  );
}
