/**
 * Section "proxy": the inline SMTP proxy on loopback against a direct connection to the same
 * server. A minimal SMTP sink (greeting, EHLO with STARTTLS, MAIL/RCPT/DATA/QUIT) stands in for
 * the server so the figures are the proxy's cost, not a mail server's. Prints sessions per second
 * and the added latency per session (direct vs proxied, sequential sessions), then runs 200
 * concurrent sessions through the proxy and checks that every message arrived intact.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { EsmtpCounters } from '../../inspect/counters.js';
import { defaultEngineOptions } from '../../inspect/options.js';
import { compilePolicyText } from '../../policy/load.js';
import { createInspectorFactory } from '../../proxy/engine-binding.js';
import { ProxyLog } from '../../proxy/log.js';
import { ProxyServer } from '../../proxy/server.js';
import { registerBenchSection } from '../registry.js';

const SEQUENTIAL_SESSIONS = 300;
const CONCURRENT_SESSIONS = 200;
const BODY_BYTES = 4096;

interface Sink {
  port: number;
  /** sha256 of each message body received, in arrival order. */
  received: string[];
  close(): Promise<void>;
}

/** A line-driven SMTP responder: enough protocol for a full transaction, nothing more. */
async function startSink(): Promise<Sink> {
  const received: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    let inData = false;
    s.write('220 sink.example.net ESMTP bench 2020\r\n');
    s.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          received.push(createHash('sha256').update(buf.slice(0, end + 2), 'latin1').digest('hex'));
          buf = buf.slice(end + 5);
          inData = false;
          s.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl).toUpperCase();
        buf = buf.slice(nl + 2);
        if (line.startsWith('EHLO')) s.write('250-sink.example.net\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE 10240000\r\n');
        else if (line.startsWith('DATA')) {
          inData = true;
          s.write('354 go ahead\r\n');
        } else if (line.startsWith('QUIT')) {
          s.end('221 bye\r\n');
          return;
        } else if (line.startsWith('MAIL') || line.startsWith('RCPT')) s.write('250 ok\r\n');
        else s.write('500 unrecognized\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function body(i: number): string {
  const line = `message ${i} `.padEnd(76, 'x') + '\r\n';
  return `Subject: bench ${i}\r\n\r\n${line.repeat(Math.ceil(BODY_BYTES / line.length))}`;
}

/** One full SMTP transaction; resolves with the body's hash (what the sink must have received). */
function session(port: number, i: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setNoDelay(true);
    const text = body(i);
    const steps = [`EHLO client${i}.example.org\r\n`, `MAIL FROM:<s${i}@example.org>\r\n`, `RCPT TO:<r${i}@example.net>\r\n`, 'DATA\r\n', `${text}.\r\n`, 'QUIT\r\n'];
    let step = -1;
    let buf = '';
    s.on('data', (b: Buffer) => {
      buf += b.toString('latin1');
      // A reply is complete at a line "NNN text" (not "NNN-").
      while (/(^|\n)\d{3} [^\n]*\n/.test(buf)) {
        if (/(^|\n)[45]\d\d /.test(buf)) {
          s.destroy();
          reject(new Error(`session ${i}: ${buf.trim()}`));
          return;
        }
        buf = '';
        step++;
        const next = steps[step];
        if (next !== undefined) s.write(next);
      }
    });
    s.on('error', reject);
    s.on('close', () => {
      if (step >= steps.length - 1) resolve(createHash('sha256').update(text, 'latin1').digest('hex'));
      else reject(new Error(`session ${i}: closed at step ${step}`));
    });
  });
}

async function sequential(port: number, n: number): Promise<{ seconds: number; perSessionMs: number }> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await session(port, i);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, perSessionMs: (seconds * 1000) / n };
}

registerBenchSection({
  name: 'proxy',
  description: 'inline SMTP proxy on loopback: sessions/s, added latency vs direct, 200 concurrent sessions without loss',

  async run(ctx) {
    const sink = await startSink();
    const policy = compilePolicyText(
      `class-map bench\n match port tcp eq ${sink.port}\npolicy-map global_policy\n class bench\n  inspect esmtp _default_esmtp_map\nservice-policy global_policy global\n`,
      'bench-policy',
    );
    const counters = new EsmtpCounters();
    const log = new ProxyLog({ verdictOutputs: [], syslogOutputs: [], clientInterface: 'outside', serverInterface: 'inside' });
    const proxy = new ProxyServer({
      listenHost: '127.0.0.1',
      listenPort: 0,
      upstreamHost: '127.0.0.1',
      upstreamPort: sink.port,
      inspector: createInspectorFactory({ policy, engineOptions: defaultEngineOptions(), counters, clientInterface: 'outside', serverInterface: 'inside' }),
      events: log,
    });
    const { port } = await proxy.listen();
    try {
      // Warm-up (JIT, sockets) before anything is timed.
      await sequential(sink.port, 30);
      await sequential(port, 30);
      const direct = await sequential(sink.port, SEQUENTIAL_SESSIONS);
      const proxied = await sequential(port, SEQUENTIAL_SESSIONS);
      ctx.log(`  ${SEQUENTIAL_SESSIONS} sequential sessions (EHLO, MAIL, RCPT, ${BODY_BYTES}-byte DATA, QUIT):`);
      ctx.log(`    direct:  ${(SEQUENTIAL_SESSIONS / direct.seconds).toFixed(0)} sessions/s, ${direct.perSessionMs.toFixed(2)} ms/session`);
      ctx.log(`    proxied: ${(SEQUENTIAL_SESSIONS / proxied.seconds).toFixed(0)} sessions/s, ${proxied.perSessionMs.toFixed(2)} ms/session`);
      ctx.log(`    added latency per session: ${(proxied.perSessionMs - direct.perSessionMs).toFixed(2)} ms (${((proxied.perSessionMs / direct.perSessionMs - 1) * 100).toFixed(0)}%)`);

      sink.received.length = 0;
      const t0 = process.hrtime.bigint();
      const results = await Promise.allSettled(Array.from({ length: CONCURRENT_SESSIONS }, (_, i) => session(port, 10_000 + i)));
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const sent = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled').map((r) => r.value);
      const got = new Set(sink.received);
      const lost = CONCURRENT_SESSIONS - sent.filter((h) => got.has(h)).length;
      ctx.log(`  ${CONCURRENT_SESSIONS} concurrent sessions through the proxy: ${seconds.toFixed(2)} s, ${(CONCURRENT_SESSIONS / seconds).toFixed(0)} sessions/s, ${results.length - sent.length} failed, ${lost} message(s) lost`);
      ctx.bar(`${CONCURRENT_SESSIONS} concurrent proxied sessions without a lost message`, lost === 0, `${CONCURRENT_SESSIONS - lost}/${CONCURRENT_SESSIONS} delivered intact`);
      const banner = log.totals;
      ctx.log(`  proxy totals: ${banner.connections} connections, ${banner.inspected} inspected, ${banner.verdicts} verdict records`);
    } finally {
      await proxy.shutdown(1000);
      await sink.close();
    }
  },
});
