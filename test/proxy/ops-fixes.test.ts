/**
 * Operational details of the proxy on real software (smtp-server behind it, raw sockets in front):
 * byte totals add up after a drop, a client that closes and then resets is torn down as a reset
 * (as a replay of that client leg says), the connection records use replay's wording (checked
 * against a replay of the proxy's own synthetic capture), and the start-up warning for a port the
 * policy does not inspect.
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicyText, defaultPolicy } from '../../src/policy/load.js';
import { replayInMemory } from '../../src/regress/replay-run.js';
import { createWireTap } from '../../src/proxy/wire-tap.js';
import { uninspectedPortWarning } from '../../src/proxy/startup.js';
import { policyForPort, startProxy, type RunningProxy } from './proxy-harness.js';
import { canListenOnLoopback, RawSmtpClient, startSmtpServer } from './smtp-harness.js';

let loopbackOk = true;
let tmp = '';
beforeAll(async () => {
  loopbackOk = await canListenOnLoopback();
  if (!loopbackOk) console.warn('[skip] cannot listen on 127.0.0.1: proxy tests skipped');
  tmp = mkdtempSync(path.join(tmpdir(), 'smtp-inspect-proxy-ops-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const running: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await ('stop' in r ? r.stop() : r.close());
});

interface Rec { rule: string; action: string; syslog: string | null; detail: string }
const records = (p: RunningProxy) => p.verdicts.lines.map((l) => JSON.parse(l) as Rec);

async function teardownLogged(p: RunningProxy): Promise<Rec> {
  for (let i = 0; i < 200; i++) {
    const r = records(p).find((x) => x.detail.startsWith('teardown'));
    if (r) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('no teardown logged');
}

async function setup(withTap = false) {
  const srv = await startSmtpServer({ banner: 'ESMTP test' });
  running.push(srv);
  const pcap = path.join(tmp, `ops-${Date.now()}-${Math.random().toString(16).slice(2)}.pcap`);
  const proxy = await startProxy(srv.port, undefined, withTap ? createWireTap(pcap) : null);
  running.push(proxy);
  return { srv, proxy, pcap };
}

describe('proxy operational details', () => {
  it('an exempted connection is logged as the ASA logs any connection it builds: 302013, then 302014 (before: one passthrough record, no syslog)', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const srv = await startSmtpServer({ banner: 'ESMTP test' });
    running.push(srv);
    // The class selects another port: nothing inspects the test server's port.
    const proxy = await startProxy(srv.port, policyForPort(srv.port + 1));
    running.push(proxy);
    const c = await RawSmtpClient.connect(proxy.port);
    expect(await c.reply()).toContain('ESMTP test'); // unmasked: not inspected
    await c.cmd('QUIT');
    await c.waitClosed();
    c.destroy();
    const td = await teardownLogged(proxy);
    expect(td.syslog).toMatch(/^%ASA-6-302014: Teardown TCP connection \d+ .* TCP FINs$/);
    const built = records(proxy).find((r) => r.detail.startsWith('built'));
    expect(built?.syslog).toMatch(/^%ASA-6-302013: Built inbound TCP connection/);
    expect(built?.detail).toMatch(/^built: not inspected: /);
    expect(proxy.syslog.lines).toHaveLength(2);
  });

  it('after a drop, bytes read = forwarded + discarded in each direction (bytes after the drop are read and discarded)', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { proxy } = await setup();
    const c = await RawSmtpClient.connect(proxy.port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    await c.cmd('MAIL FROM:<sender@example.org>');
    for (let i = 1; i <= 100; i++) await c.cmd(`RCPT TO:<user${i}@example.net>`);
    // the 101st recipient is dropped; the client keeps talking into the dead connection
    c.send('RCPT TO:<user101@example.net>\r\n');
    await new Promise((r) => setTimeout(r, 50));
    c.send('RCPT TO:<after-the-drop@example.net>\r\nDATA\r\n');
    await c.waitClosed();
    c.destroy();
    const td = await teardownLogged(proxy);
    expect(td.syslog).toMatch(/Flow closed by inspection$/);
    const t = proxy.log.totals;
    expect(t.bytesDropped[0]).toBeGreaterThanOrEqual('RCPT TO:<user101@example.net>\r\n'.length);
    for (const d of [0, 1] as const) expect(t.bytesIn[d], `direction ${d}`).toBe(t.bytesOut[d] + t.bytesDropped[d]);
    // 302014 counts the bytes up to the drop (as replay logs it), not what was discarded after it.
    const logged = Number(/ bytes (\d+) Flow closed by inspection$/.exec(td.syslog ?? '')?.[1]);
    const after = 'RCPT TO:<after-the-drop@example.net>\r\nDATA\r\n'.length;
    expect(logged).toBe(t.bytesIn[0] + t.bytesIn[1] - after);
  });

  it('a client that sends FIN and then answers the 221 with a RST: teardown TCP Reset-O, as replay of that leg logs', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { proxy } = await setup();
    const s = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    await new Promise((r) => s.once('data', r)); // greeting
    s.write('EHLO client.example.org\r\n');
    await new Promise((r) => s.once('data', r));
    s.end('QUIT\r\n'); // FIN right after QUIT
    await new Promise((r) => s.once('data', r)); // the 221 arrives after our FIN...
    s.resetAndDestroy(); // ...and is answered with a RST (the client had closed, not half-closed)
    const td = await teardownLogged(proxy);
    expect(td.syslog).toMatch(/TCP Reset-O$/);
    expect(td.detail).toBe('teardown: TCP Reset-O');
  });

  it('a client that half-closes and reads the 221 to the end: teardown TCP FINs (the RST probe does not misfire)', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { proxy } = await setup();
    const s = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    await new Promise((r) => s.once('data', r));
    s.write('EHLO client.example.org\r\n');
    await new Promise((r) => s.once('data', r));
    const got: Buffer[] = [];
    s.on('data', (b: Buffer) => got.push(b));
    s.end('QUIT\r\n');
    await new Promise((r) => s.once('end', r));
    expect(Buffer.concat(got).toString()).toMatch(/^221 /);
    s.destroy();
    const td = await teardownLogged(proxy);
    expect(td.syslog).toMatch(/TCP FINs$/);
  });

  it('built and teardown records read exactly as replay writes them for the same connection', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { srv, proxy, pcap } = await setup(true);
    const c = await RawSmtpClient.connect(proxy.port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    await c.cmd('QUIT');
    await c.waitClosed();
    c.destroy();
    await teardownLogged(proxy);
    await proxy.stop();
    const mine = records(proxy).filter((r) => r.rule === 'connection').map((r) => r.detail);
    expect(mine).toEqual([
      'built: inspected by class smtp_test (policy-map global_policy, inspect esmtp _default_esmtp_map)',
      'teardown: TCP FINs',
    ]);
    // the server leg of the proxy's own capture, replayed with the same policy
    const replay = await replayInMemory(pcap, compilePolicyText(policyForPort(srv.port), 'test-policy'), {});
    const theirs = replay.verdicts.filter((v) => v.rule === 'connection').map((v) => v.detail);
    expect(theirs).toEqual(mine);
  });
});

describe('start-up warning for a port the policy does not inspect', () => {
  it('the default policy on port 2525: names the port and the class-map that selects it', () => {
    const w = uninspectedPortWarning(defaultPolicy(), 2525);
    expect(w).toMatch(/does not inspect upstream port 2525 \(it inspects ESMTP on port 25 only\)/);
    expect(w).toMatch(/class-map SMTP-2525 \/ match port tcp eq 2525 \/ policy-map global_policy \/ class SMTP-2525 \/ inspect esmtp/);
    expect(w).not.toContain('\n');
  });
  it('no warning for port 25 under the default policy, nor for a port a class selects', () => {
    expect(uninspectedPortWarning(defaultPolicy(), 25)).toBeNull();
    expect(uninspectedPortWarning(compilePolicyText(policyForPort(2525), 'p'), 2525)).toBeNull();
  });
});
