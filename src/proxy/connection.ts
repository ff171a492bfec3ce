/**
 * One proxied SMTP connection: the client's socket, a socket to the upstream server, and an
 * engine session judging both byte streams in the chunks they were actually read in. Bytes are
 * held until the engine commits them, edited in place (same length), then forwarded with
 * backpressure; drop-connection and reset end both sides the way proxy.md documents.
 */
import net from 'node:net';
import { C2S, S2C, type ConnectionMeta, type Direction } from '../flow/types.js';
import type { Edit, InspectionSink, InspectorSession, Verdict } from '../inspect/types.js';
import { HeldStream } from './held-stream.js';
import type { CloseCause, ConnectionStats, InspectorFactory, Leg, ProxyEvents, WireTap } from './types.js';

export type DropMode = 'close' | 'blackhole';

export interface ConnectionOptions {
  id: number;
  client: net.Socket;
  upstreamHost: string;
  upstreamPort: number;
  inspector: InspectorFactory;
  events: ProxyEvents;
  tap: WireTap | null;
  /** Hands out global read numbers (orders reads of all connections and both directions). */
  nextRead: () => number;
  /** Uncommitted bytes held per direction before they are forwarded anyway (and a verdict says so). */
  maxHeldBytes: number;
  /** drop-connection: 'close' ends both sockets with FIN; 'blackhole' goes silent like the ASA until `blackholeMs`. */
  dropMode: DropMode;
  blackholeMs: number;
  /** After a drop's FIN, how long to wait for the peers' FINs before destroying the sockets. */
  lingerMs: number;
  /**
   * A peer that sent its FIN and then got bytes from us may answer them with a RST (it had closed,
   * not half-closed). Our FIN to it waits this long after the last such write, then a zero-byte write
   * probes for that RST, so the teardown says "TCP Reset" as a capture of the client leg would.
   */
  rstWatchMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

/** `::ffff:1.2.3.4` (how a dual-stack listener reports IPv4 clients) -> `1.2.3.4`. */
export function plainIp(ip: string | undefined): string {
  if (!ip) return '0.0.0.0';
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export function endpointText(ip: string, port: number): string {
  return net.isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const legOfSender = (dir: Direction): Leg => (dir === C2S ? 'client' : 'server');
const legOfReceiver = (dir: Direction): Leg => (dir === C2S ? 'server' : 'client');

export class ProxyConnection {
  readonly id: number;
  /** Built from the client socket at accept; the server side is completed when the upstream connects. */
  readonly meta: ConnectionMeta;
  /** The upstream connection is established and the policy has decided. */
  private opened = false;
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  private readonly opts: ConnectionOptions;
  private session: InspectorSession | null = null;
  /** False once the session has ended or handed over to passthrough: bytes then relay as they come. */
  private inspecting = false;
  private readonly held: [HeldStream, HeldStream] = [new HeldStream(), new HeldStream()];
  /** FIN received from the sender of each direction. */
  private readonly ended: [boolean, boolean] = [false, false];
  /** FIN passed on to the receiver of each direction. */
  private readonly shut: [boolean, boolean] = [false, false];
  private readonly paused: [boolean, boolean] = [false, false];
  private readonly pendingWrites: [number, number] = [0, 0];
  private readonly flushWaiters: [Array<() => void>, Array<() => void>] = [[], []];
  private edits: Edit[] = [];
  private lastRead = 0;
  private enforced: 'drop-connection' | 'reset' | null = null;
  private cause: CloseCause | null = null;
  private finished = false;
  private heldLimitNoted: [boolean, boolean] = [false, false];
  /** Bytes of `dir` were written to its receiver after that receiver had sent its own FIN. */
  private readonly wroteAfterPeerFin: [boolean, boolean] = [false, false];
  private timers: NodeJS.Timeout[] = [];
  private readonly closedSockets = new Set<net.Socket>();
  readonly stats: ConnectionStats;
  /** Resolves once both sockets are closed and the close event was reported. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(opts: ConnectionOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.client = opts.client;
    this.stats = { bytesIn: [0, 0], bytesOut: [0, 0], bytesDropped: [0, 0], reads: 0, startedMs: Date.now(), durationMs: 0 };
    this.done = new Promise((r) => (this.resolveDone = r));
    const clientIp = plainIp(opts.client.remoteAddress);
    const clientPort = opts.client.remotePort ?? 0;
    const now = this.stats.startedMs;
    this.meta = {
      id: this.id,
      ipVersion: net.isIPv6(clientIp) ? 6 : 4,
      clientIp,
      clientPort,
      serverIp: opts.upstreamHost,
      serverPort: opts.upstreamPort,
      client: endpointText(clientIp, clientPort),
      server: endpointText(opts.upstreamHost, opts.upstreamPort),
      clientBy: 'syn',
      synSeen: true,
      firstPacket: 0,
      firstTimeSec: Math.floor(now / 1000),
      firstTimeNsec: (now % 1000) * 1_000_000,
    };
    this.client.pause();
    this.client.setNoDelay(true);
    this.upstream = net.connect({ host: opts.upstreamHost, port: opts.upstreamPort, allowHalfOpen: true });
    this.upstream.setNoDelay(true);
    this.upstream.setTimeout(opts.connectTimeoutMs);
    this.wire(this.client, C2S);
    this.wire(this.upstream, S2C);
    this.upstream.once('connect', () => this.onUpstreamConnect());
  }

  /** The socket whose reads form direction `dir`, and the one they are written to. */
  private sender(dir: Direction): net.Socket {
    return dir === C2S ? this.client : this.upstream;
  }
  private receiver(dir: Direction): net.Socket {
    return dir === C2S ? this.upstream : this.client;
  }

  private wire(sock: net.Socket, dir: Direction): void {
    sock.on('data', (chunk: Buffer) => this.onData(dir, chunk));
    sock.on('end', () => this.onEnd(dir));
    sock.on('error', (err: NodeJS.ErrnoException) => this.onError(dir, err));
    sock.on('timeout', () => this.onTimeout(sock));
    sock.on('close', () => this.onSocketClose(sock));
  }

  private onUpstreamConnect(): void {
    const c = this.client;
    const u = this.upstream;
    if (c.destroyed) {
      u.destroy();
      return;
    }
    this.upstream.setTimeout(this.opts.idleTimeoutMs);
    this.client.setTimeout(this.opts.idleTimeoutMs);
    const meta = this.meta;
    const clientIp = meta.clientIp;
    const serverIp = plainIp(u.remoteAddress);
    meta.serverIp = serverIp;
    meta.serverPort = u.remotePort ?? this.opts.upstreamPort;
    meta.server = endpointText(serverIp, meta.serverPort);
    this.opened = true;
    const sink: InspectionSink = {
      edit: (e) => this.edits.push(e),
      verdict: (v) => this.onVerdict(v),
    };
    const binding = this.opts.inspector(meta, sink);
    this.session = binding?.session ?? null;
    this.inspecting = this.session !== null;
    this.opts.tap?.open(
      this.id,
      { ip: clientIp, port: c.remotePort ?? 0 },
      { ip: plainIp(c.localAddress), port: c.localPort ?? 0 },
      { ip: plainIp(u.localAddress), port: u.localPort ?? 0 },
      { ip: serverIp, port: u.remotePort ?? this.opts.upstreamPort },
    );
    this.opts.events.open(meta, this.inspecting, binding ? { policyMap: binding.policyMap, className: binding.className, mapName: binding.mapName } : null);
    this.client.resume();
  }

  private onVerdict(v: Verdict): void {
    const read = this.held[v.dir].chunkAt(v.offset)?.read ?? this.lastRead;
    this.opts.events.verdict(this.meta, v, read);
  }

  private onData(dir: Direction, chunk: Buffer): void {
    if (this.enforced || this.finished) {
      // read and discarded: counted on both sides so read = forwarded + discarded
      this.stats.bytesIn[dir] += chunk.length;
      this.stats.bytesDropped[dir] += chunk.length;
      return;
    }
    const read = this.opts.nextRead();
    this.lastRead = read;
    this.stats.reads++;
    this.stats.bytesIn[dir] += chunk.length;
    this.opts.tap?.data(this.id, legOfSender(dir), dir, chunk);
    const hold = this.held[dir];
    const offset = hold.received;
    hold.push(read, chunk);
    if (this.inspecting && this.session) {
      this.session.data(dir, chunk, offset);
      if (this.afterEngine()) return;
    }
    this.flush(C2S);
    this.flush(S2C);
  }

  /** Applies the edits the engine just emitted and acts on its state. True when the connection is being ended. */
  private afterEngine(): boolean {
    const session = this.session;
    if (!session) return false;
    if (this.edits.length) {
      // Applied only after data() returned: the engine may still have been reading that chunk.
      for (const e of this.edits) this.held[e.dir].applyEdit(e.offset, e.bytes);
      this.edits = [];
      for (const d of [C2S, S2C] as const) {
        const late = this.held[d].lateEditBytes;
        if (late > 0) {
          this.held[d].lateEditBytes = 0;
          this.opts.events.note(this.meta, d, 'late-edit', 'note', `${late} edited byte(s) had already been forwarded unedited`, this.lastRead);
        }
      }
    }
    const state = session.state;
    if (state === 'dropped' || state === 'reset') {
      this.enforce(state === 'dropped' ? 'drop-connection' : 'reset', session.dropDirection, session.dropOffset);
      return true;
    }
    // 'diverged' (TLS after X-ANONYMOUSTLS, roles reversed by TURN/ATRN...) ends inspection as
    // 'passthrough' does: the rest relays as read, and no later read counts as inspected.
    if (state === 'passthrough' || state === 'diverged') this.inspecting = false;
    return false;
  }

  /** Forwards the bytes of `dir` the engine has committed (all of them when not inspecting). */
  private flush(dir: Direction): void {
    const hold = this.held[dir];
    let upTo = this.inspecting && this.session ? this.session.committed(dir) : Number.POSITIVE_INFINITY;
    if (hold.received - Math.max(upTo, hold.released) > this.opts.maxHeldBytes) {
      // The engine keeps waiting (an endless line in line-level mode): forward rather than grow without bound.
      if (!this.heldLimitNoted[dir]) {
        this.heldLimitNoted[dir] = true;
        this.opts.events.note(
          this.meta,
          dir,
          'hold-limit',
          'forward',
          `more than ${this.opts.maxHeldBytes} uncommitted bytes held: forwarded before the engine decided on them`,
          this.lastRead,
        );
      }
      upTo = hold.received - this.opts.maxHeldBytes;
    }
    for (const buf of hold.release(upTo)) this.write(dir, buf);
    if (this.ended[dir] && hold.heldBytes === 0 && !this.shut[dir] && !this.enforced) {
      this.shut[dir] = true;
      if (this.wroteAfterPeerFin[dir]) this.finAfterRstWatch(dir);
      else this.sendFin(dir);
    }
  }

  private sendFin(dir: Direction): void {
    const dest = this.receiver(dir);
    if (dest.destroyed) return;
    dest.end();
    this.opts.tap?.fin(this.id, legOfReceiver(dir), dir);
  }

  /**
   * The receiver had closed its side before we wrote to it: if it closed for good, its kernel
   * answers our bytes with a RST. Wait for it (rstWatchMs after the writes left), probe with a
   * zero-byte write (EPIPE/ECONNRESET once the RST is in: the socket's error handler records the
   * reset), and send our FIN only when none came.
   */
  private finAfterRstWatch(dir: Direction): void {
    const dest = this.receiver(dir);
    this.whenFlushed(dir, () =>
      this.timer(this.opts.rstWatchMs, () => {
        if (dest.destroyed || this.enforced) return;
        dest.write(Buffer.alloc(0), (err) => {
          if (!err) this.sendFin(dir);
        });
      }),
    );
  }

  private write(dir: Direction, buf: Buffer): void {
    const dest = this.receiver(dir);
    if (dest.destroyed || this.shut[dir]) {
      // read but never forwarded: still accounted for
      this.stats.bytesDropped[dir] += buf.length;
      return;
    }
    this.stats.bytesOut[dir] += buf.length;
    if (this.ended[dir === C2S ? S2C : C2S]) this.wroteAfterPeerFin[dir] = true;
    this.opts.tap?.data(this.id, legOfReceiver(dir), dir, buf);
    this.pendingWrites[dir]++;
    const ok = dest.write(buf, () => this.onWritten(dir));
    if (!ok && !this.paused[dir]) {
      // Backpressure: stop reading the sender until the receiver's buffer drains.
      this.paused[dir] = true;
      const src = this.sender(dir);
      src.pause();
      dest.once('drain', () => {
        this.paused[dir] = false;
        if (!src.destroyed) src.resume();
      });
    }
  }

  private onWritten(dir: Direction): void {
    this.pendingWrites[dir]--;
    if (this.pendingWrites[dir] === 0) {
      const waiters = this.flushWaiters[dir];
      this.flushWaiters[dir] = [];
      for (const w of waiters) w();
    }
  }

  /** Calls `fn` once every write of `dir` so far has been handed to the kernel. */
  private whenFlushed(dir: Direction, fn: () => void): void {
    if (this.pendingWrites[dir] === 0 || this.receiver(dir).destroyed) fn();
    else this.flushWaiters[dir].push(fn);
  }

  private onEnd(dir: Direction): void {
    this.ended[dir] = true;
    if (this.enforced || this.finished) {
      this.maybeDestroyAfterDrop();
      return;
    }
    this.opts.tap?.fin(this.id, legOfSender(dir), dir);
    if (this.inspecting && this.session && (this.ended[C2S] && this.ended[S2C] || this.held[dir].heldBytes > 0)) {
      // No more bytes can complete what the engine holds in this direction: let it decide now.
      this.inspecting = false;
      this.session.end();
      if (this.afterEngine()) return;
    }
    this.flush(C2S);
    this.flush(S2C);
  }

  /**
   * drop-connection / reset. Bytes read before the triggering read are still forwarded (the ASA had
   * passed those packets); the triggering read and everything after are discarded in both directions.
   */
  private enforce(kind: 'drop-connection' | 'reset', dropDir: Direction, dropOffset: number): void {
    this.enforced = kind;
    this.stats.closedByInspection = { bytes: this.stats.bytesIn[0] + this.stats.bytesIn[1], durationMs: Date.now() - this.stats.startedMs };
    this.cause = kind;
    this.inspecting = false;
    const trigger = this.held[dropDir].chunkAt(dropOffset);
    const triggerRead = trigger?.read ?? this.lastRead;
    for (const d of [C2S, S2C] as const) {
      const stop = d === dropDir && trigger ? trigger.offset : Number.POSITIVE_INFINITY;
      for (const buf of this.held[d].releaseBefore(triggerRead, stop)) this.write(d, buf);
      const n = this.held[d].discard();
      this.stats.bytesDropped[d] += n;
      if (n > 0) {
        this.opts.events.note(
          this.meta,
          d,
          kind,
          'drop',
          `${n} byte(s) from the ${d === C2S ? 'client' : 'server'} discarded (the triggering read #${triggerRead} and everything after it)`,
          triggerRead,
        );
      }
    }
    // Keep reading (and discarding) so the peers' FINs are seen and the kernel never resets on close.
    for (const d of [C2S, S2C] as const) {
      if (this.paused[d]) {
        this.paused[d] = false;
        this.sender(d).resume();
      }
    }
    if (kind === 'reset') {
      for (const d of [C2S, S2C] as const) {
        const sock = this.receiver(d);
        this.whenFlushed(d, () => {
          if (!sock.destroyed) sock.resetAndDestroy();
        });
        this.opts.tap?.rst(this.id, legOfReceiver(d), d);
      }
      return;
    }
    if (this.opts.dropMode === 'blackhole') {
      // The ASA's behaviour: no FIN, no RST; the endpoints find out by their own timeouts.
      this.timer(this.opts.blackholeMs, () => this.destroyBoth());
      return;
    }
    for (const d of [C2S, S2C] as const) {
      if (!this.shut[d]) {
        this.shut[d] = true;
        this.receiver(d).end();
        this.opts.tap?.fin(this.id, legOfReceiver(d), d);
      }
    }
    this.timer(this.opts.lingerMs, () => this.destroyBoth());
    this.maybeDestroyAfterDrop();
  }

  private maybeDestroyAfterDrop(): void {
    if (this.enforced === 'drop-connection' && this.opts.dropMode === 'close' && this.ended[C2S] && this.ended[S2C]) {
      this.destroyBoth();
    }
  }

  private timer(ms: number, fn: () => void): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private destroyBoth(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  private onError(dir: Direction, err: NodeJS.ErrnoException): void {
    if (this.finished) return;
    const fromClient = dir === C2S;
    if (!this.cause) {
      if (!fromClient && !this.opened) this.cause = 'upstream-unreachable';
      else this.cause = fromClient ? 'client-reset' : 'server-reset';
    }
    if (!this.enforced) {
      this.opts.events.note(this.meta, dir, 'socket-error', 'note', `${fromClient ? 'client' : 'server'} socket: ${err.code ?? err.message}`, this.lastRead);
    }
    // Mirror the failure to the other side as a reset, as a firewall passing the peer's RST would.
    const other = fromClient ? this.upstream : this.client;
    if (!other.destroyed) {
      if (this.opened) this.opts.tap?.rst(this.id, fromClient ? 'server' : 'client', fromClient ? C2S : S2C);
      if (other.connecting) other.destroy();
      else other.resetAndDestroy();
    }
  }

  private onTimeout(sock: net.Socket): void {
    if (!this.cause) this.cause = sock === this.upstream && !this.opened ? 'upstream-unreachable' : 'idle-timeout';
    this.destroyBoth();
  }

  /** Shutdown after the grace period: destroy both sockets. */
  abort(): void {
    if (!this.cause) this.cause = 'shutdown';
    this.destroyBoth();
  }

  private onSocketClose(sock: net.Socket): void {
    this.closedSockets.add(sock);
    // A socket closed while the other is connecting (client gave up) or still open half-way.
    if (sock === this.client && !this.opened && !this.upstream.destroyed) this.upstream.destroy();
    if (sock === this.upstream && !this.opened && !this.client.destroyed) this.client.destroy();
    if (this.closedSockets.size < 2 || this.finished) return;
    this.finished = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.session && this.inspecting) {
      this.inspecting = false;
      this.session.end();
      this.edits = [];
    }
    this.stats.durationMs = Date.now() - this.stats.startedMs;
    if (this.opened) this.opts.tap?.close(this.id);
    this.opts.events.close(this.meta, this.cause ?? 'fin', this.stats);
    this.resolveDone();
  }

  get inspected(): boolean {
    return this.session !== null;
  }
}

