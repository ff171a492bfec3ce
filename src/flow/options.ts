/**
 * Reassembly limits and timeouts. Every value is driven by capture time, never wall time, and
 * every limit has a documented, counted outcome (native-notes/reassembly.md); none throws.
 */

export interface FlowOptions {
  /**
   * Connections with either port in this list are tracked; null = every TCP connection.
   * Also decides the client of a connection picked up midstream (the side NOT on a server port).
   * Default [25, 587, 2525]. Other packets: status UNTRACKED, one table lookup, no state.
   */
  serverPorts: number[] | null;
  /**
   * Segments held out of order per direction (default 1024). When a new out-of-order segment
   * would exceed it (or maxOutOfOrderBytesPerDirection), see onOutOfOrderLimit.
   */
  maxOutOfOrderPacketsPerDirection: number;
  /** Bytes held out of order per direction (default 4 MiB, Snort 3's queue_limit.max_bytes). */
  maxOutOfOrderBytesPerDirection: number;
  /**
   * Seconds the oldest held segment may wait for its hole (0 = no limit, the default: the hole is
   * resolved when the peer ACKs past it, by the limits, or at close). On expiry: 'gap' gives up
   * the hole and delivers what was held; 'drop' discards what was held (onDiscard).
   */
  outOfOrderTimeoutSec: number;
  /**
   * What hitting the per-direction out-of-order limit does.
   * 'gap' (default): give up the oldest hole (a gap event), deliver what was held after it, then
   *   take the new segment. 'drop': discard the new segment's bytes (status OUT_OF_ORDER_DROPPED,
   *   onDiscard), keep waiting for the hole; a later retransmission is accepted (the ASA profile:
   *   3 packets, 4 s).
   */
  onOutOfOrderLimit: 'gap' | 'drop';
  /**
   * Global cap on bytes the table buffers (out-of-order copies and retransmission-check history),
   * default 256 MiB. When exceeded after a packet, the connections that started buffering first
   * give up their holes (gap events, held data delivered) and drop their history until under
   * the cap; counted in stats.memoryCapHits.
   */
  memoryCapBytes: number;
  /**
   * Delivered bytes kept per direction until the peer ACKs them, so a retransmission carrying
   * different bytes is detected (overlap-different-data). Default 256 KiB; 0 disables the check
   * for already-delivered bytes (retransmissions are then counted but not compared). Oldest
   * retained bytes are dropped beyond it.
   */
  retransmissionCheckBytes: number;
  /** Established connection idle for this long closes with 'idle-timeout' (default 3600 s, ASA conn timeout). */
  idleTimeoutSec: number;
  /** Connection without a completed handshake for this long closes with 'half-open-timeout' (default 30 s, ASA embryonic). */
  halfOpenTimeoutSec: number;
  /**
   * A closed connection keeps its 4-tuple for this long so late retransmissions and TIME_WAIT
   * ACKs are attributed to it instead of opening a new connection (default 60 s). A SYN with a
   * new ISN still starts a new connection at once.
   */
  closedLingerSec: number;
  /**
   * Connections in the table (open + lingering), default 1,000,000. A new connection beyond it
   * evicts the oldest lingering closed one, else the oldest half-open one, else the least recently
   * active established one ('evicted'); counted in stats.connectionLimitHits.
   */
  maxConnections: number;
}

export const DEFAULT_FLOW_OPTIONS: Readonly<FlowOptions> = Object.freeze({
  serverPorts: [25, 587, 2525],
  maxOutOfOrderPacketsPerDirection: 1024,
  maxOutOfOrderBytesPerDirection: 4 * 1024 * 1024,
  outOfOrderTimeoutSec: 0,
  onOutOfOrderLimit: 'gap',
  memoryCapBytes: 256 * 1024 * 1024,
  retransmissionCheckBytes: 256 * 1024,
  idleTimeoutSec: 3600,
  halfOpenTimeoutSec: 30,
  closedLingerSec: 60,
  maxConnections: 1_000_000,
});

/** The ASA's queue for inspected connections: 3 out-of-order packets, 4 s, the rest dropped. */
export const ASA_OUT_OF_ORDER: Readonly<Partial<FlowOptions>> = Object.freeze({
  maxOutOfOrderPacketsPerDirection: 3,
  outOfOrderTimeoutSec: 4,
  onOutOfOrderLimit: 'drop',
});

export function resolveFlowOptions(options: Partial<FlowOptions> = {}): FlowOptions {
  const o: FlowOptions = { ...DEFAULT_FLOW_OPTIONS, ...options };
  for (const key of [
    'maxOutOfOrderPacketsPerDirection',
    'maxOutOfOrderBytesPerDirection',
    'outOfOrderTimeoutSec',
    'memoryCapBytes',
    'retransmissionCheckBytes',
    'idleTimeoutSec',
    'halfOpenTimeoutSec',
    'closedLingerSec',
    'maxConnections',
  ] as const) {
    const v = o[key];
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`flow option ${key} must be a non-negative number, got ${v}`);
  }
  if (o.maxConnections < 1) throw new RangeError('flow option maxConnections must be at least 1');
  if (o.serverPorts !== null) {
    for (const p of o.serverPorts) {
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RangeError(`flow option serverPorts: bad port ${p}`);
    }
  }
  return o;
}
