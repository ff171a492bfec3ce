/**
 * `smtp-inspect info FILE [--json]`: what capinfos tells (format, link types, packets, sizes,
 * first/last time) plus what matters before an SMTP run: packets per decoded kind, TCP
 * connections, connections per SMTP port, and which of them the ASA default policy inspects
 * (its class inspection_default selects ESMTP on TCP/25 only, so 587, 2525 and 465 are not
 * inspected unless a class matches them; 465 is SMTPS, TLS from the first byte).
 */
import type { Command } from 'commander';
import { openCapture } from '../capture/open.js';
import { PCAP_MODIFIED_RECORD_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES } from '../capture/pcap-reader.js';
import { MAX_OTHER_BLOCK_BYTES } from '../capture/limits.js';
import type { CaptureRecord, CaptureSource } from '../capture/types.js';
import { decodePacket } from '../decode/decode.js';
import { linkTypeName } from '../decode/link-types.js';
import { DecodedPacket, PACKET_KIND_NAMES, PacketKind, TcpFlag } from '../decode/packet.js';
import { EXIT, SmtpInspectError } from '../errors.js';
import { isoTime, secondsBetween } from '../output/time.js';
import { TextFileOutput } from '../output/text-file.js';
import { defaultPolicy } from '../policy/load.js';
import { action } from './errors.js';
import { endProcessIfInputBlocked, Interrupt, untilEndOrInterrupt } from './interrupt.js';

/** Ports reported as SMTP: 25 (relay), 587 (submission), 2525 (common alternative), 465 (SMTPS, implicit TLS). */
export const SMTP_PORTS = [25, 587, 2525, 465] as const;
const IMPLICIT_TLS_PORT = 465;

/**
 * The TCP ports the ASA factory-default policy sends to `inspect esmtp`, read from the compiled
 * default policy rather than written down a second time (class inspection_default: TCP/25).
 */
export function defaultInspectedPorts(): number[] {
  return defaultPolicy().esmtpPorts() ?? [];
}

export interface CaptureInfo {
  file: string;
  format: 'pcap' | 'pcapng';
  gzip: boolean;
  /** A "modified" (Kuznetzov, magic a1b2cd34) pcap: 24-byte record headers; false for every other file. */
  modifiedPcap: boolean;
  /** Byte order of the file (pcapng: of the first section, known from its header even with no interface); null before any header was read. */
  byteOrder: 'little-endian' | 'big-endian' | null;
  linkTypes: number[];
  linkTypeNames: string[];
  interfaces: number;
  /** Snaplen per interface. */
  snaplens: number[];
  packets: number;
  /** Sum of original (on-the-wire) lengths, as capinfos' "Data size". */
  bytes: number;
  /** Sum of captured lengths. */
  capturedBytes: number;
  /** Bytes of the (decompressed) input read. */
  inputBytes: number;
  /**
   * Earliest and latest packet time (as capinfos), ISO 8601 UTC at the capture's precision (years
   * beyond 9999 in the expanded form, +35680317-09-25T18:57:04Z); null when no packet has a time
   * (none at all, or only pcapng Simple Packet Blocks, which store none).
   */
  firstTime: string | null;
  lastTime: string | null;
  durationSeconds: number | null;
  /** Fraction digits of the timestamps (6 = µs, 9 = ns); null when no interface says (a pcapng with no IDB). */
  timePrecisionDigits: number | null;
  /** Packets that store no time (pcapng Simple Packet Blocks): left out of first/last time and duration. */
  packetsWithoutTime: number;
  truncatedRecords: number;
  /** pcapng blocks carrying no packet too large to buffer (over 8 MiB: a big TLS key log, say), passed over. */
  skippedBlocks: number;
  packetsByKind: Record<string, number>;
  tcpConnections: number;
  /** Connections whose server port is 25, 587, 2525 or 465. */
  smtpConnections: number;
  smtpConnectionsByPort: Record<string, number>;
  /** Of those, port 465 (SMTPS): TLS from the first byte; the default policy does not inspect it. */
  implicitTlsConnections: number;
  /** TCP ports the ASA default policy inspects with `inspect esmtp` ([25]: class inspection_default). */
  defaultInspectedPorts: number[];
  /** SMTP connections on those ports: what the default policy inspects. */
  smtpConnectionsInspectedByDefault: number;
  /** SMTP connections on the other SMTP ports (587, 2525, 465): not inspected by the default policy. */
  smtpConnectionsNotInspectedByDefault: number;
  /** True when SIGINT/SIGTERM stopped the reading: the counts cover what was read until then. */
  interrupted: boolean;
  /** The capture fault that ended the reading (the counts cover every packet before it), or null. */
  error: InfoError | null;
}

/** One TCP connection, chained per hash bucket. Endpoint A is the client when a SYN was seen. */
class Conn {
  constructor(
    readonly addrLen: number,
    /** addrA then addrB. */
    readonly addrs: Buffer,
    readonly portA: number,
    readonly portB: number,
    public isn: number,
    public hasIsn: boolean,
    public next: Conn | null,
  ) {}
  closed = false;
}

function smtpIndex(port: number): number {
  return SMTP_PORTS.indexOf(port as (typeof SMTP_PORTS)[number]);
}

/**
 * Counts TCP connections like Wireshark's tcp.stream: one per 4-tuple, and a new one when a SYN
 * with a different initial sequence number reuses the tuple. No per-packet allocation: the
 * 4-tuple is hashed in place (order-independent) and compared byte by byte on a hit.
 */
export class TcpConnectionCounter {
  count = 0;
  readonly smtpByPort = new Array<number>(SMTP_PORTS.length).fill(0);
  private readonly buckets = new Map<number, Conn>();

  private static hashSide(d: Buffer, addr: number, len: number, port: number): number {
    let h = 0x811c9dc5 ^ port;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ d[addr + i]!, 0x01000193);
    return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }

  private static sameAddr(d: Buffer, off: number, conn: Conn, which: 0 | 1): boolean {
    const base = which * conn.addrLen;
    for (let i = 0; i < conn.addrLen; i++) if (d[off + i] !== conn.addrs[base + i]) return false;
    return true;
  }

  /** Set by find(): whether the packet was sent by endpoint A. */
  private fromA = false;

  private find(p: DecodedPacket, hash: number): Conn | null {
    const d = p.data;
    for (let c = this.buckets.get(hash) ?? null; c !== null; c = c.next) {
      if (c.addrLen !== p.addrLength) continue;
      if (c.portA === p.srcPort && c.portB === p.dstPort && TcpConnectionCounter.sameAddr(d, p.srcAddrOffset, c, 0) && TcpConnectionCounter.sameAddr(d, p.dstAddrOffset, c, 1)) {
        this.fromA = true;
        return c;
      }
      if (c.portA === p.dstPort && c.portB === p.srcPort && TcpConnectionCounter.sameAddr(d, p.dstAddrOffset, c, 0) && TcpConnectionCounter.sameAddr(d, p.srcAddrOffset, c, 1)) {
        this.fromA = false;
        return c;
      }
    }
    return null;
  }

  add(p: DecodedPacket): void {
    const d = p.data;
    const len = p.addrLength;
    // Commutative combination: both directions of a connection land in the same bucket.
    const hash = (TcpConnectionCounter.hashSide(d, p.srcAddrOffset, len, p.srcPort) + TcpConnectionCounter.hashSide(d, p.dstAddrOffset, len, p.dstPort)) >>> 0;
    const syn = (p.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    const c = this.find(p, hash);
    if (c) {
      if (!syn) {
        if (p.flags & (TcpFlag.FIN | TcpFlag.RST)) c.closed = true;
        return;
      }
      // A SYN on a known tuple: a retransmission (same ISN), or the tuple reused by a new connection.
      if (!c.hasIsn && !c.closed) {
        c.isn = p.seq;
        c.hasIsn = true;
        return;
      }
      if (c.hasIsn && c.isn === p.seq && this.fromA) return;
    }
    this.create(p, hash, syn);
  }

  private create(p: DecodedPacket, hash: number, syn: boolean): void {
    const d = p.data;
    const len = p.addrLength;
    // Endpoint A = the client: the SYN's sender, the SYN-ACK's receiver, else the side not on an SMTP port.
    const synAck = (p.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
    const srcIsClient = syn || (!synAck && !(smtpIndex(p.srcPort) >= 0 && smtpIndex(p.dstPort) < 0));
    const aOff = srcIsClient ? p.srcAddrOffset : p.dstAddrOffset;
    const bOff = srcIsClient ? p.dstAddrOffset : p.srcAddrOffset;
    const addrs = Buffer.allocUnsafe(2 * len);
    d.copy(addrs, 0, aOff, aOff + len);
    d.copy(addrs, len, bOff, bOff + len);
    const portA = srcIsClient ? p.srcPort : p.dstPort;
    const portB = srcIsClient ? p.dstPort : p.srcPort;
    this.buckets.set(hash, new Conn(len, addrs, portA, portB, p.seq, syn, this.buckets.get(hash) ?? null));
    this.count++;
    const serverIdx = smtpIndex(portB);
    if (serverIdx >= 0) this.smtpByPort[serverIdx]!++;
  }
}

export interface CollectInfoOptions {
  /** SIGINT/SIGTERM: stop reading and summarise what was read (CaptureInfo.interrupted). */
  interrupt?: Interrupt;
}

/** A capture fault that ended the reading; the summary covers every packet before it. */
export interface InfoError {
  code: string;
  message: string;
  /** Byte offset in the input where the fault starts, or null when unknown. */
  offset: number | null;
  /** True when `offset` counts the decompressed bytes of a gzip-compressed capture. */
  decompressed: boolean;
}

/** What collectInfo gathered and how the reading ended. */
export interface InfoResult {
  info: CaptureInfo;
  /** The fault, to report after the summary (exit 2), or null. */
  error: SmtpInspectError | null;
  /** False when an interrupt abandoned a read still waiting for input (see endProcessIfInputBlocked). */
  inputEnded: boolean;
}

/**
 * Reads the whole capture once and gathers the statistics. A truncated or corrupt capture, or an
 * interrupt, ends the reading early: the summary then covers every packet read before it (as
 * capinfos prints its counts before the error), with `error` / `interrupted` saying so.
 */
export async function collectInfo(file: string, opts: CollectInfoOptions = {}): Promise<CaptureInfo> {
  return (await collectInfoResult(file, opts)).info;
}

/** A signal came before the capture's header could be read: there is nothing to summarise. */
export class InterruptedBeforeHeader extends Error {}

export async function collectInfoResult(file: string, opts: CollectInfoOptions = {}): Promise<InfoResult> {
  const interrupt = opts.interrupt ?? null;
  const opening = openCapture(file);
  let source: CaptureSource;
  if (interrupt) {
    const opened = await untilEndOrInterrupt(opening, interrupt);
    if (!opened.ended) throw new InterruptedBeforeHeader('interrupted before the capture header was read');
    source = opened.value;
  } else source = await opening;
  const kinds = new Array<number>(Object.keys(PACKET_KIND_NAMES).length).fill(0);
  const decoded = new DecodedPacket();
  const tcp = new TcpConnectionCounter();
  let packets = 0;
  let truncatedRecords = 0;
  let lastRecordEnd = 0;
  const modifiedPcap = source.pcapHeader?.modified === true;
  // The modified format's record headers are 24 bytes, or 28 in SuSE 6.3's (same magic; the reader
  // tells them apart by the records): learned from the distance between two records.
  let recordHeaderBytes = modifiedPcap ? PCAP_MODIFIED_RECORD_HEADER_BYTES : PCAP_RECORD_HEADER_BYTES;
  let prevOffset = -1;
  let prevCaptureLength = 0;
  let bytes = 0;
  let capturedBytes = 0;
  let timed = 0;
  let minSec = Infinity;
  let minNsec = 0;
  let maxSec = -Infinity;
  let maxNsec = 0;
  const onRecord = (rec: CaptureRecord): void => {
    // A record the reader still delivers after the signal is not part of what was read.
    if (interrupt?.interrupted) return;
    packets++;
    if (rec.truncated) truncatedRecords++;
    // Where this record ends in the input (pcapng: its block; pcap: 16-byte header, 24 modified, + data).
    if (modifiedPcap) {
      if (prevOffset >= 0) recordHeaderBytes = rec.fileOffset - prevOffset - prevCaptureLength;
      prevOffset = rec.fileOffset;
      prevCaptureLength = rec.captureLength;
    }
    lastRecordEnd = rec.fileOffset + (rec.blockLength > 0 ? rec.blockLength : recordHeaderBytes + rec.captureLength);
    bytes += rec.originalLength;
    capturedBytes += rec.captureLength;
    // A Simple Packet Block stores no time: it carries the previous packet's, which is not its own.
    if (rec.timestampKnown) {
      timed++;
      // Normalised (a pcap fraction may exceed one second in damaged files).
      let sec = rec.tsSec;
      let nsec = rec.tsNsec;
      if (nsec >= 1e9) {
        sec += Math.floor(nsec / 1e9);
        nsec %= 1e9;
      }
      if (sec < minSec || (sec === minSec && nsec < minNsec)) {
        minSec = sec;
        minNsec = nsec;
      }
      if (sec > maxSec || (sec === maxSec && nsec > maxNsec)) {
        maxSec = sec;
        maxNsec = nsec;
      }
    }
    decodePacket(rec.linkType, rec.data, decoded);
    kinds[decoded.kind]!++;
    if (decoded.kind === PacketKind.TCP) tcp.add(decoded);
  };

  let error: SmtpInspectError | null = null;
  let inputEnded = true;
  /** Bytes of the input read: the reader's count at its end, else up to the fault or the last record counted. */
  let inputBytes: number | null = null;
  let skippedBlocks = 0;
  const reading = source.run(onRecord, undefined, undefined, undefined, () => {
    if (!interrupt?.interrupted) skippedBlocks++;
  });
  try {
    if (interrupt) {
      const outcome = await untilEndOrInterrupt(reading, interrupt);
      inputEnded = outcome.ended;
      if (outcome.ended) inputBytes = outcome.value.bytes;
    } else inputBytes = (await reading).bytes;
  } catch (err) {
    // Open faults were thrown by openCapture above; what comes here ends a capture read part-way.
    if (!(err instanceof SmtpInspectError)) throw err;
    error = err;
    inputBytes = err.offset ?? null;
  }
  inputBytes ??= lastRecordEnd;

  const ifaces = source.interfaces;
  const linkTypes = [...new Set(ifaces.map((i) => i.linkType))];
  const digits = source.timePrecisionDigits;
  const packetsByKind: Record<string, number> = {};
  kinds.forEach((n, k) => {
    if (n > 0) packetsByKind[PACKET_KIND_NAMES[k as PacketKind]] = n;
  });
  const smtpConnectionsByPort: Record<string, number> = {};
  SMTP_PORTS.forEach((port, i) => (smtpConnectionsByPort[String(port)] = tcp.smtpByPort[i]!));
  const have = timed > 0;
  const inspectedPorts = defaultInspectedPorts();
  let inspectedByDefault = 0;
  SMTP_PORTS.forEach((port, i) => {
    if (inspectedPorts.includes(port)) inspectedByDefault += tcp.smtpByPort[i]!;
  });
  const smtpConnections = tcp.smtpByPort.reduce((a, b) => a + b, 0);
  const info: CaptureInfo = {
    file,
    format: source.format,
    gzip: source.gzip,
    modifiedPcap,
    byteOrder: source.littleEndian === null ? null : source.littleEndian ? 'little-endian' : 'big-endian',
    linkTypes,
    linkTypeNames: linkTypes.map(linkTypeName),
    interfaces: ifaces.length,
    snaplens: ifaces.map((i) => i.snaplen),
    packets,
    bytes,
    capturedBytes,
    inputBytes,
    firstTime: have ? isoTime(minSec, minNsec, digits ?? 0) : null,
    lastTime: have ? isoTime(maxSec, maxNsec, digits ?? 0) : null,
    durationSeconds: have ? secondsBetween(minSec, minNsec, maxSec, maxNsec) : null,
    timePrecisionDigits: digits,
    packetsWithoutTime: packets - timed,
    truncatedRecords,
    skippedBlocks,
    packetsByKind,
    tcpConnections: tcp.count,
    smtpConnections,
    smtpConnectionsByPort,
    implicitTlsConnections: tcp.smtpByPort[SMTP_PORTS.indexOf(IMPLICIT_TLS_PORT)]!,
    defaultInspectedPorts: inspectedPorts,
    smtpConnectionsInspectedByDefault: inspectedByDefault,
    smtpConnectionsNotInspectedByDefault: smtpConnections - inspectedByDefault,
    interrupted: interrupt?.interrupted ?? false,
    error: error === null ? null : { code: error.code, message: error.message, offset: error.offset ?? null, decompressed: error.decompressed },
  };
  return { info, error, inputEnded };
}

/** Decimal at the capture's precision, as capinfos prints it (`0.000000020`, not `2e-8`). */
function durationText(seconds: number, digits: number | null): string {
  return Math.abs(seconds) < 1e21 ? seconds.toFixed(Math.min(digits ?? 9, 100)) : String(seconds);
}

/** "microseconds", "nanoseconds", "3 fraction digits", or null when no interface gives a precision. */
function resolutionText(digits: number | null): string | null {
  if (digits === null) return null;
  return digits === 9 ? 'nanoseconds' : digits === 6 ? 'microseconds' : `${digits} fraction digits`;
}

export function formatInfo(i: CaptureInfo): string {
  const row = (k: string, v: string | number): string => `${(k + ':').padEnd(20)}${v}\n`;
  const format = [`${i.format}${i.modifiedPcap ? ' (modified: Kuznetzov/patched-libpcap records)' : ''}${i.gzip ? ' (gzip-compressed)' : ''}`, i.byteOrder, resolutionText(i.timePrecisionDigits)].filter((x) => x !== null);
  const noTime = i.packets > 0 ? 'n/a (no packet stores a time)' : '-';
  let s = '';
  s += row('File', i.file);
  if (i.interrupted) s += row('Read', 'interrupted (SIGINT/SIGTERM): the counts cover the packets read until then');
  if (i.error) s += row('Read', `stopped by a capture fault at ${i.error.offset === null ? 'an unknown offset' : `${i.error.decompressed ? 'decompressed ' : ''}byte offset ${i.error.offset}`} [${i.error.code}]: the counts cover every packet before it`);
  s += row('Format', format.join(', '));
  s += row('Link types', i.linkTypes.map((t, k) => `${t} (${i.linkTypeNames[k]})`).join(', ') || '(none)');
  s += row('Interfaces', `${i.interfaces}${i.snaplens.length ? ` (snaplen ${[...new Set(i.snaplens)].join(', ')})` : ''}`);
  s += row('Packets', `${i.packets}${i.packetsWithoutTime > 0 ? ` (${i.packetsWithoutTime} with no time of their own: pcapng Simple Packet Blocks)` : ''}`);
  s += row('Data size', `${i.bytes} bytes on the wire, ${i.capturedBytes} captured`);
  s += row('Truncated records', `${i.truncatedRecords}${i.truncatedRecords ? ' (cut by the snaplen)' : ''}`);
  if (i.skippedBlocks > 0) s += row('Blocks skipped', `${i.skippedBlocks} (pcapng blocks carrying no packet, over ${MAX_OTHER_BLOCK_BYTES / (1024 * 1024)} MiB: passed over, not read)`);
  s += row('First packet', i.firstTime ?? noTime);
  s += row('Last packet', i.lastTime ?? noTime);
  s += row('Duration', i.durationSeconds === null ? noTime : `${durationText(i.durationSeconds, i.timePrecisionDigits)} s`);
  s += row('Packets by kind', Object.entries(i.packetsByKind).map(([k, n]) => `${k} ${n}`).join(', ') || '-');
  s += row('TCP connections', i.tcpConnections);
  s += row('SMTP connections', `${i.smtpConnections} by server port: ${SMTP_PORTS.map((p) => `${p}: ${i.smtpConnectionsByPort[String(p)]}${p === IMPLICIT_TLS_PORT ? ' (SMTPS, implicit TLS)' : ''}`).join(', ')}`);
  s += formatDefaultInspection(i).map((line, k) => (k === 0 ? row('Default inspection', line) : `${' '.repeat(20)}${line}\n`)).join('');
  return s;
}

/** Which SMTP connections the ASA default policy inspects, and why the others are not. */
function formatDefaultInspection(i: CaptureInfo): string[] {
  const ports = i.defaultInspectedPorts;
  const tcpList = ports.map((p) => `TCP/${p}`).join(', ') || 'no port';
  const others = SMTP_PORTS.filter((p) => !ports.includes(p));
  const lines = [
    `${i.smtpConnectionsInspectedByDefault} of ${i.smtpConnections} inspected: the ASA default policy applies inspect esmtp to ${tcpList} only (class inspection_default)`,
  ];
  if (others.length > 0) {
    const byPort = others.map((p) => `${p}: ${i.smtpConnectionsByPort[String(p)] ?? 0}`).join(', ');
    const plain = others.filter((p) => p !== IMPLICIT_TLS_PORT);
    lines.push(
      `${i.smtpConnectionsNotInspectedByDefault} not inspected by default (${byPort})` +
        (plain.length > 0 ? `; inspecting ${plain.join(' or ')} needs a class that matches the port` : ''),
    );
  }
  if (i.implicitTlsConnections > 0) {
    lines.push(`465 is SMTPS (implicit TLS): encrypted from the first byte, so the capture shows no SMTP commands on it`);
  }
  return lines;
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .summary('summarise a capture: format, packets, times, TCP and SMTP connections')
    .description('Summarise a capture: format, link types, packets, times, truncation, packet kinds, TCP and SMTP connections')
    .argument('<file>', "capture file (pcap, pcapng, optionally .gz); '-' reads standard input")
    .option('--json', 'print one JSON object instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n  smtp-inspect info capture.pcapng\n  smtp-inspect info --json capture.pcap.gz\n  tcpdump -w - port 25 | smtp-inspect info -\n',
    )
    .action(
      action(async (file: string, opts: { json?: boolean }) => {
        const interrupt = new Interrupt();
        let result: InfoResult;
        try {
          result = await collectInfoResult(file, { interrupt });
        } catch (err) {
          if (!(err instanceof InterruptedBeforeHeader)) throw err;
          process.stderr.write(`smtp-inspect: ${file}: ${err.message}: nothing to summarise\n`);
          endProcessIfInputBlocked(false, file);
          return EXIT.INTERRUPTED;
        } finally {
          interrupt.dispose();
        }
        const { info, error, inputEnded } = result;
        // The summary first, whatever ended the reading, written synchronously (then the error line, exit 2; or exit 130).
        const out = new TextFileOutput('-');
        try {
          out.writeLine((opts.json ? JSON.stringify(info, null, 2) : formatInfo(info)).replace(/\n$/, ''));
        } finally {
          out.close();
        }
        if (error !== null) throw error;
        if (info.interrupted) {
          process.stderr.write(`smtp-inspect: interrupted: summary of the ${info.packets} packet(s) read until the signal\n`);
          endProcessIfInputBlocked(inputEnded, file);
          return EXIT.INTERRUPTED;
        }
        return EXIT.OK;
      }),
    );
}
