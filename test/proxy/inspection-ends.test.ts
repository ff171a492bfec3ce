/**
 * After inspection ends the proxy relays both ways as read, over real sockets: X-ANONYMOUSTLS
 * answered 220 (Exchange's STARTTLS; the engine X's it and ends inspection when the server accepts)
 * followed by a real TLS handshake and SMTP inside it; TURN answered 250 (the roles reverse);
 * STARTTLS with allow-tls; the XEXCH50 blob passing intact in many small writes and together with
 * the next command; a 334 exchange after which an unknown verb is still X'd. The server is an
 * Exchange-style node:net server that answers the X'd verbs as the real ones (a server the capture
 * shows diverging from the ASA's path), and records every byte it reads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatServicePolicy } from '../../src/inspect/counters.js';
import { policyForPort, startProxy, type RunningProxy } from './proxy-harness.js';
import { canListenOnLoopback } from './smtp-harness.js';

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
let loopbackOk = true;
let key = '';
let cert = '';

beforeAll(async () => {
  loopbackOk = await canListenOnLoopback();
  if (!openssl) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'proxy-tls-'));
  const k = path.join(dir, 'key.pem');
  const c = path.join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k, '-out', c, '-days', '2', '-subj', '/CN=mx.fabrikam.test'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  key = readFileSync(k, 'utf8');
  cert = readFileSync(c, 'utf8');
});

/** Reads CRLF lines and exact byte counts from a socket (plain or TLS), in order. */
class Reader {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  ended = false;
  readonly all: Buffer[] = [];
  constructor(public sock: net.Socket) {
    this.attach(sock);
  }
  attach(sock: net.Socket): void {
    this.sock = sock;
    sock.on('data', (b: Buffer) => {
      this.all.push(b);
      this.buf = Buffer.concat([this.buf, b]);
      this.wake?.();
    });
    sock.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    sock.on('error', () => {
      this.ended = true;
      this.wake?.();
    });
  }
  /** Stops reading (before a TLS upgrade); returns bytes already buffered. */
  detach(): Buffer {
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('end');
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
  private async until(ok: () => boolean): Promise<boolean> {
    const deadline = Date.now() + 4000;
    while (!ok()) {
      if (this.ended || Date.now() > deadline) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return true;
  }
  async line(): Promise<string | null> {
    if (!(await this.until(() => this.buf.includes(10)))) return null;
    const i = this.buf.indexOf(10);
    const l = this.buf.subarray(0, i + 1).toString('latin1');
    this.buf = this.buf.subarray(i + 1);
    return l;
  }
  /** A whole (multi-line) reply. */
  async reply(): Promise<string | null> {
    let out = '';
    for (;;) {
      const l = await this.line();
      if (l === null) return null;
      out += l;
      if (l[3] !== '-') return out;
    }
  }
  async bytes(n: number): Promise<Buffer | null> {
    if (!(await this.until(() => this.buf.length >= n))) return null;
    const b = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return b;
  }
}

interface Upstream {
  port: number;
  /** Command lines and events in the order the server saw them. */
  events: string[];
  blobs: Buffer[];
  /** Socket error codes the server saw (ECONNRESET: the proxy reset it). */
  errors: string[];
  server: net.Server;
}

const XS = (n: number): string => 'X'.repeat(n);

/**
 * Exchange-style server: EHLO offers STARTTLS/X-ANONYMOUSTLS/AUTH/XEXCH50; `XEXCH50 n 2` (or the
 * ASA's 15 X's for `XEXCH50 15000 2`) gets 354 and n blob bytes; X-ANONYMOUSTLS / STARTTLS (or 14
 * X's) gets 220 and TLS; TURN (or 4 X's) gets 250, then the server acts as the client.
 */
async function startExchange(): Promise<Upstream> {
  const up: Upstream = { port: 0, events: [], blobs: [], errors: [], server: net.createServer() };
  up.server = net.createServer({ allowHalfOpen: true }, (sock) => {
    sock.setNoDelay(true);
    sock.on('error', (e: NodeJS.ErrnoException) => up.errors.push(e.code ?? e.message));
    void (async () => {
      let r = new Reader(sock);
      let out: net.Socket = sock;
      const send = (s: string): void => void out.write(s);
      send('220 mx.fabrikam.test Microsoft ESMTP MAIL Service ready\r\n');
      for (;;) {
        const raw = await r.line();
        if (raw === null) {
          up.events.push('EOF');
          out.end();
          return;
        }
        const l = raw.replace(/\r?\n$/, '');
        up.events.push(l);
        const verb = (l.split(' ')[0] ?? '').toUpperCase();
        if (verb === 'EHLO') send('250-mx.fabrikam.test Hello\r\n250-STARTTLS\r\n250-X-ANONYMOUSTLS\r\n250-AUTH LOGIN\r\n250 XEXCH50\r\n');
        else if (verb === 'XEXCH50' || l === XS(15)) {
          send('354 Send binary data\r\n');
          const blob = await r.bytes(15000);
          if (!blob) return;
          up.blobs.push(Buffer.from(blob));
          send('250 XEXCH50 OK\r\n');
        } else if (verb === 'AUTH') {
          send('334 VXNlcm5hbWU6\r\n');
          up.events.push(`response ${(await r.line())?.trimEnd()}`);
          send('235 2.7.0 Authentication successful\r\n');
        } else if (verb === 'X-ANONYMOUSTLS' || verb === 'STARTTLS' || l === XS(14)) {
          send('220 2.0.0 SMTP server ready\r\n');
          expect(r.detach().length).toBe(0);
          const t = new tls.TLSSocket(sock, { isServer: true, key, cert });
          out = t;
          r = new Reader(t);
          up.events.push('TLS');
        } else if (verb === 'TURN' || l === XS(4)) {
          send('250 OK, the roles reverse\r\n');
          up.events.push(`got ${await r.reply()}`);
          for (const cmd of ['EHLO mx.fabrikam.test', 'MAIL FROM:<a@fabrikam.test>', 'FOOBAR 1', 'QUIT']) {
            send(`${cmd}\r\n`);
            up.events.push(`got ${await r.reply()}`);
          }
          out.end();
          return;
        } else if (verb === 'QUIT') {
          send('221 2.0.0 Bye\r\n');
          out.end();
          return;
        } else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'NOOP') send('250 2.1.0 OK\r\n');
        else send('500 5.3.3 Unrecognized command\r\n');
      }
    })();
  });
  await new Promise<void>((res) => up.server.listen(0, '127.0.0.1', () => res()));
  up.port = (up.server.address() as net.AddressInfo).port;
  return up;
}

const live: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of live.splice(0)) await f();
});

async function setup(policy?: (port: number) => string): Promise<{ up: Upstream; proxy: RunningProxy; client: Reader }> {
  const up = await startExchange();
  const proxy = await startProxy(up.port, policy ? policy(up.port) : policyForPort(up.port));
  live.push(
    () => proxy.stop(),
    () => new Promise<void>((r) => up.server.close(() => r())),
  );
  const sock = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const client = new Reader(sock);
  expect(await client.reply()).toMatch(/^220 /);
  sock.write('EHLO exch1.contoso.test\r\n');
  expect(await client.reply()).toMatch(/^250 /m);
  return { up, proxy, client };
}

/** Upgrades the client side to TLS (no verification: a throw-away certificate). */
async function clientTls(client: Reader): Promise<tls.TLSSocket> {
  expect(client.detach().length).toBe(0);
  const t = tls.connect({ socket: client.sock, rejectUnauthorized: false, servername: 'mx.fabrikam.test' });
  await new Promise<void>((res, rej) => {
    t.once('secureConnect', () => res());
    t.once('error', rej);
  });
  client.attach(t);
  return t;
}

async function closed(proxy: RunningProxy): Promise<string> {
  for (let i = 0; i < 100 && !proxy.syslog.lines.some((l) => l.includes('302014')); i++) await new Promise((r) => setTimeout(r, 20));
  return proxy.syslog.lines.find((l) => l.includes('302014')) ?? '(no teardown)';
}

/** The `packet N` of the inspect line (reads inspected). */
const packets = (proxy: RunningProxy): number => Number(/packet (\d+), lock fail/.exec(formatServicePolicy(proxy.counters))?.[1] ?? -1);

describe.skipIf(!openssl)('proxy after inspection ends (real TLS, real sockets)', () => {
  it('X-ANONYMOUSTLS answered 220: the TLS handshake and the SMTP inside it pass unmodified both ways; later reads are not counted as inspected', async (ctx) => {
    if (!loopbackOk) ctx.skip();
    const { up, proxy, client } = await setup();
    client.sock.write('X-ANONYMOUSTLS\r\n');
    expect(await client.reply()).toBe('220 2.0.0 SMTP server ready\r\n');
    const t = await clientTls(client);
    t.write('EHLO again\r\n');
    expect(await client.reply()).toContain('250-X-ANONYMOUSTLS\r\n'); // inside TLS: nothing masked
    for (let i = 0; i < 10; i++) {
      t.write(`FOOBAR ${i}\r\n`);
      expect(await client.reply()).toMatch(/^500 /);
    }
    t.write('QUIT\r\n');
    expect(await client.reply()).toMatch(/^221 /);
    t.end();
    expect(await closed(proxy)).toMatch(/TCP FINs$/);
    expect(up.events.slice(0, 3)).toEqual(['EHLO exch1.contoso.test', XS(14), 'TLS']);
    expect(up.events).toContain('FOOBAR 9'); // not X'd: inspection ended
    // banner, EHLO, EHLO reply, X-ANONYMOUSTLS, 220: lockstep, one read each; the TLS reads after
    // the 220 are relayed uninspected (before: counted, as if inspected, while the state was 'diverged')
    expect(packets(proxy)).toBe(5);
  });

  it('STARTTLS with allow-tls: real TLS through the proxy, as passthrough', async (ctx) => {
    if (!loopbackOk) ctx.skip();
    const { up, proxy, client } = await setup((port) => `policy-map type inspect esmtp tlsmap\n parameters\n  allow-tls\n` + policyForPort(port, 'tlsmap'));
    client.sock.write('STARTTLS\r\n');
    expect(await client.reply()).toBe('220 2.0.0 SMTP server ready\r\n');
    const t = await clientTls(client);
    t.write('FOOBAR 1\r\n');
    expect(await client.reply()).toMatch(/^500 /);
    t.write('QUIT\r\n');
    expect(await client.reply()).toMatch(/^221 /);
    t.end();
    expect(await closed(proxy)).toMatch(/TCP FINs$/);
    expect(up.events).toEqual(['EHLO exch1.contoso.test', 'STARTTLS', 'TLS', 'FOOBAR 1', 'QUIT']);
    expect(packets(proxy)).toBe(5);
  });

  it('TURN answered 250: the reversed dialogue passes both ways unmodified, no hang, FINs; later reads not counted as inspected', async (ctx) => {
    if (!loopbackOk) ctx.skip();
    const { up, proxy, client } = await setup();
    const s = client.sock;
    s.write('TURN\r\n');
    expect(await client.reply()).toBe('250 OK, the roles reverse\r\n');
    s.write('220 client.contoso.test ESMTP\r\n');
    const seen: Array<string | null> = [];
    for (const answer of ['250-client.contoso.test\r\n250-XFOO\r\n250 8BITMIME\r\n', '250 ok\r\n', '500 what\r\n', '221 bye\r\n']) {
      seen.push(await client.line());
      s.write(answer);
    }
    expect(seen).toEqual(['EHLO mx.fabrikam.test\r\n', 'MAIL FROM:<a@fabrikam.test>\r\n', 'FOOBAR 1\r\n', 'QUIT\r\n']);
    expect(await client.line()).toBeNull(); // the server's FIN reached the client
    s.end();
    expect(await closed(proxy)).toMatch(/TCP FINs$/);
    expect(up.events).toEqual([
      'EHLO exch1.contoso.test',
      XS(4),
      'got 220 client.contoso.test ESMTP\r\n',
      'got 250-client.contoso.test\r\n250-XFOO\r\n250 8BITMIME\r\n',
      'got 250 ok\r\n',
      'got 500 what\r\n',
      'got 221 bye\r\n',
    ]);
    expect(packets(proxy)).toBe(5);
  });

  const blob = Buffer.alloc(15000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 131 + 7) & 0xff; // binary, with LF bytes

  it('the 15000-byte XEXCH50 blob in 7-byte writes passes intact; the next unknown verb is X\'d again', async (ctx) => {
    if (!loopbackOk) ctx.skip();
    const { up, proxy, client } = await setup();
    client.sock.write('XEXCH50 15000 2\r\n');
    expect(await client.reply()).toMatch(/^354 /);
    for (let i = 0; i < blob.length; i += 7) {
      client.sock.write(blob.subarray(i, i + 7));
      if (i % 700 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await client.reply()).toMatch(/^250 XEXCH50 OK/);
    client.sock.write('FOOBAR x\r\n');
    expect(await client.reply()).toMatch(/^500 /);
    client.sock.end('QUIT\r\n');
    expect(await closed(proxy)).toMatch(/TCP FINs$/);
    expect(up.blobs).toHaveLength(1);
    expect(up.blobs[0]?.equals(blob)).toBe(true);
    expect(up.events).toContain(XS(8));
  });

  it('the XEXCH50 blob together with the next command in one write: blob intact, the command judged', async (ctx) => {
    if (!loopbackOk) ctx.skip();
    const { up, proxy, client } = await setup();
    client.sock.write('XEXCH50 15000 2\r\n');
    expect(await client.reply()).toMatch(/^354 /);
    client.sock.write(Buffer.concat([blob, Buffer.from('FOOBAR x\r\n')]));
    expect(await client.reply()).toMatch(/^250 XEXCH50 OK/);
    expect(await client.reply()).toMatch(/^500 /);
    client.sock.end('QUIT\r\n');
    expect(await closed(proxy)).toMatch(/TCP FINs$/);
    expect(up.blobs[0]?.equals(blob)).toBe(true);
    expect(up.events.slice(1)).toEqual([XS(15), XS(8), 'QUIT']);
  });

  it('AUTH LOGIN 334: the response passes as sent, an unknown verb after it is still X\'d', async (ctx) => {
    if (!loopbackOk) ctx.skip();
    const { up, proxy, client } = await setup();
    client.sock.write('AUTH LOGIN\r\n');
    expect(await client.reply()).toBe('334 VXNlcm5hbWU6\r\n');
    client.sock.write('YWxpY2U=\r\nFOOBAR y\r\n'); // the response and a command in one write
    expect(await client.reply()).toMatch(/^235 /);
    expect(await client.reply()).toMatch(/^500 /);
    client.sock.end('QUIT\r\n');
    expect(await closed(proxy)).toMatch(/TCP FINs$/);
    expect(up.events.slice(1)).toEqual(['AUTH LOGIN', 'response YWxpY2U=', XS(8), 'QUIT']);
  });

  it('reset after a 334 exchange: a 600-byte unknown command resets both sockets (ECONNRESET at client and server) with 108004', async (ctx) => {
    if (!loopbackOk) ctx.skip();
    const resetMap = (port: number): string => `policy-map type inspect esmtp rmap\n match cmd line length gt 512\n  reset log\n` + policyForPort(port, 'rmap');
    const { up, proxy, client } = await setup(resetMap);
    const errors: string[] = [];
    client.sock.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
    client.sock.write('AUTH LOGIN\r\n');
    expect(await client.reply()).toBe('334 VXNlcm5hbWU6\r\n');
    client.sock.write('YWxpY2U=\r\n');
    expect(await client.reply()).toMatch(/^235 /);
    client.sock.write(`FOOBAR ${'a'.repeat(600)}\r\n`);
    expect(await client.reply()).toBeNull();
    expect(await closed(proxy)).toMatch(/Flow closed by inspection$/);
    for (let i = 0; i < 50 && !up.errors.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors).toEqual(['ECONNRESET']);
    expect(up.errors).toEqual(['ECONNRESET']);
    expect(up.events.slice(1)).toEqual(['AUTH LOGIN', 'response YWxpY2U=', 'EOF']); // the long line never reached it
    expect(proxy.syslog.lines.join('\n')).toMatch(/%ASA-4-108004: ESMTP Classification: Reset connection for ESMTP Request .*matched Class 1: cmd line length gt 512/);
    expect(formatServicePolicy(proxy.counters)).toMatch(/drop 0, reset-drop 1/);
  });
});
