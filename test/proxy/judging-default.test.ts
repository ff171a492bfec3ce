/**
 * The proxy reads a byte stream, not TCP segments, so by default it judges whole lines: a valid
 * command that arrives in two reads (two writes with a pause between, as a read boundary cuts a
 * fast pipelining client's burst) reaches the server intact. `--set judging=segment` keeps the
 * ASA's per-segment rule on reads: the same split command is then X'd, as the ASA X's a verb
 * typed in pieces. Runs the real program (the default lives in the command line).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { policyForPort } from './proxy-harness.js';
import { canListenOnLoopback, RawSmtpClient, startSmtpServer, type RecordingServer } from './smtp-harness.js';

let loopbackOk = true;
const tmp = mkdtempSync(path.join(tmpdir(), 'proxy-judging-'));
const live: Array<ChildProcess | RecordingServer> = [];

beforeAll(async () => {
  expect(ensureBuiltCli()).toBe(true);
  loopbackOk = await canListenOnLoopback();
});
afterEach(async () => {
  for (const x of live.splice(0)) {
    if ('close' in x) await x.close();
    else x.kill('SIGKILL');
  }
});

async function proxyFor(upstreamPort: number, extra: string[]): Promise<number> {
  const policy = path.join(tmp, `policy-${upstreamPort}.txt`);
  writeFileSync(policy, policyForPort(upstreamPort));
  const child = spawn(process.execPath, [CLI_MAIN, 'proxy', '--listen', '127.0.0.1:0', '--upstream', `127.0.0.1:${upstreamPort}`, '--policy', policy, '--print', 'none', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.push(child);
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  for (let i = 0; i < 300; i++) {
    const m = /proxy listening on 127\.0\.0\.1:(\d+)/.exec(err);
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`proxy did not start: ${err}`);
}

async function splitMailFrom(port: number): Promise<string | null> {
  const c = await RawSmtpClient.connect(port);
  await c.reply();
  await c.cmd('EHLO client.example');
  c.send('MAI');
  await new Promise((r) => setTimeout(r, 150)); // its own read at the proxy
  c.send('L FROM:<a@example.org>\r\n');
  const reply = await c.reply();
  c.destroy();
  return reply;
}

describe('proxy judging', () => {
  it('by default a command split over two reads reaches the server intact', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const srv = await startSmtpServer({ banner: 'ESMTP judging' });
    live.push(srv);
    const reply = await splitMailFrom(await proxyFor(srv.port, []));
    expect(reply).toMatch(/^250/);
    expect(srv.commands.some((x) => /^MAIL FROM:<a@example\.org>/i.test(x))).toBe(true);
  });

  it('with --set judging=segment the same split command is X\'d (each read judged as a segment)', async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const srv = await startSmtpServer({ banner: 'ESMTP judging' });
    live.push(srv);
    const reply = await splitMailFrom(await proxyFor(srv.port, ['--set', 'judging=segment']));
    expect(reply).toMatch(/^5/);
    expect(srv.commands.some((x) => /^MAIL FROM/i.test(x))).toBe(false);
  });
});
