/**
 * What the proxy's connections report and what they need: an inspector factory (the policy's
 * decision plus an engine session, or null for a plain relay), an event sink for verdicts and
 * syslog lines, and an optional wire tap that records both legs as packets.
 */
import type { ConnectionMeta, Direction } from '../flow/types.js';
import type { InspectionSink, InspectorSession, Verdict } from '../inspect/types.js';
import type { InspectingClassName } from '../output/connection-wording.js';

export interface InspectorBinding {
  session: InspectorSession;
  /** Policy map, class and inspect esmtp map, for messages. */
  policyMap: string;
  className: string;
  mapName: string;
}

/** Decides per connection: an engine session (inspected) or null (exempt: plain relay). */
export type InspectorFactory = (meta: ConnectionMeta, sink: InspectionSink) => InspectorBinding | null;

export type CloseCause =
  /** Both sides closed normally (FIN both ways). */
  | 'fin'
  /** The engine's drop-connection: both sockets closed silently after the kept bytes. */
  | 'drop-connection'
  /** The engine's reset action: both sockets reset. */
  | 'reset'
  /** One side reset or failed. */
  | 'client-reset'
  | 'server-reset'
  | 'upstream-unreachable'
  /** The proxy shut down and the grace period ended. */
  | 'shutdown'
  | 'idle-timeout';

export interface ProxyEvents {
  /** A client was accepted and its upstream connection established (or it failed). */
  open(meta: ConnectionMeta, inspected: boolean, by: InspectingClassName | null): void;
  /** An engine verdict, with the arrival number of the read that triggered it. */
  verdict(meta: ConnectionMeta, verdict: Verdict, read: number): void;
  /** A proxy-level event for the verdict log (forward beyond the hold limit, late edits, ...). */
  note(meta: ConnectionMeta, dir: Direction | null, rule: string, action: 'note' | 'forward' | 'drop', detail: string, read: number): void;
  close(meta: ConnectionMeta, cause: CloseCause, stats: ConnectionStats): void;
  /**
   * A client the proxy closed at accept without proxying it (connection cap reached, or shutting
   * down). Optional so existing sinks compile; ProxyLog records it (nothing is lost silently).
   */
  refused?(client: RefusedClient): void;
  /**
   * A client reset (or closed) its connection before the proxy accepted it: the kernel still hands
   * it over, but its address can no longer be read (getpeername: ENOTCONN). It is closed without an
   * upstream connection; `listen` and `upstream` are endpoint texts.
   */
  clientGone?(listen: string, upstream: string): void;
  /** The listening socket reported an error (EMFILE/ENFILE on accept); the proxy keeps serving. */
  acceptError?(err: NodeJS.ErrnoException, listen: string, upstream: string): void;
}

export interface RefusedClient {
  /** `max-connections`: the cap was reached; `shutdown`: accepted while stopping. */
  reason: 'max-connections' | 'shutdown';
  clientIp: string;
  clientPort: number;
  /** The upstream the client would have been relayed to. */
  serverIp: string;
  serverPort: number;
  /** Connections open when the client came, and the cap (Infinity when none). */
  open: number;
  limit: number;
}

export interface ConnectionStats {
  /** Bytes read from each sender: [client->server, server->client]. */
  bytesIn: [number, number];
  /** Bytes written to each receiver. */
  bytesOut: [number, number];
  /** Bytes discarded by drop-connection / reset. */
  bytesDropped: [number, number];
  reads: number;
  startedMs: number;
  durationMs: number;
  /**
   * Bytes and duration when inspection dropped or reset the connection: the ASA's 302014 "Flow
   * closed by inspection" is logged there, before the bytes the proxy goes on reading and discarding.
   */
  closedByInspection?: { bytes: number; durationMs: number };
}

/** The two legs of a proxied connection as seen on the wire, for the synthetic capture. */
export type Leg = 'client' | 'server';

export interface WireTap {
  /** Both legs are up: client <-> proxy (listen address) and proxy (local port) <-> upstream. */
  open(id: number, client: Endpoint, proxyFront: Endpoint, proxyBack: Endpoint, upstream: Endpoint): void;
  /** Bytes on one leg; `dir` 0 = towards the server side, 1 = towards the client side. */
  data(id: number, leg: Leg, dir: Direction, bytes: Buffer): void;
  fin(id: number, leg: Leg, dir: Direction): void;
  rst(id: number, leg: Leg, dir: Direction): void;
  /** The connection is gone (frees its state). */
  close(id: number): void;
}

export interface Endpoint {
  ip: string;
  port: number;
}
