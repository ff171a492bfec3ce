/**
 * The engine of `smtp-inspect flows`: reads a capture, reassembles the selected TCP connections
 * and produces one record per connection (endpoints, times, close reason, and per direction the
 * delivered bytes with their sha256, gaps, retransmitted and overlap-different bytes). Optionally
 * streams each direction's bytes to files, as tcpflow does. Memory: one hash pair per connection in
 * the table; a record is final when its connection leaves the table (late packets counted), and
 * records leave in connection order as soon as every earlier one is final.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openCapture } from '../capture/open.js';
import type { CaptureRecord } from '../capture/types.js';
import { decodePacket } from '../decode/decode.js';
import { DecodedPacket } from '../decode/packet.js';
import { CaptureError, OutputError } from '../errors.js';
import { isoTime } from '../output/time.js';
import type { Connection } from './connection.js';
import { FlowTable, FlowTableStats, PacketFlowResult, type FlowOptions } from './flow-table.js';
import type { CloseReason, Direction, StreamListener } from './types.js';
import type { DiscardListener } from './flow-table.js';

export interface DirectionRecord {
  bytes: number;
  sha256: string;
  gaps: number;
  gapBytes: number;
  retransmittedBytes: number;
  overlapDifferentBytes: number;
  outOfOrderPackets: number;
}

/** One connection, keys in output order. */
export interface FlowRecord {
  id: number;
  client: string;
  server: string;
  clientBy: Connection['clientBy'];
  packets: number;
  firstTime: string;
  lastTime: string;
  close: CloseReason;
  c2s: DirectionRecord;
  s2c: DirectionRecord;
}

export interface FlowsRunOptions {
  flow?: Partial<FlowOptions>;
  /** Write each direction's bytes under this directory (gaps zero-filled, as tcpflow). */
  dumpDir?: string | null;
  onRecord(record: FlowRecord): void;
  /** Every gap as it is reported (connection id, direction, stream offset, length). */
  onGap?(id: number, dir: Direction, offset: number, length: number): void;
  /**
   * Resolves when the run must stop (SIGINT/SIGTERM): the reading stops at once — even while it
   * waits on a silent pipe — and the connections still open are reported as at the end of input.
   */
  stop?: Promise<void>;
}

export interface FlowsRunResult {
  stats: FlowTableStats;
  packets: number;
  /** A capture fault after which the run stopped (records before it were all reported), or null. */
  error: unknown;
  /** True when `stop` ended the run. */
  interrupted: boolean;
  /** False when the run stopped while a read still waited for input (it is abandoned, not ended). */
  inputEnded: boolean;
  /** False when `stop` came before the capture's header was read (nothing to report). */
  headerRead: boolean;
}

interface FlowState {
  hashes: [Hash, Hash];
  /** Digests taken at close (the bytes are final then; packets may still arrive until removal). */
  sha256: [string, string];
}

const ZEROS = Buffer.alloc(65536);
const MAX_OPEN_DUMP_FILES = 128;

/** tcpflow's file name for one direction: `SRCIP.SRCPORT-DSTIP.DSTPORT` with zero-padded fields. */
export function tcpflowName(srcIp: string, srcPort: number, dstIp: string, dstPort: number): string {
  return `${tcpflowIp(srcIp)}.${String(srcPort).padStart(5, '0')}-${tcpflowIp(dstIp)}.${String(dstPort).padStart(5, '0')}`;
}

function tcpflowIp(ip: string): string {
  if (!ip.includes(':')) return ip.split('.').map((x) => x.padStart(3, '0')).join('.');
  // IPv6: the eight groups in full, as tcpflow prints them
  const [h, t] = ip.split('::') as [string, string | undefined];
  const head = h ? h.split(':') : [];
  const tail = t !== undefined && t !== '' ? t.split(':') : [];
  const groups = t === undefined ? head : [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** Streams delivered bytes into per-direction files, keeping a bounded number of descriptors open. */
class Dumper {
  private readonly open = new Map<string, number>();
  private readonly names = new Map<string, number>();
  private readonly fileOf = new WeakMap<Connection<FlowState>, [string, string]>();

  constructor(private readonly dir: string) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new OutputError('E_OUTPUT', `cannot create dump directory: ${(err as Error).message}`, { file: dir });
    }
  }

  register(conn: Connection<FlowState>): void {
    const c2s = tcpflowName(conn.clientIp, conn.clientPort, conn.serverIp, conn.serverPort);
    const s2c = tcpflowName(conn.serverIp, conn.serverPort, conn.clientIp, conn.clientPort);
    // The same 4-tuple again (a later connection): tcpflow's `c1`, `c2`... suffix.
    const n = this.names.get(c2s) ?? 0;
    this.names.set(c2s, n + 1);
    const suffix = n === 0 ? '' : `c${n}`;
    this.fileOf.set(conn, [path.join(this.dir, c2s + suffix), path.join(this.dir, s2c + suffix)]);
  }

  write(conn: Connection<FlowState>, dir: Direction, data: Buffer | null, length: number): void {
    const file = this.fileOf.get(conn)?.[dir];
    if (file === undefined) return;
    let fd = this.open.get(file);
    if (fd === undefined) {
      if (this.open.size >= MAX_OPEN_DUMP_FILES) {
        const [oldest, ofd] = this.open.entries().next().value as [string, number];
        fs.closeSync(ofd);
        this.open.delete(oldest);
      }
      try {
        fd = fs.openSync(file, 'a');
      } catch (err) {
        throw new OutputError('E_OUTPUT', `cannot write dump file: ${(err as Error).message}`, { file });
      }
      this.open.set(file, fd);
    }
    try {
      if (data !== null) fs.writeSync(fd, data);
      else {
        for (let left = length; left > 0; left -= ZEROS.length) fs.writeSync(fd, ZEROS, 0, Math.min(left, ZEROS.length));
      }
    } catch (err) {
      throw new OutputError('E_OUTPUT', `cannot write dump file: ${(err as Error).message}`, { file });
    }
  }

  closeConn(conn: Connection<FlowState>): void {
    const files = this.fileOf.get(conn);
    if (files === undefined) return;
    for (const f of files) {
      const fd = this.open.get(f);
      if (fd !== undefined) {
        fs.closeSync(fd);
        this.open.delete(f);
      }
    }
    this.fileOf.delete(conn);
  }

  closeAll(): void {
    for (const fd of this.open.values()) fs.closeSync(fd);
    this.open.clear();
  }
}

class FlowsCollector implements StreamListener<Connection<FlowState>>, DiscardListener<Connection<FlowState>> {
  private nextToEmit = 1;
  private readonly pending = new Map<number, FlowRecord>();

  constructor(
    private readonly onRecord: (r: FlowRecord) => void,
    /**
     * Fraction digits of the times: the capture's own precision (CaptureSource.timePrecisionDigits,
     * as `info` prints it: the finest interface resolution seen so far; 0 for whole seconds, 3 for
     * milliseconds), so a coarse capture is not shown with invented zero digits.
     */
    private readonly digits: () => number,
    private readonly dumper: Dumper | null,
    private readonly gapHook: FlowsRunOptions['onGap'] | null,
  ) {}

  onOpen(conn: Connection<FlowState>): void {
    conn.state = { hashes: [createHash('sha256'), createHash('sha256')], sha256: ['', ''] };
    this.dumper?.register(conn);
  }

  onData(conn: Connection<FlowState>, dir: Direction, data: Buffer): void {
    conn.state!.hashes[dir].update(data);
    this.dumper?.write(conn, dir, data, data.length);
  }

  onGap(conn: Connection<FlowState>, dir: Direction, offset: number, length: number): void {
    this.gapHook?.(conn.id, dir, offset, length);
    this.dumper?.write(conn, dir, null, length);
  }

  onClose(conn: Connection<FlowState>): void {
    const st = conn.state!;
    st.sha256 = [st.hashes[0].digest('hex'), st.hashes[1].digest('hex')];
    this.dumper?.closeConn(conn);
  }

  onRemove(conn: Connection<FlowState>): void {
    const st = conn.state!;
    const dirRecord = (d: Direction): DirectionRecord => {
      const s = conn.stats[d];
      return {
        bytes: s.bytes,
        sha256: st.sha256[d],
        gaps: s.gaps,
        gapBytes: s.gapBytes,
        retransmittedBytes: s.retransmittedBytes,
        overlapDifferentBytes: s.overlapDifferentBytes,
        outOfOrderPackets: s.outOfOrderPackets,
      };
    };
    const record: FlowRecord = {
      id: conn.id,
      client: conn.client,
      server: conn.server,
      clientBy: conn.clientBy,
      packets: conn.packets,
      firstTime: isoTime(conn.firstTimeSec, conn.firstTimeNsec, this.digits()),
      lastTime: isoTime(conn.lastTimeSec, conn.lastTimeNsec, this.digits()),
      close: conn.closeReason ?? 'end-of-capture',
      c2s: dirRecord(0),
      s2c: dirRecord(1),
    };
    conn.state = null;
    this.pending.set(record.id, record);
    for (let r = this.pending.get(this.nextToEmit); r !== undefined; r = this.pending.get(this.nextToEmit)) {
      this.pending.delete(this.nextToEmit);
      this.nextToEmit++;
      this.onRecord(r);
    }
  }
}

/** Reads `file`, reassembles, reports one record per connection. Capture faults end the run gracefully. */
export async function runFlows(file: string, options: FlowsRunOptions): Promise<FlowsRunResult> {
  const opening = openCapture(file);
  const source = options.stop ? await Promise.race([opening, options.stop.then(() => null)]) : await opening;
  if (source === null) {
    // Stopped before the capture header arrived: nothing was read.
    opening.then((s) => s.stop(), () => undefined);
    return { stats: new FlowTableStats(), packets: 0, error: null, interrupted: true, inputEnded: false, headerRead: false };
  }
  const dumper = options.dumpDir ? new Dumper(options.dumpDir) : null;
  // null only before the first interface, and a record needs one
  const collector = new FlowsCollector(options.onRecord, () => source.timePrecisionDigits ?? 0, dumper, options.onGap ?? null);
  const table = new FlowTable<FlowState>(collector, options.flow);
  const pkt = new DecodedPacket();
  const result = new PacketFlowResult<FlowState>();
  let lastSec = 0;
  let lastNsec = 0;
  let packets = 0;
  let error: unknown = null;
  let interrupted = false;
  const onRecord = (rec: CaptureRecord): void => {
    // A record the reader still delivers after the stop is not part of what was read.
    if (interrupted) return;
    packets++;
    decodePacket(rec.linkType, rec.data, pkt);
    table.process(pkt, rec.packetNumber, rec.tsSec, rec.tsNsec, result);
    if (rec.tsSec > lastSec || (rec.tsSec === lastSec && rec.tsNsec > lastNsec)) {
      lastSec = rec.tsSec;
      lastNsec = rec.tsNsec;
    }
  };
  let inputEnded = true;
  const reading = source.run(onRecord);
  const stopped = options.stop?.then(() => {
    interrupted = true;
    source.stop();
  });
  try {
    if (stopped === undefined) await reading;
    else {
      // A reader notices stop() only when its next chunk arrives: do not wait for it.
      inputEnded = await Promise.race([reading.then(() => true), stopped.then(() => false)]);
      if (!inputEnded) reading.catch(() => undefined);
    }
  } catch (err) {
    // A damaged capture ends the run after every record before the fault; anything else is fatal.
    if (!(err instanceof CaptureError)) {
      dumper?.closeAll();
      throw err;
    }
    error = err;
  }
  try {
    table.finish(lastSec, lastNsec);
  } finally {
    dumper?.closeAll();
  }
  return { stats: table.stats, packets, error, interrupted, inputEnded, headerRead: true };
}
