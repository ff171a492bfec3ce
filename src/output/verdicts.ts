/**
 * The verdict log: JSON lines, one record per event, keys always in the same order so the file
 * diffs and greps well: time, packet, client, server, direction, rule, action, syslog, detail.
 */
import type { VerdictAction } from '../inspect/types.js';
import { TextFileOutput } from './text-file.js';

/** Actions as written in the verdict log: the engine's actions plus the pipeline's own. */
export type VerdictRecordAction =
  | VerdictAction
  /** One packet left out of OUT (exactly one such record per dropped packet). */
  | 'drop'
  /** A packet written to OUT that was not in the input (RST of a reset action). */
  | 'synthesize'
  /** A held packet forwarded before its bytes were decided (hold-back limit). */
  | 'forward'
  /** A retransmission changed to carry the bytes that were inspected (and edited). */
  | 'rewrite-retransmission';

export interface VerdictRecord {
  /** ISO 8601 at the capture's precision. */
  time: string;
  /** 1-based packet number in the input (for a synthesised packet: the packet it follows). */
  packet: number;
  client: string;
  server: string;
  direction: 'c2s' | 's2c' | null;
  rule: string;
  action: VerdictRecordAction;
  /** The ASA syslog line(s) for this event ('\n'-separated when several), or null. */
  syslog: string | null;
  detail: string;
}

/** Characters JSON.stringify would escape (quote, backslash, controls, lone surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal: most verdict fields need no escaping, so skip JSON.stringify for them. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function jsonNullable(s: string | null): string {
  return s === null ? 'null' : jsonString(s);
}

/** Serialises with the fixed key order whatever order the object was built in. */
export function formatVerdict(r: VerdictRecord): string {
  return (
    `{"time":${jsonString(r.time)},"packet":${r.packet},"client":${jsonString(r.client)},` +
    `"server":${jsonString(r.server)},"direction":${jsonNullable(r.direction)},` +
    `"rule":${jsonString(r.rule)},"action":${jsonString(r.action)},` +
    `"syslog":${jsonNullable(r.syslog)},"detail":${jsonString(r.detail)}}`
  );
}

export const VERDICT_KEYS = ['time', 'packet', 'client', 'server', 'direction', 'rule', 'action', 'syslog', 'detail'] as const;

export class VerdictFileWriter {
  private readonly out: TextFileOutput;
  constructor(path: string) {
    this.out = new TextFileOutput(path);
  }
  write(r: VerdictRecord): void {
    this.out.writeLine(formatVerdict(r));
  }
  get count(): number {
    return this.out.lines;
  }
  flush(): void {
    this.out.flush();
  }
  close(): void {
    this.out.close();
  }
}
