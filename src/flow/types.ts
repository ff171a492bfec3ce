/**
 * The event interface between TCP reassembly and its users (replay, live, flows). File replay and
 * live capture drive it identically. Stream offsets are byte counts from the start of each
 * direction's stream (0 = first byte after the SYN), as plain numbers (safe to 2^53).
 */

/** 0 = client to server, 1 = server to client. */
export type Direction = 0 | 1;
export const C2S: Direction = 0;
export const S2C: Direction = 1;

export type CloseReason =
  | 'fin' // both sides sent FIN
  | 'rst' // a RST was seen
  | 'idle-timeout'
  | 'half-open-timeout'
  | 'evicted' // memory cap or table limit forced it out
  | 'end-of-capture'
  | 'new-syn'; // a new SYN with another ISN reused the 4-tuple

/** Per-direction statistics kept by the reassembler. */
export interface HalfStreamStats {
  /** Bytes delivered in order. */
  bytes: number;
  gaps: number;
  gapBytes: number;
  retransmittedBytes: number;
  /** Bytes seen again with different content (the first copy won). */
  overlapDifferentBytes: number;
  outOfOrderPackets: number;
}

/** What the flow layer tells its listener about a connection. */
export interface ConnectionMeta {
  /** Sequential id in order of appearance (1-based), also the ASA connection id in syslog. */
  id: number;
  ipVersion: 4 | 6;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  /** `ip:port` / `[v6]:port` strings, as printed everywhere. */
  client: string;
  server: string;
  /** How the client was chosen. */
  clientBy: 'syn' | 'syn-ack' | 'port' | 'first-packet';
  synSeen: boolean;
  firstPacket: number;
  firstTimeSec: number;
  firstTimeNsec: number;
  /** Input packet number of the connection's latest packet (the flow table keeps it; others may not). */
  lastPacketNumber?: number;
}

export interface StreamListener<C extends ConnectionMeta = ConnectionMeta> {
  onOpen(conn: C): void;
  /** The three-way handshake completed (the connection stops being embryonic). */
  onEstablished?(conn: C): void;
  /**
   * In-order bytes of one segment (never delivered twice). `data` is a view into the packet (or a
   * copy for bytes that were held out of order): valid only during the call.
   * `packetNumber` is the packet that carried these bytes.
   */
  onData(conn: C, dir: Direction, data: Buffer, offset: number, packetNumber: number): void;
  /** Bytes [offset, offset+length) will never be delivered; delivery continues after them. */
  onGap(conn: C, dir: Direction, offset: number, length: number): void;
  onClose(conn: C, reason: CloseReason): void;
}

/** Bits of PacketFlowResult.status: what the flow layer did with one packet. */
export const FlowStatus = {
  /** Not a TCP packet of a selected port: not reassembled. */
  UNTRACKED: 1 << 0,
  NEW_CONNECTION: 1 << 1,
  /** Payload bytes all (or partly) delivered before: a retransmission. */
  RETRANSMISSION: 1 << 2,
  /** Some payload bytes differ from the copy delivered first. */
  OVERLAP_DIFFERENT: 1 << 3,
  /** Held until the hole before it is filled. */
  OUT_OF_ORDER: 1 << 4,
  /** Out-of-order limit hit: the packet's bytes were discarded (ASA profile: the packet is dropped). */
  OUT_OF_ORDER_DROPPED: 1 << 5,
  ZERO_WINDOW_PROBE: 1 << 6,
  KEEPALIVE: 1 << 7,
  SYN: 1 << 8,
  FIN: 1 << 9,
  RST: 1 << 10,
  /** Payload was cut by the snaplen: bytes after the cut are a gap. */
  TRUNCATED: 1 << 11,
  /** Bad or impossible sequence (outside any window): ignored. */
  IGNORED: 1 << 12,
  /** The packet closed the connection (FIN of the second side, RST, new SYN). */
  CLOSED: 1 << 13,
} as const;
