/**
 * The proxy's listening side: accepts clients, starts one ProxyConnection per client, and shuts
 * down cleanly (stop accepting, let sessions finish for a grace period, then destroy the rest).
 */
import net from 'node:net';
import { endpointText, plainIp, ProxyConnection, type DropMode } from './connection.js';
import type { InspectorFactory, ProxyEvents, RefusedClient, WireTap } from './types.js';

export interface ProxyServerOptions {
  listenHost: string;
  /** 0 = any free port (tests). */
  listenPort: number;
  upstreamHost: string;
  upstreamPort: number;
  inspector: InspectorFactory;
  events: ProxyEvents;
  tap?: WireTap | null;
  maxHeldBytes?: number;
  dropMode?: DropMode;
  blackholeMs?: number;
  lingerMs?: number;
  rstWatchMs?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** net.Server backlog. */
  backlog?: number;
  /**
   * Connections held open at most (each holds two sockets); clients beyond it are closed at accept
   * and reported through `events.refused`. Undefined: no cap (the CLI always sets one, see
   * fd-budget.ts).
   */
  maxConnections?: number;
}

export const PROXY_DEFAULTS = {
  maxHeldBytes: 1024 * 1024,
  dropMode: 'close' as DropMode,
  blackholeMs: 30_000,
  lingerMs: 2_000,
  // a RST in answer to bytes sent after the peer's FIN comes one round trip later
  rstWatchMs: 200,
  connectTimeoutMs: 10_000,
  // The ASA's `timeout conn 1:00:00`.
  idleTimeoutMs: 3_600_000,
  backlog: 511,
};

export class ProxyServer {
  private readonly server: net.Server;
  private readonly conns = new Set<ProxyConnection>();
  private nextId = 0;
  private readCounter = 0;
  private accepting = true;
  /** Connections accepted over the server's life. */
  accepted = 0;
  /** Clients closed at accept (cap reached or shutting down): each one was reported. */
  refused = 0;
  /** Clients gone before they were accepted (reset in the backlog: no address to proxy or log). */
  gone = 0;
  /** Errors of the listening socket (accept EMFILE/ENFILE): logged, serving goes on. */
  acceptErrors = 0;
  private readonly limit: number;

  constructor(private readonly opts: ProxyServerOptions) {
    this.limit = opts.maxConnections ?? Number.POSITIVE_INFINITY;
    // allowHalfOpen: a client's FIN must reach the server as a FIN while replies still flow back.
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.onClient(sock));
    if (opts.maxConnections !== undefined) {
      // Node counts open client sockets and, at the cap, closes the new one at accept and emits
      // 'drop' with its addresses (Node >= 18.6) instead of 'connection'.
      this.server.maxConnections = opts.maxConnections;
      this.server.on('drop', (d) => {
        this.refuse('max-connections', d?.remoteAddress, d?.remotePort, this.conns.size);
      });
    }
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.opts.listenHost, port: this.opts.listenPort, backlog: this.opts.backlog ?? PROXY_DEFAULTS.backlog }, () => {
        this.server.off('error', reject);
        const addr = this.server.address() as net.AddressInfo;
        // Once listening, an 'error' is an accept failure (EMFILE/ENFILE, ...): Node keeps the
        // listener open, so log it and keep serving instead of dying of an unhandled 'error'.
        const listen = endpointText(plainIp(addr.address), addr.port);
        this.server.on('error', (err: NodeJS.ErrnoException) => this.onAcceptError(err, listen));
        resolve(addr);
      });
    });
  }

  private onClient(sock: net.Socket): void {
    if (sock.remoteAddress === undefined) {
      // Reset while it waited in the backlog: getpeername fails, so there is no address for the
      // policy's classify() or the syslog lines (they said 0.0.0.0/0) and no one to relay for.
      this.gone++;
      const addr = this.server.address();
      const listen = addr !== null && typeof addr === 'object' ? endpointText(plainIp(addr.address), addr.port) : String(addr);
      this.opts.events.clientGone?.(listen, endpointText(this.opts.upstreamHost, this.opts.upstreamPort));
      sock.destroy();
      return;
    }
    if (!this.accepting) {
      this.refuse('shutdown', sock.remoteAddress, sock.remotePort, this.conns.size);
      sock.destroy();
      return;
    }
    if (this.conns.size >= this.limit) {
      // Node's count is client sockets; a connection whose client closed can still hold its
      // upstream socket (half-close, linger after a drop): the cap is on whole connections.
      this.refuse('max-connections', sock.remoteAddress, sock.remotePort, this.conns.size);
      sock.destroy();
      return;
    }
    this.accepted++;
    const o = this.opts;
    const conn = new ProxyConnection({
      id: ++this.nextId,
      client: sock,
      upstreamHost: o.upstreamHost,
      upstreamPort: o.upstreamPort,
      inspector: o.inspector,
      events: o.events,
      tap: o.tap ?? null,
      nextRead: () => ++this.readCounter,
      maxHeldBytes: o.maxHeldBytes ?? PROXY_DEFAULTS.maxHeldBytes,
      dropMode: o.dropMode ?? PROXY_DEFAULTS.dropMode,
      blackholeMs: o.blackholeMs ?? PROXY_DEFAULTS.blackholeMs,
      lingerMs: o.lingerMs ?? PROXY_DEFAULTS.lingerMs,
      rstWatchMs: o.rstWatchMs ?? PROXY_DEFAULTS.rstWatchMs,
      connectTimeoutMs: o.connectTimeoutMs ?? PROXY_DEFAULTS.connectTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs ?? PROXY_DEFAULTS.idleTimeoutMs,
    });
    this.conns.add(conn);
    void conn.done.then(() => this.conns.delete(conn));
  }

  private refuse(reason: RefusedClient['reason'], ip: string | undefined, port: number | undefined, open: number): void {
    this.refused++;
    this.opts.events.refused?.({
      reason,
      clientIp: plainIp(ip),
      clientPort: port ?? 0,
      serverIp: this.opts.upstreamHost,
      serverPort: this.opts.upstreamPort,
      open,
      limit: this.limit,
    });
  }

  private onAcceptError(err: NodeJS.ErrnoException, listen: string): void {
    this.acceptErrors++;
    this.opts.events.acceptError?.(err, listen, endpointText(this.opts.upstreamHost, this.opts.upstreamPort));
  }

  /** The open connections (diagnostics and tests). */
  connections(): IterableIterator<ProxyConnection> {
    return this.conns.values();
  }

  get active(): number {
    return this.conns.size;
  }

  /**
   * Stops accepting at once, waits up to `graceMs` for open sessions to end by themselves, then
   * destroys what is left. Resolves with the number of sessions that had to be cut.
   */
  async shutdown(graceMs: number): Promise<{ cut: number }> {
    this.accepting = false;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    const all = Promise.all([...this.conns].map((c) => c.done));
    let timer: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), graceMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    let cut = 0;
    if (expired) {
      for (const c of this.conns) {
        cut++;
        c.abort();
      }
      await Promise.all([...this.conns].map((c) => c.done));
    }
    await closed;
    return { cut };
  }
}
