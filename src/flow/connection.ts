/**
 * One TCP connection: a 4-tuple for one lifetime, both directions. The shape is fixed in the
 * constructor (V8 keeps one hidden class for all connections); buffers are allocated lazily by the
 * flow table, so an idle or half-open connection costs well under a kilobyte.
 */
import { formatEndpoint } from '../decode/address.js';
import { HalfStream } from './half-stream.js';
import type { CloseReason, ConnectionMeta, HalfStreamStats } from './types.js';

/** Which timeout list a connection is on (FlowTable keeps one list per timeout class). */
export const ConnList = {
  NONE: 0,
  EMBRYONIC: 1,
  ESTABLISHED: 2,
  CLOSED: 3,
} as const;
export type ConnList = (typeof ConnList)[keyof typeof ConnList];

export interface EndpointWords {
  ipVersion: 4 | 6;
  /** Address as 1 (IPv4) or 4 (IPv6) big-endian 32-bit words, stored as int32 (small integers in V8). */
  clientWords: readonly [number, number, number, number];
  serverWords: readonly [number, number, number, number];
}

export class Connection<S = unknown> implements ConnectionMeta {
  // --- ConnectionMeta ---
  readonly id: number;
  readonly ipVersion: 4 | 6;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
  readonly client: string;
  readonly server: string;
  readonly clientBy: 'syn' | 'syn-ack' | 'port' | 'first-packet';
  synSeen: boolean;
  readonly firstPacket: number;
  readonly firstTimeSec: number;
  readonly firstTimeNsec: number;

  /** The user's slot (the replay keeps its inspector session here). */
  state: S | null = null;
  /** Per-direction reassembly state, indexed by Direction (0 = c2s, 1 = s2c). */
  readonly half: [HalfStream, HalfStream];
  /** The same two objects seen as statistics. */
  readonly stats: [HalfStreamStats, HalfStreamStats];
  packets = 0;
  /** Input packet number of this connection's latest packet (verdicts about its end point there). */
  lastPacketNumber = 0;
  lastTimeSec: number;
  lastTimeNsec: number;
  /** The three-way handshake completed, or the connection was picked up midstream. */
  established = false;
  closed = false;
  closeReason: CloseReason | null = null;

  // --- flow-table internals: the tuple as int32 words, hash chain, timeout list links ---
  /** @internal */ c0: number;
  /** @internal */ c1: number;
  /** @internal */ c2: number;
  /** @internal */ c3: number;
  /** @internal */ s0: number;
  /** @internal */ s1: number;
  /** @internal */ s2: number;
  /** @internal */ s3: number;
  /** @internal */ hashKey = 0;
  /** @internal */ hashNext: Connection<S> | null = null;
  /** @internal */ list: ConnList = ConnList.NONE;
  /** @internal */ prev: Connection<S> | null = null;
  /** @internal */ next: Connection<S> | null = null;
  /** @internal the connection is in the table's list of connections holding buffered bytes */
  buffered = false;
  /** @internal links in that list (oldest first) */
  bufPrev: Connection<S> | null = null;
  /** @internal */ bufNext: Connection<S> | null = null;

  constructor(
    id: number,
    ends: EndpointWords,
    clientIp: string,
    clientPort: number,
    serverIp: string,
    serverPort: number,
    clientBy: ConnectionMeta['clientBy'],
    firstPacket: number,
    tsSec: number,
    tsNsec: number,
  ) {
    this.id = id;
    this.ipVersion = ends.ipVersion;
    this.clientIp = clientIp;
    this.clientPort = clientPort;
    this.serverIp = serverIp;
    this.serverPort = serverPort;
    this.client = formatEndpoint(clientIp, clientPort, ends.ipVersion);
    this.server = formatEndpoint(serverIp, serverPort, ends.ipVersion);
    this.clientBy = clientBy;
    this.synSeen = clientBy === 'syn' || clientBy === 'syn-ack';
    this.firstPacket = firstPacket;
    this.firstTimeSec = tsSec;
    this.firstTimeNsec = tsNsec;
    this.lastTimeSec = tsSec;
    this.lastTimeNsec = tsNsec;
    const half: [HalfStream, HalfStream] = [new HalfStream(), new HalfStream()];
    this.half = half;
    this.stats = half;
    this.c0 = ends.clientWords[0];
    this.c1 = ends.clientWords[1];
    this.c2 = ends.clientWords[2];
    this.c3 = ends.clientWords[3];
    this.s0 = ends.serverWords[0];
    this.s1 = ends.serverWords[1];
    this.s2 = ends.serverWords[2];
    this.s3 = ends.serverWords[3];
  }
}
