/**
 * Section "hostile": attacks on the engine and the flow table at full size, each in its own worker
 * so its peak RSS is its own: a 100 MB command line without LF, a 50 MB header line, a 50 MB body
 * line, 200 MB of headers, a million RCPTs (default map: cut at 101; raised limit: counted on),
 * 100k pipelined commands in one segment, and a million half-open connections (SYN flood) spread
 * over capture time. The attack generators are exported: test/hostile runs small versions of the
 * same code and asserts flat memory through heap-after-GC and the flow table's own counters.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { DecodedPacket, TcpFlag } from '../../decode/packet.js';
import { FlowTable, PacketFlowResult, type FlowOptions } from '../../flow/flow-table.js';
import type { Connection } from '../../flow/connection.js';
import { setHeader } from '../../flow/synthetic.js';
import type { Direction, StreamListener } from '../../flow/types.js';
import { createEsmtpSession } from '../../inspect/esmtp/session.js';
import { EsmtpCounters } from '../../inspect/counters.js';
import { defaultEngineOptions, type EngineOptions } from '../../inspect/options.js';
import type { Edit, InspectorSession, Verdict } from '../../inspect/types.js';
import { compilePolicyText, defaultPolicy } from '../../policy/load.js';
import type { EsmtpMap } from '../../policy/types.js';
import { ENGINE_CTX } from '../sample-session.js';
import { registerBenchSection, type WorkResult } from '../registry.js';

const MB = 1024 * 1024;
const CHUNK = 64 * 1024;

let gcFn: (() => void) | null = null;

/** A full garbage collection, also without --expose-gc (the flag can be set at run time). */
export function forceGc(): void {
  if (!gcFn) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) gcFn = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

function heapAfterGc(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}

export function defaultMap(): EsmtpMap {
  const m = defaultPolicy().esmtpMaps.get('_default_esmtp_map');
  if (!m) throw new Error('no default map');
  return m;
}

/** A map with the given match lines only (plus nothing else), compiled from policy text. */
export function mapWith(lines: string, name = 'HOSTILE'): EsmtpMap {
  const m = compilePolicyText(`policy-map type inspect esmtp ${name}\n${lines}`, 'hostile-policy').esmtpMaps.get(name);
  if (!m) throw new Error(`no map ${name}`);
  return m;
}

export interface AttackResult {
  /** Bytes fed to the engine (both directions) or SYNs sent. */
  bytes: number;
  /** Verdicts per rule. */
  rules: Record<string, number>;
  edits: number;
  editBytes: number;
  state: string;
  /** Highest heap-after-GC seen during the attack minus the one before it. */
  heapGrowthBytes: number;
  details: string[];
}

/** Feeds one session in direction-tagged chunks, sampling heap-after-GC a few times. */
class Attack {
  readonly session: InspectorSession;
  readonly rules: Record<string, number> = {};
  readonly details: string[] = [];
  edits = 0;
  editBytes = 0;
  bytes = 0;
  private readonly off: [number, number] = [0, 0];
  private readonly base: number;
  private peak: number;

  constructor(map: EsmtpMap, options: EngineOptions = defaultEngineOptions()) {
    this.session = createEsmtpSession(
      map,
      ENGINE_CTX,
      options,
      {
        edit: (e: Edit) => {
          this.edits++;
          this.editBytes += e.bytes.length;
        },
        verdict: (v: Verdict) => {
          this.rules[v.rule] = (this.rules[v.rule] ?? 0) + 1;
          if (this.details.length < 20) this.details.push(`${v.rule}: ${v.action}: ${v.detail}`);
        },
      },
      new EsmtpCounters(),
    );
    this.base = heapAfterGc();
    this.peak = this.base;
  }

  send(dir: Direction, data: Buffer | string): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.session.data(dir, b, this.off[dir]);
    this.off[dir] += b.length;
    this.bytes += b.length;
  }

  /** `total` bytes of `fill` in CHUNK-sized segments (one reused buffer), heap sampled 4 times. */
  stream(dir: Direction, total: number, fill: number): void {
    const chunk = Buffer.alloc(CHUNK, fill);
    let left = total;
    let nextSample = total - total / 4;
    while (left > 0) {
      const n = Math.min(CHUNK, left);
      this.send(dir, n === CHUNK ? chunk : chunk.subarray(0, n));
      left -= n;
      if (left <= nextSample) {
        this.sample();
        nextSample -= total / 4;
      }
    }
  }

  sample(): void {
    this.peak = Math.max(this.peak, heapAfterGc());
  }

  finish(): AttackResult {
    this.sample();
    this.session.end();
    return { bytes: this.bytes, rules: this.rules, edits: this.edits, editBytes: this.editBytes, state: this.session.state, heapGrowthBytes: this.peak - this.base, details: this.details };
  }
}

const GREETING = '220 mx.example.test ESMTP Postfix\r\n';

function openSession(a: Attack): void {
  a.send(1, GREETING);
  a.send(0, 'EHLO client.example.test\r\n');
  a.send(1, '250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
}

function intoData(a: Attack): void {
  openSession(a);
  a.send(0, 'MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n');
  a.send(1, '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n');
}

/** A command line of `bytes` bytes that never ends (no LF). */
export function longCommandLine(bytes: number, map: EsmtpMap = defaultMap()): AttackResult {
  const a = new Attack(map);
  openSession(a);
  a.send(0, 'HELO ');
  a.stream(0, bytes, 0x61);
  return a.finish();
}

/** One header line of `bytes` bytes (no LF). */
export function longHeaderLine(bytes: number, map: EsmtpMap = defaultMap()): AttackResult {
  const a = new Attack(map);
  intoData(a);
  a.send(0, 'Subject: ');
  a.stream(0, bytes, 0x62);
  return a.finish();
}

/** One body line of `bytes` bytes (no LF), after a normal header block. */
export function longBodyLine(bytes: number, map: EsmtpMap = defaultMap()): AttackResult {
  const a = new Attack(map);
  intoData(a);
  a.send(0, 'From: alice@example.test\r\nSubject: hi\r\n\r\n');
  a.stream(0, bytes, 0x63);
  a.send(0, '\r\n.\r\n');
  a.send(1, '250 2.0.0 Ok: queued\r\n');
  return a.finish();
}

/** A header block of `bytes` bytes in 100-byte lines, then the end of the message. */
export function manyHeaders(bytes: number, map: EsmtpMap = defaultMap()): AttackResult {
  const a = new Attack(map);
  intoData(a);
  const line = 'X-Filler: ' + 'h'.repeat(88) + '\r\n'; // 100 bytes
  const chunk = Buffer.from(line.repeat(CHUNK / 100), 'latin1');
  let left = bytes;
  let nextSample = bytes - bytes / 4;
  while (left > 0) {
    a.send(0, chunk);
    left -= chunk.length;
    if (left <= nextSample) {
      a.sample();
      nextSample -= bytes / 4;
    }
  }
  a.send(0, '\r\nbody\r\n.\r\n');
  a.send(1, '250 2.0.0 Ok: queued\r\n');
  return a.finish();
}

/** `count` RCPT commands in one transaction, pipelined 1000 per segment, each answered. */
export function manyRcpts(count: number, map: EsmtpMap = defaultMap(), options?: EngineOptions): AttackResult {
  const a = new Attack(map, options);
  openSession(a);
  a.send(0, 'MAIL FROM:<alice@example.test>\r\n');
  a.send(1, '250 2.1.0 Ok\r\n');
  const per = 1000;
  const cmds = Buffer.from('RCPT TO:<r@example.test>\r\n'.repeat(per), 'latin1');
  const replies = Buffer.from('250 2.1.5 Ok\r\n'.repeat(per), 'latin1');
  for (let sent = 0; sent < count; sent += per) {
    const n = Math.min(per, count - sent);
    a.send(0, n === per ? cmds : cmds.subarray(0, n * 26));
    a.send(1, n === per ? replies : replies.subarray(0, n * 14));
    if (a.session.state !== 'inspecting') break;
    if (sent % (count / 4) < per) a.sample();
  }
  return a.finish();
}

/** `count` pipelined commands in ONE segment (and their replies in one), `verb` each. */
export function pipelineFlood(count: number, verb = 'NOOP', map: EsmtpMap = defaultMap()): AttackResult {
  const a = new Attack(map);
  openSession(a);
  a.send(0, Buffer.from(`${verb}\r\n`.repeat(count), 'latin1'));
  a.sample();
  a.send(1, Buffer.from('250 2.0.0 Ok\r\n'.repeat(count), 'latin1'));
  return a.finish();
}

export interface FloodResult {
  syns: number;
  /** Connections in the table at the end, and the most at once. */
  size: number;
  peakOpen: number;
  embryonic: number;
  halfOpenTimeouts: number;
  evicted: number;
  connectionLimitHits: number;
  memoryInUse: number;
  heapGrowthBytes: number;
}

const NULL_LISTENER: StreamListener<Connection> = { onOpen() {}, onData() {}, onGap() {}, onClose() {} };

/**
 * `count` SYNs from distinct clients spread evenly over `spreadSec` seconds of capture time, no
 * handshake ever completes: half-open timeouts (by capture time) and the connection table limit
 * keep the table bounded.
 */
export function synFlood(count: number, spreadSec: number, options: Partial<FlowOptions> = {}): FloodResult {
  const before = heapAfterGc();
  const table = new FlowTable(NULL_LISTENER, options);
  const pkt = new DecodedPacket();
  const data = Buffer.alloc(8);
  data.writeUInt32BE(0xc0000219, 4); // server 192.0.2.25
  const r = new PacketFlowResult();
  const stepNs = (spreadSec * 1e9) / count;
  let peakHeap = before;
  for (let i = 0; i < count; i++) {
    data.writeUInt32BE((0x0a000000 + Math.floor(i / 60000)) >>> 0, 0);
    setHeader(pkt, data, 4, 1024 + (i % 60000), 25, (i * 2654435761) >>> 0, 0, { flags: TcpFlag.SYN, window: 64240 });
    const ns = Math.floor(i * stepNs);
    table.process(pkt, i + 1, 1_700_000_000 + Math.floor(ns / 1e9), ns % 1e9, r);
    if (i % Math.max(1, Math.floor(count / 4)) === 0) peakHeap = Math.max(peakHeap, heapAfterGc());
  }
  peakHeap = Math.max(peakHeap, heapAfterGc());
  const s = table.stats;
  return {
    syns: count,
    size: table.size,
    peakOpen: s.peakOpen,
    embryonic: s.embryonic,
    halfOpenTimeouts: s.closed['half-open-timeout'],
    evicted: s.closed.evicted,
    connectionLimitHits: s.connectionLimitHits,
    memoryInUse: s.memoryInUse,
    heapGrowthBytes: peakHeap - before,
  };
}

/** Policies of the bench cases: the RCPT limit raised (log only) so counting goes on. */
export const RAISED_RCPT_LINES = ' match cmd RCPT count gt 500000\n  log\n';
/** `log` instead of drop-connection: the engine keeps reading the endless line to its end. */
const LOG_CMD_LINE = ' match cmd line length gt 512\n  log\n';
const LOG_HEADER_LINE = ' match header line length gt 998\n  log\n';
const LOG_HEADER_LENGTH = ' match header length gt 1000000\n  log\n match header line length gt 998\n  log\n';

function attackWork(name: string, n: number): AttackResult | FloodResult {
  switch (name) {
    case 'cmd-line':
      return longCommandLine(n);
    case 'cmd-line-log':
      return longCommandLine(n, mapWith(LOG_CMD_LINE));
    case 'header-line':
      return longHeaderLine(n);
    case 'header-line-log':
      return longHeaderLine(n, mapWith(LOG_HEADER_LINE));
    case 'body-line':
      return longBodyLine(n);
    case 'headers':
      return manyHeaders(n, mapWith(LOG_HEADER_LENGTH));
    case 'rcpt-default':
      return manyRcpts(n);
    case 'rcpt-raised':
      return manyRcpts(n, mapWith(RAISED_RCPT_LINES));
    case 'pipeline':
      return pipelineFlood(n);
    case 'pipeline-unknown':
      return pipelineFlood(n, 'XYZW');
    case 'syn-flood':
      return synFlood(n, 300);
    case 'syn-flood-concurrent':
      return synFlood(n, 10);
    case 'syn-flood-burst':
      return synFlood(n, 1, { maxConnections: 100_000 });
    default:
      throw new Error(`unknown hostile case ${name}`);
  }
}

interface Case {
  name: string;
  label: string;
  n: number;
}

const CASES: Case[] = [
  { name: 'cmd-line', label: '100 MB command line, no LF (default map)', n: 100 * MB },
  { name: 'cmd-line-log', label: '100 MB command line, no LF (rule: log)', n: 100 * MB },
  { name: 'header-line', label: '50 MB header line (default map)', n: 50 * MB },
  { name: 'header-line-log', label: '50 MB header line (rule: log)', n: 50 * MB },
  { name: 'body-line', label: '50 MB body line (default map: log)', n: 50 * MB },
  { name: 'headers', label: '200 MB of headers, 100-byte lines (header length gt 1000000: log)', n: 200 * MB },
  { name: 'rcpt-default', label: '1M RCPT, default map', n: 1_000_000 },
  { name: 'rcpt-raised', label: '1M RCPT, limit raised to 500000', n: 1_000_000 },
  { name: 'pipeline', label: '100k NOOP in one segment', n: 100_000 },
  { name: 'pipeline-unknown', label: "100k unknown verbs in one segment (X'd)", n: 100_000 },
  { name: 'syn-flood', label: '1M SYNs over 300 s (half-open timeout 30 s)', n: 1_000_000 },
  { name: 'syn-flood-concurrent', label: '1M SYNs in 10 s (all half-open at once)', n: 1_000_000 },
  { name: 'syn-flood-burst', label: '1M SYNs in 1 s, table capped at 100k', n: 1_000_000 },
];

function summarise(r: AttackResult | FloodResult): Record<string, number | string> {
  if ('syns' in r) {
    return { size: r.size, 'peak open': r.peakOpen, 'half-open timeouts': r.halfOpenTimeouts, evicted: r.evicted, 'limit hits': r.connectionLimitHits, 'heap growth MB': (r.heapGrowthBytes / MB).toFixed(1) };
  }
  const rules = Object.entries(r.rules).map(([k, v]) => `${k.replace(/ /g, '_')}x${v}`).join(',') || 'none';
  return { state: r.state, rules, edits: r.edits, 'heap growth MB': (r.heapGrowthBytes / MB).toFixed(1) };
}

registerBenchSection({
  name: 'hostile',
  description: 'attacks at full size: endless lines, huge headers, 1M RCPTs, pipelining floods, 1M-SYN flood (peak RSS and time per case)',

  async work(_file, args): Promise<WorkResult> {
    const name = args[0] ?? '';
    const n = Number(args[1]);
    const r = attackWork(name, n);
    return { bytes: 'syns' in r ? 0 : r.bytes, packets: 'syns' in r ? r.syns : 0, extra: summarise(r) };
  },

  async run(ctx) {
    for (const c of CASES) {
      const m = await ctx.measureOurs(c.label, 'hostile', [c.name, String(c.n)]);
      ctx.table([m]);
      const rss = m.peakRssBytes;
      if (rss === null) continue;
      if (c.name.startsWith('syn-flood')) ctx.bar(`${c.label}: peak RSS < 1.5 GB`, rss < 1.5 * 1024 ** 3, `${(rss / MB).toFixed(0)} MB`);
      else ctx.bar(`${c.label}: peak RSS < 150 MB (flat)`, rss < 150 * MB, `${(rss / MB).toFixed(0)} MB`);
    }
  },
});
