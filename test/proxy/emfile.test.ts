/**
 * What running out of file descriptors does to the proxy, measured on the real Node/libuv in a
 * child with `ulimit -n 64` whose descriptor table the child itself fills (no cap set):
 *
 * - the upstream side: a client accepted with the last free descriptor finds none for the upstream
 *   socket; the connect fails with EMFILE and that is logged (a `socket-error` note and the
 *   `upstream unreachable` record), so it is accounted for;
 * - the accept side: with no descriptor free, libuv's EMFILE trick accepts and closes the waiting
 *   client without calling Node, so nothing can log it. This is why the CLI always sets
 *   --max-connections below the limit (fd-budget.ts); if a Node release starts reporting it, this
 *   test fails and native-notes/proxy.md must be updated.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { canListenOnLoopback } from './smtp-harness.js';

const DIST = path.dirname(path.dirname(CLI_MAIN));
const tmp = mkdtempSync(path.join(tmpdir(), 'proxy-emfile-'));
const CHILD = path.join(tmp, 'child.mjs');

// The proxy (no cap) in front of a tiny greeting server; fills its descriptor table, frees
// `free` of them, prints its port, and on a line from stdin prints the log and totals.
const childSource = `
import fs from 'node:fs';
import net from 'node:net';
const dist = process.argv[2];
const free = Number(process.argv[3]);
const { ProxyServer } = await import(new URL('proxy/server.js', dist).href);
const { ProxyLog } = await import(new URL('proxy/log.js', dist).href);
const lines = [];
const log = new ProxyLog({ verdictOutputs: [{ writeLine: (l) => lines.push(l), flush() {} }], syslogOutputs: [], clientInterface: 'outside', serverInterface: 'inside' });
const up = net.createServer((s) => { s.on('error', () => {}); s.end('220 up\\r\\n'); });
await new Promise((r) => up.listen(0, '127.0.0.1', r));
const server = new ProxyServer({ listenHost: '127.0.0.1', listenPort: 0, upstreamHost: '127.0.0.1', upstreamPort: up.address().port, inspector: () => null, events: log });
const { port } = await server.listen();
const held = [];
process.stdin.once('data', () => {
  for (const fd of held) fs.closeSync(fd);
  setTimeout(() => {
    process.stdout.write(JSON.stringify({ lines, totals: log.totals, accepted: server.accepted, refused: server.refused, acceptErrors: server.acceptErrors }) + '\\n');
    process.exit(0);
  }, 200);
});
for (;;) { try { held.push(fs.openSync('/dev/null', 'r')); } catch { break; } }
for (let i = 0; i < free; i++) fs.closeSync(held.pop());
process.stdout.write(JSON.stringify({ port }) + '\\n');
`;

interface Report {
  lines: string[];
  totals: { connections: number; upstreamFailures: number; acceptErrors: number };
  accepted: number;
  refused: number;
  acceptErrors: number;
}

/**
 * Runs the child with `free` descriptors left, connects one client, returns what the proxy logged.
 * A run that has not finished in 20 s is abandoned with an error naming the step (the tests retry):
 * one CI run on a loaded 2-core machine hung here until vitest's 120 s timeout, and 8 runs under an
 * artificial load did not reproduce it.
 */
async function oneClient(free: number): Promise<{ clientPort: number; report: Report }> {
  let step = 'start';
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`emfile child run did not finish in 20 s (at: ${step})`)), 20_000);
  });
  try {
    return await Promise.race([oneClientRun(free, (s) => (step = s)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function oneClientRun(free: number, at: (step: string) => void): Promise<{ clientPort: number; report: Report }> {
  const child = spawn('/bin/sh', ['-c', `ulimit -n 64 && exec "$0" "$1" "$2" "$3"`, process.execPath, CHILD, pathToFileURL(DIST + '/').href, String(free)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const line = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const i = out.indexOf('\n');
        if (i >= 0) {
          const l = out.slice(0, i);
          out = out.slice(i + 1);
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          resolve(l);
        }
      };
      const onData = (b: Buffer): void => {
        out += b.toString();
        check();
      };
      const onExit = (): void => reject(new Error('child exited early'));
      child.stdout.on('data', onData);
      child.once('exit', onExit);
      check();
    });
  try {
    at('waiting for the child port');
    const { port } = JSON.parse(await line()) as { port: number };
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.on('error', () => {});
    sock.resume();
    // 'close' is listened for from the start: a close in the same turn as 'connect' is not missed.
    const closedSock = new Promise<void>((r) => sock.once('close', () => r()));
    at('connecting');
    const clientPort = await Promise.race([new Promise<number>((r) => sock.once('connect', () => r(sock.localPort ?? 0))), closedSock.then(() => sock.localPort ?? 0)]);
    at('waiting for the proxy to close the client');
    await closedSock;
    child.stdin.write('report\n');
    at('waiting for the report');
    return { clientPort, report: JSON.parse(await line()) as Report };
  } finally {
    child.kill('SIGKILL');
  }
}

let loopbackOk = true;
beforeAll(async () => {
  expect(ensureBuiltCli()).toBe(true);
  writeFileSync(CHILD, childSource);
  loopbackOk = await canListenOnLoopback();
});

describe.skipIf(process.platform !== 'linux')('proxy out of file descriptors (no cap)', () => {
  it('upstream connect fails with EMFILE: logged as a socket error and an unreachable upstream', { retry: 2, timeout: 70_000 }, async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { clientPort, report } = await oneClient(1);
    const recs = report.lines.map((l) => JSON.parse(l) as { client: string; rule: string; detail: string });
    const mine = recs.filter((r) => r.client === `127.0.0.1:${clientPort}`);
    expect(mine.map((r) => `${r.rule}: ${r.detail}`)).toEqual([
      'socket-error: server socket: EMFILE',
      expect.stringMatching(/^connection: upstream 127\.0\.0\.1:\d+ unreachable: client connection reset$/),
    ]);
    expect(report.totals.upstreamFailures).toBe(1);
    expect(report.accepted).toBe(1);
  });

  it('accept with no descriptor free: libuv closes the client and Node hears nothing (why the cap exists)', { retry: 2, timeout: 70_000 }, async (ctx) => {
    if (!loopbackOk) return ctx.skip();
    const { report } = await oneClient(0);
    expect(report.lines).toEqual([]);
    expect(report.accepted + report.refused + report.acceptErrors).toBe(0);
  });
});
