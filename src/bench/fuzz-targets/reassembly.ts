/**
 * Fuzz target "reassembly": a segment script (real connections' segments from the generated
 * captures, mutated) through a FlowTable whose limits come from the script's first bytes, so the
 * out-of-order, memory-cap, connection-table and timeout paths all get hit.
 *
 * Script: 8 header bytes (limits), then records of 16 bytes + payload:
 *   flags u8 | conn u8 (bit 0 = direction, bits 1-3 = connection) | seq u32 | ack u32 |
 *   payload length u16 | capture-time step in ms u16 | bytes cut by the snaplen u16 | payload.
 * A length beyond the input is clamped: the script never allocates what it claims.
 *
 * Checked after every segment: no throw; each direction's data and gaps are contiguous and
 * never overlap; the table holds at most maxConnections; buffered bytes stay under the memory
 * cap (plus the one segment being processed) and held segments under the per-direction limit;
 * opens and closes pair up; after finish() nothing is open or buffered.
 */

import { DecodedPacket, TcpFlag } from '../../decode/packet.js';
import { FlowTable, PacketFlowResult, type FlowOptions } from '../../flow/flow-table.js';
import type { Connection } from '../../flow/connection.js';
import { setHeader } from '../../flow/synthetic.js';
import type { Direction } from '../../flow/types.js';
import { registerFuzzTarget } from '../fuzz-registry.js';
import { cachedSeed, generatedPcaps, pcapSegments } from './seed-streams.js';
import crypto from 'node:crypto';
import path from 'node:path';
import { Prng } from '../prng.js';

export const SCRIPT_HEADER = 8;
export const RECORD_HEADER = 16;
const CONNS = 8;
const BASE_SEC = 1_700_000_000;

/** A broken invariant: a finding, not a defined outcome. */
export class ReassemblyInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReassemblyInvariantError';
  }
}

/** The limits a script header selects (small, so they are hit). */
export function scriptOptions(h: Buffer): Partial<FlowOptions> {
  const b = (i: number): number => h[i] ?? 0;
  return {
    serverPorts: [25],
    maxOutOfOrderPacketsPerDirection: 1 + (b(0) % 8),
    maxOutOfOrderBytesPerDirection: 64 + b(1) * 32,
    onOutOfOrderLimit: b(2) & 1 ? 'drop' : 'gap',
    outOfOrderTimeoutSec: (b(2) >> 1) % 8,
    memoryCapBytes: 256 + (((b(3) << 8) | b(4)) % 4096) * 4,
    retransmissionCheckBytes: b(5) & 1 ? 0 : 512 + b(5) * 64,
    maxConnections: 1 + (b(6) % CONNS),
    halfOpenTimeoutSec: 1 + (b(7) % 60),
    idleTimeoutSec: 30 + (b(7) % 300),
    closedLingerSec: b(7) % 20,
  };
}

/** Encodes one record of a script. */
export function scriptRecord(conn: number, dir: Direction, flags: number, seq: number, ack: number, payload: Buffer, stepMs: number, missing = 0): Buffer {
  const h = Buffer.alloc(RECORD_HEADER);
  h[0] = flags & 0xff;
  h[1] = ((conn % CONNS) << 1) | dir;
  h.writeUInt32BE(seq >>> 0, 2);
  h.writeUInt32BE(ack >>> 0, 6);
  h.writeUInt16BE(Math.min(payload.length, 0xffff), 10);
  h.writeUInt16BE(Math.min(stepMs, 0xffff), 12);
  h.writeUInt16BE(Math.min(missing, 0xffff), 14);
  return Buffer.concat([h, payload.subarray(0, 0xffff)]);
}

export interface ReassemblyRunStats {
  segments: number;
  delivered: number;
  gaps: number;
  peakMemory: number;
  memoryCapHits: number;
  connectionLimitHits: number;
  outOfOrderLimitHits: number;
}

export function runReassemblyScript(input: Buffer): ReassemblyRunStats {
  const options = scriptOptions(input.subarray(0, SCRIPT_HEADER));
  const next = new Map<number, [number, number]>();
  const open = new Set<number>();
  let delivered = 0;
  let gaps = 0;
  const fail = (m: string): never => {
    throw new ReassemblyInvariantError(m);
  };
  const advance = (c: Connection, dir: Direction, offset: number, len: number, what: string): void => {
    const n = next.get(c.id);
    if (!n) return fail(`${what} on connection ${c.id} that was never opened`);
    if (offset !== n[dir]) fail(`${what} at offset ${offset} on ${c.id}/${dir}, expected ${n[dir]}`);
    if (!(len > 0)) fail(`${what} of length ${len}`);
    n[dir] = offset + len;
  };
  const table = new FlowTable<unknown>(
    {
      onOpen(c) {
        if (open.has(c.id)) fail(`connection ${c.id} opened twice`);
        open.add(c.id);
        next.set(c.id, [0, 0]);
      },
      onData(c, dir, data, offset) {
        advance(c, dir, offset, data.length, 'data');
        delivered += data.length;
      },
      onGap(c, dir, offset, length) {
        advance(c, dir, offset, length, 'gap');
        gaps++;
      },
      onClose(c) {
        if (!open.delete(c.id)) fail(`connection ${c.id} closed without being open`);
      },
    },
    options,
  );
  const o = table.options;
  const pkt = new DecodedPacket();
  const res = new PacketFlowResult();
  const data = Buffer.alloc(8 + 0xffff);
  let pos = SCRIPT_HEADER;
  let ms = 0;
  let segments = 0;
  let maxPayload = 0;
  while (pos + RECORD_HEADER <= input.length) {
    const flags = input[pos]!;
    const cd = input[pos + 1]!;
    const seq = input.readUInt32BE(pos + 2);
    const ack = input.readUInt32BE(pos + 6);
    const len = Math.min(input.readUInt16BE(pos + 10), input.length - pos - RECORD_HEADER);
    ms += input.readUInt16BE(pos + 12);
    const missing = input.readUInt16BE(pos + 14);
    const payload = input.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + len);
    pos += RECORD_HEADER + len;
    const dir = (cd & 1) as Direction;
    const conn = (cd >> 1) % CONNS;
    // client 10.0.0.(conn+1):40000+conn, server 192.0.2.25:25
    const client = 0x0a000001 + conn;
    const server = 0xc0000219;
    data.writeUInt32BE(dir === 0 ? client : server, 0);
    data.writeUInt32BE(dir === 0 ? server : client, 4);
    payload.copy(data, 8);
    const cport = 40000 + conn;
    setHeader(pkt, data.subarray(0, 8 + len), 4, dir === 0 ? cport : 25, dir === 0 ? 25 : cport, seq, len, { ack, flags: flags & 0x3f, missing });
    segments++;
    maxPayload = Math.max(maxPayload, len);
    table.process(pkt, segments, BASE_SEC + Math.floor(ms / 1000), (ms % 1000) * 1e6, res);
    const s = table.stats;
    if (table.size > o.maxConnections) fail(`table holds ${table.size} connections, limit ${o.maxConnections}`);
    if (s.memoryInUse < 0) fail(`memoryInUse ${s.memoryInUse} < 0`);
    // The cap is enforced after each packet: at most one segment's bytes over it.
    if (s.memoryInUse > o.memoryCapBytes + maxPayload) fail(`memoryInUse ${s.memoryInUse} over the cap ${o.memoryCapBytes} after segment ${segments}`);
    for (const c of table.connections()) {
      for (const d of [0, 1] as const) {
        const h = c.half[d];
        // The limit counts packets, as the ASA's queue does: a packet held as several entries (its
        // pieces around data held earlier, or its bytes plus a marker for a snaplen-cut tail) is
        // one. Distinct packet numbers, cross-checked with the table's own count.
        const heldPackets = new Set<number>();
        for (const q of h.queue ?? []) heldPackets.add(q.packetNumber);
        const held = heldPackets.size;
        const detail = (): string => `${JSON.stringify(h.queue?.map((q) => [q.offset, q.end, q.data?.length ?? null, q.packetNumber]))} after segment ${segments}`;
        if (held !== h.queuedPackets) fail(`${held} packets held on ${c.id}/${d} but the table counts ${h.queuedPackets}: ${detail()}`);
        if (held > o.maxOutOfOrderPacketsPerDirection) fail(`${held} packets held on ${c.id}/${d}, limit ${o.maxOutOfOrderPacketsPerDirection}: ${detail()}`);
        if (h.queuedBytes > o.maxOutOfOrderBytesPerDirection + maxPayload) fail(`${h.queuedBytes} bytes held on ${c.id}/${d}, limit ${o.maxOutOfOrderBytesPerDirection}`);
      }
    }
  }
  table.finish(BASE_SEC + Math.floor(ms / 1000) + 1, 0);
  if (open.size !== 0) fail(`${open.size} connection(s) never closed after finish()`);
  if (table.size !== 0) fail(`${table.size} connection(s) left in the table after finish()`);
  if (table.stats.memoryInUse !== 0) fail(`${table.stats.memoryInUse} bytes still accounted as buffered after finish()`);
  return {
    segments,
    delivered,
    gaps,
    peakMemory: table.stats.peakMemoryInUse,
    memoryCapHits: table.stats.memoryCapHits,
    connectionLimitHits: table.stats.connectionLimitHits,
    outOfOrderLimitHits: table.stats.outOfOrderLimitHits,
  };
}

/** A script from a real capture's segments (header bytes chosen per seed so limits vary). */
export function scriptFromCapture(file: string, header: Buffer): Buffer {
  const parts: Buffer[] = [header.subarray(0, SCRIPT_HEADER)];
  for (const s of pcapSegments(file)) parts.push(scriptRecord(s.conn, s.dir, s.flags, s.seq, s.ack, s.payload, s.deltaMs, s.missing));
  return Buffer.concat(parts);
}

export function reassemblySeeds(): string[] {
  return generatedPcaps(200_000).map((f, i) => {
    const header = Buffer.from([i * 7, i * 13 + 3, i, 0x10 + i, i * 31, i * 5, i, 10 + i]);
    return cachedSeed('reassembly', `v2-${path.basename(f)}.rsc`, () => scriptFromCapture(f, header));
  });
}

/** Splits a script into its header and whole records (a clamped last record included). */
export function scriptRecords(input: Buffer): { header: Buffer; records: Buffer[] } {
  const records: Buffer[] = [];
  let pos = SCRIPT_HEADER;
  while (pos + RECORD_HEADER <= input.length) {
    const len = Math.min(input.readUInt16BE(pos + 10), input.length - pos - RECORD_HEADER);
    records.push(input.subarray(pos, pos + RECORD_HEADER + len));
    pos += RECORD_HEADER + len;
  }
  return { header: Buffer.from(input.subarray(0, SCRIPT_HEADER)), records };
}

/**
 * Structure-level mutations of a script: reorder, retransmit (with other bytes), split a segment,
 * drop one, shift a sequence number, move it to another connection, strip or add SYN/FIN/RST,
 * jump capture time (timeouts). 1-6 of them.
 */
export function mutateScript(input: Buffer, rng: Prng): Buffer {
  const { header, records } = scriptRecords(input);
  if (records.length === 0) return input;
  const n = rng.int(1, 6);
  for (let i = 0; i < n; i++) {
    const k = rng.int(0, records.length - 1);
    const r = Buffer.from(records[k]!);
    switch (rng.int(0, 8)) {
      case 0: {
        const j = rng.int(0, records.length - 1);
        records[k] = records[j]!;
        records[j] = r;
        break;
      }
      case 1: {
        // a retransmission, sometimes carrying different bytes
        if (r.length > RECORD_HEADER && rng.chance(0.5)) {
          const j = rng.int(RECORD_HEADER, r.length - 1);
          r[j] = r[j]! ^ 0x20;
        }
        records.splice(rng.int(k, records.length), 0, r);
        break;
      }
      case 2: {
        const len = r.length - RECORD_HEADER;
        if (len < 2) break;
        const cut = rng.int(1, len - 1);
        const a = Buffer.concat([r.subarray(0, RECORD_HEADER), r.subarray(RECORD_HEADER, RECORD_HEADER + cut)]);
        a.writeUInt16BE(cut, 10);
        const b = Buffer.concat([r.subarray(0, RECORD_HEADER), r.subarray(RECORD_HEADER + cut)]);
        b.writeUInt16BE(len - cut, 10);
        b.writeUInt32BE((r.readUInt32BE(2) + cut) >>> 0, 2);
        b.writeUInt16BE(0, 12);
        records.splice(k, 1, ...(rng.chance(0.5) ? [b, a] : [a, b]));
        break;
      }
      case 3:
        records.splice(k, 1);
        if (records.length === 0) return header;
        break;
      case 4:
        r.writeUInt32BE((r.readUInt32BE(2) + rng.pick([1, -1, 100, -100, 0x7fffffff, 0x40000000, rng.u32()])) >>> 0, 2);
        records[k] = r;
        break;
      case 5:
        r[1] = (r[1]! & 1) | (rng.int(0, CONNS - 1) << 1);
        records[k] = r;
        break;
      case 6:
        r[0] = r[0]! ^ rng.pick([TcpFlag.SYN, TcpFlag.FIN, TcpFlag.RST, TcpFlag.ACK]);
        records[k] = r;
        break;
      case 7:
        r.writeUInt16BE(rng.pick([0, 1000, 30_000, 65_535]), 12);
        records[k] = r;
        break;
      case 8:
        r.writeUInt16BE(rng.int(0, 2000), 14);
        records[k] = r;
        break;
    }
  }
  return Buffer.concat([header, ...records]);
}

/** The target: the script as given, then a structure-mutated variant (seeded by the input's hash). */
export function reassemblyTarget(input: Buffer): void {
  runReassemblyScript(input);
  const seed = crypto.createHash('sha256').update(input).digest().readUInt32LE(0);
  runReassemblyScript(mutateScript(input, new Prng(seed)));
}

registerFuzzTarget({
  name: 'reassembly',
  description: 'segment scripts (real, mutated) through FlowTable with small limits: contiguous delivery, limits and memory cap respected',
  seeds: reassemblySeeds,
  run: async (input) => {
    reassemblyTarget(input);
  },
  isExpectedError: () => false,
});

