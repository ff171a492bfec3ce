/**
 * A client that connects and resets before the proxy accepts it (a port scanner, a client that
 * gave up while the listener's backlog waited): the kernel still hands the socket to Node, but its
 * address can no longer be read. Before the fix, the proxy opened an upstream connection for it
 * and logged Built/Teardown lines for "outside:0.0.0.0/0". Now: one client-gone record, no upstream
 * connection, no syslog line with an invented address.
 *
 * The resets are made deterministic by blocking the proxy's event loop (execFileSync of a child
 * Node that connects and resets) so every handshake completes and is reset in the backlog.
 */
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatTotals } from '../../src/proxy/log.js';
import { policyForPort, startProxy, type RunningProxy } from './proxy-harness.js';
import { canListenOnLoopback } from './smtp-harness.js';

let loopbackOk = true;
beforeAll(async () => {
  loopbackOk = await canListenOnLoopback();
  if (!loopbackOk) console.warn('[skip] cannot listen on 127.0.0.1: proxy tests skipped');
});

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

/** Connects `n` clients to `port` and resets each one as soon as it is connected. */
const RESET_CLIENTS = `
const net = require('node:net');
const [port, n] = process.argv.slice(1).map(Number);
let open = n;
for (let i = 0; i < n; i++) {
  const s = net.connect({ host: '127.0.0.1', port }, () => s.resetAndDestroy());
  s.on('error', () => {});
  s.on('close', () => { if (--open === 0) process.exit(0); });
}
`;

describe('a client reset before it was accepted', () => {
  it('is one client-gone record: no upstream connection, no Built/Teardown for 0.0.0.0/0', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    let upstreamConnections = 0;
    const upstream = net.createServer((s) => {
      upstreamConnections++;
      s.destroy();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    running.push(() => new Promise<void>((r) => upstream.close(() => r())));
    const upstreamPort = (upstream.address() as net.AddressInfo).port;
    const proxy: RunningProxy = await startProxy(upstreamPort, policyForPort(upstreamPort));
    running.push(() => proxy.stop());

    const n = 5;
    // The proxy's loop is blocked meanwhile: the clients connect and reset in its backlog.
    execFileSync(process.execPath, ['-e', RESET_CLIENTS, String(proxy.port), String(n)], { timeout: 10_000 });
    for (let i = 0; i < 100 && proxy.server.gone + proxy.server.accepted < n; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));

    const recs = proxy.verdicts.lines.map((l) => JSON.parse(l) as { client: string; rule: string; syslog: string | null; detail: string });
    expect(recs.some((r) => r.client.startsWith('0.0.0.0'))).toBe(false);
    expect(proxy.syslog.lines.filter((l) => l.includes('0.0.0.0/0'))).toEqual([]);
    const gone = recs.filter((r) => r.rule === 'client-gone');
    // Every client is accounted for: gone in the backlog (the usual case) or accepted in time.
    expect(gone.length + proxy.server.accepted).toBe(n);
    expect(gone.length).toBeGreaterThan(0);
    expect(proxy.server.gone).toBe(gone.length);
    for (const r of gone) {
      expect(r.client).toBe('unknown');
      expect(r.syslog).toBeNull();
      expect(r.detail).toMatch(/before it was accepted/);
    }
    expect(upstreamConnections).toBe(proxy.server.accepted);
    expect(formatTotals(proxy.log.totals)).toContain(`reset by the client before accept: ${gone.length}`);
  });
});
