/**
 * An in-process proxy in front of a recording smtp-server, with a policy that inspects the
 * server's (random) port, and a nodemailer client. Shared by the proxy ESMTP tests and the bench.
 */
import { createRequire } from 'node:module';
import { EsmtpCounters } from '../../src/inspect/counters.js';
import { defaultEngineOptions } from '../../src/inspect/options.js';
import { compilePolicyText } from '../../src/policy/load.js';
import { createInspectorFactory } from '../../src/proxy/engine-binding.js';
import { ProxyLog, type LineOutput } from '../../src/proxy/log.js';
import { ProxyServer, type ProxyServerOptions } from '../../src/proxy/server.js';
import type { FileWireTap } from '../../src/proxy/wire-tap.js';

/**
 * A policy selecting exactly `port` for the ASA default ESMTP map (the test's server port): an
 * excerpt merges into the factory default, so the default class (TCP/25) is taken out explicitly.
 */
export function policyForPort(port: number, mapName = '_default_esmtp_map', extra = ''): string {
  return (
    `${extra}class-map smtp_test\n match port tcp eq ${port}\n` +
    `policy-map global_policy\n no class inspection_default\n class smtp_test\n  inspect esmtp ${mapName}\n` +
    `service-policy global_policy global\n`
  );
}

export class ArrayLines implements LineOutput {
  lines: string[] = [];
  writeLine(line: string): void {
    this.lines.push(line);
  }
  flush(): void {}
}

export interface RunningProxy {
  port: number;
  server: ProxyServer;
  verdicts: ArrayLines;
  syslog: ArrayLines;
  counters: EsmtpCounters;
  log: ProxyLog;
  stop(): Promise<void>;
}

/** `options` override the harness's server options (e.g. maxConnections, lingerMs). */
export async function startProxy(
  upstreamPort: number,
  policyText = policyForPort(upstreamPort),
  tap: FileWireTap | null = null,
  options: Partial<ProxyServerOptions> = {},
): Promise<RunningProxy> {
  const policy = compilePolicyText(policyText, 'test-policy');
  const counters = new EsmtpCounters();
  const verdicts = new ArrayLines();
  const syslog = new ArrayLines();
  const log = new ProxyLog({ verdictOutputs: [verdicts], syslogOutputs: [syslog], clientInterface: 'outside', serverInterface: 'inside' });
  const server = new ProxyServer({
    listenHost: '127.0.0.1',
    listenPort: 0,
    upstreamHost: '127.0.0.1',
    upstreamPort,
    inspector: createInspectorFactory({ policy, engineOptions: defaultEngineOptions(), counters, clientInterface: 'outside', serverInterface: 'inside' }),
    events: log,
    tap,
    lingerMs: 1000,
    ...options,
  });
  const addr = await server.listen();
  return {
    port: addr.port,
    server,
    verdicts,
    syslog,
    counters,
    log,
    stop: async () => {
      await server.shutdown(500);
      await tap?.finish();
    },
  };
}

/** The parts of nodemailer the tests use (it ships no type declarations). */
export interface Transport {
  sendMail(msg: Record<string, unknown>): Promise<{ accepted: string[]; rejected: string[]; response: string }>;
  close(): void;
}
interface Nodemailer {
  createTransport(opts: Record<string, unknown>): Transport;
}
const require = createRequire(import.meta.url);
export const nodemailer = require('nodemailer') as Nodemailer;

/** Builds the exact bytes nodemailer would send for `msg` (its stream transport, CRLF line ends). */
export async function composeRaw(msg: Record<string, unknown>): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = (await t.sendMail(msg)) as unknown as { message: Buffer };
  return info.message;
}

export function smtpTransport(port: number, extra: Record<string, unknown> = {}): Transport {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, tls: { rejectUnauthorized: false }, ...extra });
}
