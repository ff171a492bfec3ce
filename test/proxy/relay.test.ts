/**
 * The proxy's TCP plumbing on loopback with a scripted inspector session (the engine's contract,
 * not the engine): edits applied before forwarding, bytes held until committed, drop-connection
 * as FIN to both sides, reset as RST to both sides, backpressure, half-close, many concurrent
 * sessions, exempt relay and shutdown. The ESMTP behaviour itself is tested in proxy-smtp.test.ts.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Direction } from '../../src/flow/types.js';
import type { Edit, InspectionSink, InspectorSession, SessionState, Verdict } from '../../src/inspect/types.js';
import { ProxyServer } from '../../src/proxy/server.js';
import type { CloseCause, InspectorFactory, ProxyEvents } from '../../src/proxy/types.js';
import { canListenOnLoopback } from './smtp-harness.js';

/**
 * A scripted session: S2C bytes 'a' become '*'; C2S bytes are committed line by line (held until
 * CR LF); a line `BOOM` drops the connection, `RESET` resets it.
 */
class ScriptedSession implements InspectorSession {
  state: SessionState = 'inspecting';
  dropOffset = -1;
  dropDirection: Direction = 0;
  private line = '';
  private lineStart = 0;
  private c2sCommitted = 0;
  private s2cCommitted = 0;
  constructor(private readonly sink: InspectionSink) {}
  data(dir: Direction, data: Buffer, offset: number): void {
    if (dir === 1) {
      for (let i = 0; i < data.length; i++) {
        if (data[i] === 0x61) this.sink.edit({ dir: 1, offset: offset + i, bytes: Buffer.from('*'), rule: 'mask-a', action: 'mask' } satisfies Edit);
      }
      this.s2cCommitted = offset + data.length;
      return;
    }
    for (let i = 0; i < data.length; i++) {
      const ch = String.fromCharCode(data[i] ?? 0);
      if (this.line === '') this.lineStart = offset + i;
      this.line += ch;
      if (ch === '\n') {
        const verb = this.line.trim();
        if (verb === 'BOOM' || verb === 'RESET') {
          this.state = verb === 'BOOM' ? 'dropped' : 'reset';
          this.dropOffset = this.lineStart;
          const v: Verdict = { dir: 0, offset: this.lineStart, rule: 'scripted', action: verb === 'BOOM' ? 'drop-connection' : 'reset', syslog: [], detail: verb };
          this.sink.verdict(v);
          return;
        }
        this.c2sCommitted = offset + i + 1;
        this.line = '';
      }
    }
  }
  gap(): void {}
  end(): void {
    this.c2sCommitted = Number.MAX_SAFE_INTEGER;
  }
  committed(dir: Direction): number {
    return dir === 0 ? this.c2sCommitted : this.s2cCommitted;
  }
}

interface Upstream {
  port: number;
  received: Buffer[];
  sockets: net.Socket[];
  ended: Promise<void>[];
  server: net.Server;
  errors: string[];
}

/** A TCP upstream that greets with `greeting`, echoes nothing, and records what it receives. */
async function startUpstream(greeting: string, onSocket?: (s: net.Socket) => void): Promise<Upstream> {
  const up: Upstream = { port: 0, received: [], sockets: [], ended: [], server: net.createServer(), errors: [] };
  up.server = net.createServer({ allowHalfOpen: true }, (s) => {
    up.sockets.push(s);
    up.ended.push(new Promise((r) => s.on('end', () => r())));
    s.on('error', (e: NodeJS.ErrnoException) => up.errors.push(e.code ?? e.message));
    s.on('data', (b: Buffer) => up.received.push(b));
    if (greeting) s.write(greeting);
    onSocket?.(s);
  });
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', () => r()));
  up.port = (up.server.address() as net.AddressInfo).port;
  return up;
}

interface Recorded {
  verdicts: Verdict[];
  notes: string[];
  closes: CloseCause[];
  events: ProxyEvents;
}
function recorder(): Recorded {
  const r: Recorded = {
    verdicts: [],
    notes: [],
    closes: [],
    events: {
      open: () => {},
      verdict: (_m, v) => r.verdicts.push(v),
      note: (_m, _d, rule, action, detail) => r.notes.push(`${rule} ${action} ${detail}`),
      close: (_m, cause) => r.closes.push(cause),
    },
  };
  return r;
}

const scripted: InspectorFactory = (_meta, sink) => ({ session: new ScriptedSession(sink), policyMap: 'p', className: 'c', mapName: 'm' });

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });
}
function readUntil(sock: net.Socket, pred: (all: string) => boolean, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let all = '';
    const t = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(all)}`)), timeoutMs);
    const on = (b: Buffer) => {
      all += b.toString('latin1');
      if (pred(all)) {
        clearTimeout(t);
        sock.off('data', on);
        resolve(all);
      }
    };
    sock.on('data', on);
  });
}
const closed = (s: net.Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

let loopbackOk = true;
beforeAll(async () => {
  loopbackOk = await canListenOnLoopback();
  if (!loopbackOk) console.warn('[skip] cannot listen on 127.0.0.1: proxy relay tests skipped');
});

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(greeting: string, inspector: InspectorFactory = scripted, onSocket?: (s: net.Socket) => void) {
  const up = await startUpstream(greeting, onSocket);
  const rec = recorder();
  const proxy = new ProxyServer({ listenHost: '127.0.0.1', listenPort: 0, upstreamHost: '127.0.0.1', upstreamPort: up.port, inspector, events: rec.events, lingerMs: 500 });
  const addr = await proxy.listen();
  cleanups.push(async () => {
    await proxy.shutdown(200);
    for (const s of up.sockets) s.destroy();
    await new Promise((r) => up.server.close(r));
  });
  return { up, rec, proxy, port: addr.port };
}

describe('proxy relay plumbing', () => {
  it('applies the session edits to the server bytes before the client sees them', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { port } = await setup('220 a banana\r\n');
    const c = await connect(port);
    const got = await readUntil(c, (s) => s.endsWith('\r\n'));
    expect(got).toBe('220 * b*n*n*\r\n');
    c.destroy();
  });

  it('holds client bytes until the session commits them, then forwards them unchanged', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { up, port } = await setup('');
    const c = await connect(port);
    c.write('HEL');
    await tick(150);
    expect(Buffer.concat(up.received).toString()).toBe('');
    c.write('O x\r\nNOOP\r\n');
    for (let i = 0; i < 50 && Buffer.concat(up.received).length < 14; i++) await tick(20);
    expect(Buffer.concat(up.received).toString()).toBe('HELO x\r\nNOOP\r\n');
    c.destroy();
  });

  it('drop-connection: earlier bytes are delivered, the trigger is not, and both sides see a FIN', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { up, rec, port } = await setup('220 hi\r\n');
    const c = await connect(port);
    await readUntil(c, (s) => s.includes('\r\n'));
    c.write('NOOP\r\n');
    for (let i = 0; i < 50 && up.received.length === 0; i++) await tick(20);
    c.write('BOOM\r\nNOOP\r\n');
    let clientError: string | null = null;
    c.on('error', (e: NodeJS.ErrnoException) => (clientError = e.code ?? 'error'));
    const clientEnded = new Promise<void>((r) => c.on('end', () => r()));
    c.resume();
    await clientEnded;
    await up.ended[0];
    c.end();
    await closed(c);
    expect(clientError).toBeNull();
    expect(Buffer.concat(up.received).toString()).toBe('NOOP\r\n');
    expect(rec.verdicts.map((v) => v.action)).toEqual(['drop-connection']);
    expect(rec.notes.some((n) => n.startsWith('drop-connection drop 12 byte(s) from the client'))).toBe(true);
    for (let i = 0; i < 50 && rec.closes.length === 0; i++) await tick(20);
    expect(rec.closes).toEqual(['drop-connection']);
  });

  it('reset: both sides get a TCP reset', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { up, rec, port } = await setup('220 hi\r\n');
    const c = await connect(port);
    await readUntil(c, (s) => s.includes('\r\n'));
    const clientErr = new Promise<string>((r) => c.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')));
    c.write('RESET\r\n');
    expect(await clientErr).toBe('ECONNRESET');
    for (let i = 0; i < 50 && up.errors.length === 0; i++) await tick(20);
    expect(up.errors).toEqual(['ECONNRESET']);
    expect(Buffer.concat(up.received).toString()).toBe('');
    for (let i = 0; i < 50 && rec.closes.length === 0; i++) await tick(20);
    expect(rec.closes).toEqual(['reset']);
  });

  it('half-close: the client FIN reaches the server, whose reply still reaches the client', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { up, port } = await setup('', scripted, (s) => {
      s.on('end', () => {
        s.write('221 bye now\r\n');
        s.end();
      });
    });
    const c = await connect(port);
    const reply = readUntil(c, (s) => s.includes('bye'));
    c.end('QUIT\r\n');
    expect(await reply).toBe('221 bye now\r\n');
    await closed(c);
    expect(Buffer.concat(up.received).toString()).toBe('QUIT\r\n');
  });

  it('backpressure: a server that does not read stops the proxy reading the client; all bytes arrive once it reads', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    let upSock: net.Socket | null = null;
    const { up, proxy, port } = await setup('', () => null, (s) => {
      upSock = s;
      s.pause();
    });
    const c = await connect(port);
    const payload = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
    c.write(payload);
    c.end();
    await tick(300);
    const [conn] = [...proxy.connections()];
    expect(conn).toBeDefined();
    // The proxy keeps at most about one socket buffer of the client's data in user space.
    expect(conn!.upstream.writableLength).toBeLessThan(4 * 1024 * 1024);
    expect(conn!.stats.bytesIn[0]).toBeLessThan(payload.length);
    (upSock as net.Socket | null)?.resume();
    await up.ended[0];
    const got = Buffer.concat(up.received);
    expect(got.length).toBe(payload.length);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    c.destroy();
  });

  it('exempt connections are relayed byte for byte without a session', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { up, port } = await setup('220 a banana\r\n', () => null);
    const c = await connect(port);
    expect(await readUntil(c, (s) => s.endsWith('\r\n'))).toBe('220 a banana\r\n');
    c.end('BOOM\r\n');
    await up.ended[0];
    expect(Buffer.concat(up.received).toString()).toBe('BOOM\r\n');
    c.destroy();
  });

  it('200 concurrent sessions each deliver their own bytes', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const perConn = new Map<string, Buffer[]>();
    const { port } = await setup('', scripted, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (b: Buffer) => parts.push(b));
      s.on('end', () => {
        const text = Buffer.concat(parts).toString();
        perConn.set(text.split(' ')[1] ?? '?', parts);
        s.end('250 ok\r\n');
      });
    });
    const n = 200;
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const c = await connect(port);
        const reply = readUntil(c, (s) => s.includes('250 ok'));
        c.end(`HELO ${i} ${'x'.repeat(i * 10)}\r\n`);
        await reply;
        await closed(c);
      }),
    );
    expect(perConn.size).toBe(n);
    for (let i = 0; i < n; i++) expect(Buffer.concat(perConn.get(String(i)) ?? []).toString()).toBe(`HELO ${i} ${'x'.repeat(i * 10)}\r\n`);
  });

  it('shutdown lets finished sessions go and cuts idle ones after the grace period', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { proxy, rec, port } = await setup('220 hi\r\n');
    const c = await connect(port);
    await readUntil(c, (s) => s.includes('\r\n'));
    const clientEnded = new Promise<void>((r) => c.once('end', () => r()));
    c.resume();
    const r = await proxy.shutdown(100);
    expect(r.cut).toBe(1);
    await clientEnded;
    c.destroy();
    expect(rec.closes).toEqual(['shutdown']);
    await expect(connect(port)).rejects.toThrow();
  });
});
