/**
 * Test helpers for the engine: run a session over (direction, bytes) segments, collect edits and
 * verdicts, apply edits to the streams; and per-segment streams of a real capture through our own
 * reader + reassembly (tshark's extraction kept for one cross-check).
 */
import { ENGINE_CTX } from '../../src/bench/sample-session.js';
import type { Direction } from '../../src/flow/types.js';
import type { Edit, Verdict, SessionContext, InspectorSession, GapReason } from '../../src/inspect/types.js';
import type { EsmtpMap } from '../../src/policy/types.js';
import { createEsmtpSession } from '../../src/inspect/esmtp/session.js';
import { defaultEngineOptions, type EngineOptions } from '../../src/inspect/options.js';
import { EsmtpCounters } from '../../src/inspect/counters.js';
import { defaultPolicy, compilePolicyText } from '../../src/policy/load.js';
import { tshark } from '../helpers/shared.js';
import { openCapture } from '../../src/capture/open.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket } from '../../src/decode/packet.js';
import { FlowTable, PacketFlowResult } from '../../src/flow/flow-table.js';

export interface Segment {
  dir: Direction;
  bytes: Buffer;
  /** A hole of this many bytes instead of data (bytes is then empty). */
  gap?: number;
  gapReason?: GapReason;
  /** Capture time of the segment (seconds, nanoseconds), passed to data(). */
  time?: [number, number];
}

export interface RunResult {
  edits: Edit[];
  verdicts: Verdict[];
  /** Each direction's stream with every edit applied. */
  out: [Buffer, Buffer];
  /** Each direction's original stream. */
  input: [Buffer, Buffer];
  session: InspectorSession;
  counters: EsmtpCounters;
  /** committed(dir) after each segment (for hold tests). */
  committedAfter: number[];
}

/** The engine's sample connection (src/bench/sample-session.ts), shared with the fuzz target. */
export const CTX: SessionContext = ENGINE_CTX;

export function defaultMap(): EsmtpMap {
  const m = defaultPolicy().esmtpMaps.get('_default_esmtp_map');
  if (!m) throw new Error('no default map');
  return m;
}

/** Compile `policy-map type inspect esmtp M` text (plus any regex lines) and return map M. */
export function mapFrom(text: string, name = 'M'): EsmtpMap {
  const m = compilePolicyText(text, 'test').esmtpMaps.get(name);
  if (!m) throw new Error(`no map ${name}`);
  return m;
}

export function opts(over: Partial<EngineOptions> = {}): EngineOptions {
  return { ...defaultEngineOptions(), ...over };
}

export function applyEdits(stream: Buffer, edits: readonly Edit[], dir: Direction): Buffer {
  const out = Buffer.from(stream);
  for (const e of edits) {
    if (e.dir !== dir) continue;
    if (e.offset < 0 || e.offset + e.bytes.length > out.length) throw new Error(`edit outside stream: ${e.offset}+${e.bytes.length} > ${out.length}`);
    e.bytes.copy(out, e.offset);
  }
  return out;
}

export function run(map: EsmtpMap, segments: readonly Segment[], options: EngineOptions = opts(), counters = new EsmtpCounters()): RunResult {
  const edits: Edit[] = [];
  const verdicts: Verdict[] = [];
  const session = createEsmtpSession(map, CTX, options, { edit: (e) => edits.push(e), verdict: (v) => verdicts.push(v) }, counters);
  const offs: [number, number] = [0, 0];
  const parts: [Buffer[], Buffer[]] = [[], []];
  const committedAfter: number[] = [];
  for (const s of segments) {
    if (s.gap !== undefined) {
      // the hole's bytes stay zero in the reassembled input so offsets line up
      session.gap(s.dir, offs[s.dir], s.gap, s.gapReason);
      committedAfter.push(session.committed(s.dir));
      offs[s.dir] += s.gap;
      parts[s.dir].push(Buffer.alloc(s.gap));
      continue;
    }
    if (s.time) session.data(s.dir, s.bytes, offs[s.dir], s.time[0], s.time[1]);
    else session.data(s.dir, s.bytes, offs[s.dir]);
    committedAfter.push(session.committed(s.dir));
    offs[s.dir] += s.bytes.length;
    parts[s.dir].push(s.bytes);
  }
  session.end();
  const input: [Buffer, Buffer] = [Buffer.concat(parts[0]), Buffer.concat(parts[1])];
  return { edits, verdicts, input, out: [applyEdits(input[0], edits, 0), applyEdits(input[1], edits, 1)], session, counters, committedAfter };
}

/** Shorthand: client segment / server segment from latin1 text. */
export const C = (s: string): Segment => ({ dir: 0, bytes: Buffer.from(s, 'latin1') });
export const S = (s: string): Segment => ({ dir: 1, bytes: Buffer.from(s, 'latin1') });

/** A hole of `len` bytes in direction `dir`. */
export const G = (dir: Direction, len: number, gapReason: GapReason = 'missing'): Segment => ({ dir, bytes: Buffer.alloc(0), gap: len, gapReason });

/** The segment at capture time sec + nsec. */
export const at = (seg: Segment, sec: number, nsec = 0): Segment => ({ ...seg, time: [sec, nsec] });

export const GREETING = S('220 mail.example.test ESMTP Postfix\r\n');

/**
 * Per-segment payloads of the first TCP connection of a capture, in delivery order, through our
 * own reader + decoder + reassembly (retransmissions are not delivered twice; holes and snaplen
 * cuts become gap segments, 'truncated' when the packet being processed was cut).
 */
export async function captureSegments(file: string, serverPort = 25): Promise<Segment[]> {
  const src = await openCapture(file);
  const segs: Segment[] = [];
  let connId = -1;
  let truncated = false;
  let tsSec = 0;
  let tsNsec = 0;
  const table = new FlowTable<unknown>(
    {
      onOpen: (c) => {
        if (connId < 0) connId = c.id;
      },
      onData: (c, dir, data) => {
        if (c.id === connId) segs.push({ dir, bytes: Buffer.from(data), time: [tsSec, tsNsec] });
      },
      onGap: (c, dir, _offset, length) => {
        if (c.id === connId) segs.push({ dir, bytes: Buffer.alloc(0), gap: length, gapReason: truncated ? 'truncated' : 'missing' });
      },
      onClose: () => {},
    },
    { serverPorts: [serverPort] },
  );
  const pkt = new DecodedPacket();
  const r = new PacketFlowResult<unknown>();
  await src.run((rec) => {
    truncated = rec.truncated;
    tsSec = rec.tsSec;
    tsNsec = rec.tsNsec;
    decodePacket(rec.linkType, rec.data, pkt);
    table.process(pkt, rec.packetNumber, rec.tsSec, rec.tsNsec, r);
  });
  truncated = false;
  table.finish(tsSec, tsNsec);
  return segs;
}

/** The same, via tshark (kept for the cross-check test): TCP stream 0, retransmissions skipped. */
export function tsharkSegments(file: string, serverPort = 25): Segment[] {
  const text = tshark([
    '-r', file, '-Y', 'tcp.len>0 && tcp.stream==0', '-T', 'fields',
    '-e', 'tcp.srcport', '-e', 'tcp.seq', '-e', 'tcp.analysis.retransmission', '-e', 'tcp.payload',
    '-o', 'tcp.relative_sequence_numbers:TRUE',
  ]);
  const segs: Segment[] = [];
  const next: [number, number] = [1, 1];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [sport, seq, retrans, payload] = line.split('\t');
    if (retrans) continue;
    const dir: Direction = Number(sport) === serverPort ? 1 : 0;
    const bytes = Buffer.from((payload ?? '').replace(/:/g, ''), 'hex');
    const s = Number(seq);
    if (s !== next[dir]) throw new Error(`${file}: hole or overlap in direction ${dir} at seq ${s} (expected ${next[dir]})`);
    next[dir] += bytes.length;
    segs.push({ dir, bytes });
  }
  return segs;
}

export function latin1(b: Buffer): string {
  return b.toString('latin1');
}
