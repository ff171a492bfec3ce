/**
 * The contract of the inspection engine: it sees the two byte streams of one connection with the
 * segment boundaries they arrived in, and emits same-length edits and verdicts at stream offsets.
 * It never touches packets; replay, live capture and the proxy map its output onto their medium.
 */
import type { ConnectionMeta, Direction } from '../flow/types.js';

/** Actions as printed in verdicts. */
export type VerdictAction =
  | 'drop-connection'
  | 'reset'
  | 'log'
  | 'mask'
  | 'x-substitute'
  | 'replace'
  | 'rate-limit'
  | 'passthrough'
  | 'note';

/** A same-length overwrite of stream bytes [offset, offset + bytes.length) in direction `dir`. */
export interface Edit {
  dir: Direction;
  offset: number;
  /** The new bytes. Read-only for the receiver (the engine may hand out views of shared fill buffers). */
  bytes: Buffer;
  /** The rule that caused it, as in verdicts: 'mask-banner', 'unknown-command', 'match ehlo-reply-parameter others', ... */
  rule: string;
  action: VerdictAction;
}

export interface Verdict {
  dir: Direction;
  /** Stream offset of the byte that triggered the verdict (maps to the triggering packet). */
  offset: number;
  /** The match line as written in the policy ('match cmd RCPT count gt 100') or the parameter/command rule. */
  rule: string;
  action: VerdictAction;
  /** ASA syslog lines for this event, in emission order (may be empty). */
  syslog: string[];
  /** Human-readable specifics: the verb, the length measured, the keyword masked... */
  detail: string;
}

/** What the session's state means for the connection's later packets. */
export type SessionState =
  | 'inspecting'
  /** drop-connection: this and every later packet is dropped, no RST. */
  | 'dropped'
  /** reset: as dropped, plus RSTs to both sides. */
  | 'reset'
  /** allow-tls and the server said 220 to STARTTLS: the rest passes uninspected. */
  | 'passthrough'
  /**
   * The capture left the paths an ASA allows (the server accepted a STARTTLS the ASA would have
   * X'd): the rest is not inspected and passes unchanged (no edits, no drops). Added for
   * `starttls-divergence=stop`; consumers treat it like 'passthrough'.
   */
  | 'diverged';

/** Why stream bytes are missing: cut from their packet by the snaplen, or never captured. */
export type GapReason = 'missing' | 'truncated';

export interface InspectionSink {
  edit(edit: Edit): void;
  verdict(verdict: Verdict): void;
}

export interface InspectorSession {
  /**
   * One segment's in-order bytes at stream `offset`. `data` is only valid during the call.
   * `timeSec`/`timeNsec` (optional): the capture time of the packet that carried them (replay:
   * the record's tsSec/tsNsec; live: the packet's timestamp). They drive `rate-limit N`; without
   * them rate-limit is reported as not enforced.
   */
  data(dir: Direction, data: Buffer, offset: number, timeSec?: number, timeNsec?: number): void;
  /**
   * A hole: bytes [offset, offset+length) are missing in direction `dir`. `reason` (optional,
   * default 'missing') words the note: 'truncated' when the bytes were cut from their packet by
   * the capture's snaplen (FlowStatus.TRUNCATED), 'missing' when a segment was never captured.
   */
  gap(dir: Direction, offset: number, length: number, reason?: GapReason): void;
  /** The connection ended (any reason); flush anything pending. */
  end(): void;
  readonly state: SessionState;
  /** Stream offset of the drop/reset trigger when state is 'dropped' or 'reset', else -1. */
  readonly dropOffset: number;
  readonly dropDirection: Direction;
  /**
   * Bytes of direction `dir` below this offset are final: no edit will be emitted for them any
   * more. Packets carrying only such bytes can be written out.
   */
  committed(dir: Direction): number;
  /**
   * Optional: the caller is done with the session (ended and flushed) and will not call it again,
   * so it may return its buffers to a pool (the replay calls it when a connection closes).
   */
  release?(): void;
}

/** Everything a session needs to know about its connection to word verdicts and syslog lines. */
export interface SessionContext {
  conn: ConnectionMeta;
  /** ASA interface names for syslog ("from outside:IP/PORT to inside:IP/PORT"). */
  clientInterface: string;
  serverInterface: string;
  /** The service-policy class and policy-map that selected this connection (for counters). */
  policyMap: string;
  className: string;
  /**
   * Optional: the connection was picked up mid-session (its first packet was no SYN), so the
   * greeting and the dialogue before the capture started are unknown; the engine starts
   * desynchronised (native-notes/engine-options.md "Gaps"). Absent: false.
   */
  midstream?: boolean;
}
