/**
 * Fuzz target "smtp-engine": real SMTP sessions (each connection of the generated captures,
 * extracted with our reader + FlowTable) as segment scripts, mutated, split again at random points,
 * through createEsmtpSession with the ASA default map or a rich map (every criterion, hostile
 * regexes).
 *
 * Script: 1 header byte (bit 0 rich map, bit 1 line judging, bit 2 lengths count CR LF, bit 3 RCPT
 * count per connection), then records: kind u8 (bit 0 direction, bit 1 a hole) | length u16 |
 * bytes (none for a hole). A length beyond the input is clamped.
 *
 * Checked: never throws; every edit is non-empty, same-length by construction, lies within the
 * bytes delivered so far in its direction and at or after what the session had declared
 * committed (the highest committed() returned so far); verdict offsets lie within delivered bytes;
 * committed() never passes the delivered bytes.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import type { Direction } from '../../flow/types.js';
import { createEsmtpSession } from '../../inspect/esmtp/session.js';
import { EsmtpCounters } from '../../inspect/counters.js';
import { defaultEngineOptions, type EngineOptions } from '../../inspect/options.js';
import type { Edit, Verdict } from '../../inspect/types.js';
import { compilePolicyText, defaultPolicy } from '../../policy/load.js';
import type { EsmtpMap } from '../../policy/types.js';
import { registerFuzzTarget } from '../fuzz-registry.js';
import { ENGINE_CTX } from '../sample-session.js';
import { Prng } from '../prng.js';
import { RICH_MAP_NAME, RICH_POLICY_TEXT } from './rich-policy.js';
import { cachedSeed, connectionStreams, generatedPcaps, type StreamPiece } from './seed-streams.js';

export class EngineInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineInvariantError';
  }
}

let maps: [EsmtpMap, EsmtpMap] | null = null;

/** [ASA default map, rich map] (compiled once). */
export function engineMaps(): [EsmtpMap, EsmtpMap] {
  if (!maps) {
    const def = defaultPolicy().esmtpMaps.get('_default_esmtp_map');
    const rich = compilePolicyText(RICH_POLICY_TEXT, 'rich-policy').esmtpMaps.get(RICH_MAP_NAME);
    if (!def || !rich) throw new Error('maps missing');
    maps = [def, rich];
  }
  return maps;
}

export function engineScriptOptions(header: number): { map: EsmtpMap; options: EngineOptions } {
  const options: EngineOptions = { ...defaultEngineOptions() };
  if (header & 2) options.judging = 'line';
  if (header & 4) options.lengthCountsCrlf = true;
  if (header & 8) options.rcptCountScope = 'connection';
  return { map: engineMaps()[header & 1]!, options };
}

export function encodeEngineScript(header: number, pieces: readonly StreamPiece[]): Buffer {
  const parts: Buffer[] = [Buffer.from([header & 0xff])];
  for (const p of pieces) {
    if (p.gap > 0) {
      const h = Buffer.alloc(3);
      h[0] = p.dir | 2;
      h.writeUInt16BE(Math.min(p.gap, 0xffff), 1);
      parts.push(h);
      continue;
    }
    for (let at = 0; at < p.bytes.length; at += 0xffff) {
      const chunk = p.bytes.subarray(at, at + 0xffff);
      const h = Buffer.alloc(3);
      h[0] = p.dir;
      h.writeUInt16BE(chunk.length, 1);
      parts.push(h, chunk);
    }
  }
  return Buffer.concat(parts);
}

export function decodeEngineScript(input: Buffer): { header: number; pieces: StreamPiece[] } {
  const pieces: StreamPiece[] = [];
  let pos = 1;
  while (pos + 3 <= input.length) {
    const kind = input[pos]!;
    const len = input.readUInt16BE(pos + 1);
    pos += 3;
    const dir = (kind & 1) as Direction;
    if (kind & 2) {
      if (len > 0) pieces.push({ dir, bytes: Buffer.alloc(0), gap: len });
      continue;
    }
    const n = Math.min(len, input.length - pos);
    if (n > 0) pieces.push({ dir, bytes: input.subarray(pos, pos + n), gap: 0 });
    pos += n;
  }
  return { header: input[0] ?? 0, pieces };
}

/** Re-splits data pieces at random points (same bytes, same order, other segment boundaries). */
export function resplit(pieces: readonly StreamPiece[], rng: Prng): StreamPiece[] {
  const out: StreamPiece[] = [];
  for (const p of pieces) {
    if (p.gap > 0 || p.bytes.length < 2 || rng.chance(0.5)) {
      out.push(p);
      continue;
    }
    let at = 0;
    while (at < p.bytes.length) {
      const n = rng.chance(0.3) ? 1 : rng.int(1, Math.max(1, p.bytes.length - at));
      out.push({ dir: p.dir, bytes: p.bytes.subarray(at, at + n), gap: 0 });
      at += n;
    }
  }
  return out;
}

export interface EngineRun {
  edits: number;
  verdicts: number;
  state: string;
  delivered: [number, number];
  /** Times committed(dir) came back lower than a value it had returned before. */
  committedDecreases: number;
}

/** Runs one session over the pieces, checking the engine's output contract as it goes. */
export function runEngine(map: EsmtpMap, options: EngineOptions, pieces: Iterable<StreamPiece>): EngineRun {
  const delivered: [number, number] = [0, 0];
  const committedBefore: [number, number] = [0, 0];
  let edits = 0;
  let verdicts = 0;
  let committedDecreases = 0;
  const fail = (m: string): never => {
    throw new EngineInvariantError(m);
  };
  const sink = {
    edit(e: Edit) {
      edits++;
      if (!(e.bytes.length > 0)) fail(`empty edit at ${e.dir}:${e.offset} (${e.rule})`);
      if (e.offset < 0 || e.offset + e.bytes.length > delivered[e.dir]) fail(`edit ${e.dir}:${e.offset}+${e.bytes.length} (${e.rule}) beyond the ${delivered[e.dir]} bytes delivered`);
      if (e.offset < committedBefore[e.dir]) fail(`edit ${e.dir}:${e.offset}+${e.bytes.length} (${e.rule}) below committed ${committedBefore[e.dir]}`);
      if (!e.rule || !e.action) fail('edit without rule or action');
    },
    verdict(v: Verdict) {
      verdicts++;
      if (v.offset < 0 || v.offset > delivered[v.dir]) fail(`verdict at ${v.dir}:${v.offset} (${v.rule}) beyond the ${delivered[v.dir]} bytes delivered`);
      if (!v.rule || !v.action) fail('verdict without rule or action');
    },
  };
  const session = createEsmtpSession(map, ENGINE_CTX, options, sink, new EsmtpCounters());
  const checkCommitted = (): void => {
    for (const d of [0, 1] as const) {
      const c = session.committed(d);
      // A lower value than before is harmless as long as no edit lands below the highest one
      // (the pipeline may already have written those bytes): that is what the edit check holds.
      if (c > delivered[d]) fail(`committed(${d}) = ${c} beyond the ${delivered[d]} bytes delivered`);
      if (c < committedBefore[d]) committedDecreases++;
      else committedBefore[d] = c;
    }
  };
  for (const p of pieces) {
    const at = delivered[p.dir];
    if (p.gap > 0) {
      delivered[p.dir] += p.gap;
      session.gap(p.dir, at, p.gap);
    } else {
      delivered[p.dir] += p.bytes.length;
      session.data(p.dir, p.bytes, at);
    }
    checkCommitted();
  }
  session.end();
  return { edits, verdicts, state: session.state, delivered, committedDecreases };
}

/** The target: the script as given, then re-split at random points (seeded by the input's hash). */
export function smtpEngineTarget(input: Buffer): void {
  const { header, pieces } = decodeEngineScript(input);
  const { map, options } = engineScriptOptions(header);
  runEngine(map, options, pieces);
  const seed = crypto.createHash('sha256').update(input).digest().readUInt32LE(0);
  runEngine(map, options, resplit(pieces, new Prng(seed)));
}

export function smtpEngineSeeds(): string[] {
  const out: string[] = [];
  generatedPcaps(400_000).forEach((f, i) => {
    connectionStreams(f).forEach((pieces, k) => {
      const header = (i + k) & 0x0f;
      out.push(cachedSeed('smtp-engine', `v1-${path.basename(f)}-${k}.ses`, () => encodeEngineScript(header, pieces)));
    });
  });
  return out;
}

registerFuzzTarget({
  name: 'smtp-engine',
  description: 'real SMTP sessions (mutated, re-split) through the ESMTP engine, default and rich map: edits within delivered, uncommitted bytes',
  seeds: smtpEngineSeeds,
  run: async (input) => {
    smtpEngineTarget(input);
  },
  isExpectedError: () => false,
});
