/**
 * The proxy as an inline ASA on real SMTP software: smtp-server behind it, nodemailer and a raw
 * socket client in front, all on 127.0.0.1 random ports, the ASA default ESMTP map applied to the
 * server's port. What the client sees and what the server receives are checked byte for byte.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatServicePolicy } from '../../src/inspect/counters.js';
import { createWireTap } from '../../src/proxy/wire-tap.js';
import { haveTool, tshark } from '../helpers/shared.js';
import { composeRaw, smtpTransport, startProxy, type RunningProxy } from './proxy-harness.js';
import { canListenOnLoopback, RawSmtpClient, startSmtpServer, type RecordingServer } from './smtp-harness.js';

const BANNER_NAME = 'mx0.example.net';
const BANNER_TEXT = 'ESMTP relay 2020';

let loopbackOk = true;
let tmp = '';
beforeAll(async () => {
  loopbackOk = await canListenOnLoopback();
  if (!loopbackOk) console.warn('[skip] cannot listen on 127.0.0.1: proxy SMTP tests skipped');
  tmp = mkdtempSync(path.join(tmpdir(), 'smtp-inspect-proxy-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const running: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await ('stop' in r ? r.stop() : r.close());
});

async function setup(offerStartTls = false, withTap = false): Promise<{ srv: RecordingServer; proxy: RunningProxy; pcap: string }> {
  const srv = await startSmtpServer({ banner: BANNER_TEXT, offerStartTls, extra: { name: BANNER_NAME } });
  running.push(srv);
  const pcap = path.join(tmp, `proxy-${Date.now()}-${Math.random().toString(16).slice(2)}.pcap`);
  const proxy = await startProxy(srv.port, undefined, withTap ? createWireTap(pcap) : null);
  running.push(proxy);
  return { srv, proxy, pcap };
}

const records = (p: RunningProxy) => p.verdicts.lines.map((l) => JSON.parse(l) as { rule: string; action: string; syslog: string | null; detail: string; direction: string | null });

describe('proxy enforcing the ASA default ESMTP map', () => {
  it('masks the banner (keeping 2 and 0) and the STARTTLS keyword; the server never sees STARTTLS offered to the client', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { proxy } = await setup(true);
    const c = await RawSmtpClient.connect(proxy.port);
    const banner = await c.reply();
    // smtp-server greets "220 mx0.example.net ESMTP ESMTP relay 2020": every byte after "220 " but 2 and 0 becomes '*'.
    expect(banner).toBe('220 **0' + '*'.repeat(31) + '2020\r\n');
    const ehlo = await c.cmd('EHLO client.example.org');
    expect(ehlo).toMatch(/^250-/);
    expect(ehlo).toContain('250-XXXXXXXA\r\n');
    expect(ehlo).not.toContain('STARTTLS');
    expect(await c.cmd('QUIT')).toMatch(/^221 /);
    const rules = records(proxy).map((r) => `${r.rule}/${r.action}`);
    expect(rules).toContain('mask-banner/mask');
    expect(rules.some((r) => /ehlo|STARTTLS|allow-tls/i.test(r))).toBe(true);
  });

  it('X-substitutes an unknown verb: smtp-server receives XXXXXXX… and answers 500', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { srv, proxy } = await setup();
    const c = await RawSmtpClient.connect(proxy.port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    const reply = await c.cmd('XEXCH50 1 2');
    expect(reply).toMatch(/^500 /);
    expect(srv.commands).toContain('XXXXXXXXXXX');
    expect(srv.commands.some((l) => l.includes('XEXCH50'))).toBe(false);
    expect(await c.cmd('QUIT')).toMatch(/^221 /);
    const x = records(proxy).find((r) => r.action === 'x-substitute');
    expect(x?.direction).toBe('c2s');
  });

  it('cuts the session at RCPT #101: 100 recipients reach the server, the client sees the connection close, 108004 is logged', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { srv, proxy } = await setup();
    const c = await RawSmtpClient.connect(proxy.port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    expect(await c.cmd('MAIL FROM:<sender@example.org>')).toMatch(/^250 /);
    for (let i = 1; i <= 100; i++) expect(await c.cmd(`RCPT TO:<user${i}@example.net>`)).toMatch(/^250 /);
    const last = await c.cmd('RCPT TO:<user101@example.net>');
    expect(last).toBeNull();
    expect(await c.waitClosed()).toBe(true);
    expect(c.closeKind).toBe('end');
    expect(srv.commands.filter((l) => l.startsWith('RCPT TO')).length).toBe(100);
    expect(srv.commands.some((l) => l.includes('user101'))).toBe(false);
    const drop = records(proxy).find((r) => r.action === 'drop-connection');
    expect(drop?.rule).toBe('match cmd RCPT count gt 100');
    expect(drop?.syslog).toMatch(/%ASA-4-108004: ESMTP Classification: Dropped connection for ESMTP Request from outside:127\.0\.0\.1\/\d+ to inside:127\.0\.0\.1\/\d+; matched Class 2: cmd RCPT count gt 100/);
    c.destroy();
    // The teardown is logged once both sockets closed.
    for (let i = 0; i < 100 && !proxy.syslog.lines.some((l) => l.includes('302014')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.syslog.lines.find((l) => l.includes('302014'))).toMatch(/Flow closed by inspection$/);
    expect(formatServicePolicy(proxy.counters)).toMatch(/drop 1, reset-drop 0/);
    expect(formatServicePolicy(proxy.counters)).toMatch(/match cmd RCPT count gt 100\n\s+drop-connection log, packet 1/);
  });

  it('delivers a normal nodemailer message to smtp-server byte for byte', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { srv, proxy, pcap } = await setup(false, true);
    const msg = {
      from: 'Sender <sender@example.org>',
      to: 'rcpt@example.net',
      subject: 'proxy byte-for-byte test',
      text: 'Hello through the proxy.\r\n.a line starting with a dot\r\n' + 'x'.repeat(900) + '\r\nend\r\n',
      messageId: '<fixed-id@example.org>',
      date: new Date('2024-01-02T03:04:05Z'),
    };
    const raw = await composeRaw(msg);
    const t = smtpTransport(proxy.port);
    const info = await t.sendMail({ envelope: { from: 'sender@example.org', to: ['rcpt@example.net'] }, raw });
    t.close();
    expect(info.accepted).toEqual(['rcpt@example.net']);
    expect(srv.messages.length).toBe(1);
    const got = srv.messages[0]!;
    // smtp-server hands over the message after dot-unstuffing, with the final CR LF of the body.
    const expected = raw.subarray(raw.length - 2).equals(Buffer.from('\r\n')) ? raw : Buffer.concat([raw, Buffer.from('\r\n')]);
    expect(got.toString('latin1')).toBe(expected.toString('latin1'));
    expect(records(proxy).filter((r) => r.action === 'drop-connection' || r.action === 'x-substitute')).toEqual([]);
    await proxy.stop();
    if (haveTool('tshark')) {
      // The synthetic capture: every TCP checksum valid, and the server leg carries the DATA intact.
      const status = tshark(['-r', pcap, '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-e', 'tcp.checksum.status']).trim().split('\n');
      expect(status.length).toBeGreaterThan(10);
      expect(new Set(status)).toEqual(new Set(['1']));
      const verbs = tshark(['-r', pcap, '-d', `tcp.port==${srv.port},smtp`, '-Y', `smtp.req && tcp.dstport == ${srv.port}`, '-T', 'fields', '-e', 'smtp.req.command']).trim().split('\n');
      // (nodemailer's QUIT may still be in flight when the capture is closed.)
      expect(verbs.slice(0, 4)).toEqual(['EHLO', 'MAIL', 'RCPT', 'DATA']);
    }
  });
});
