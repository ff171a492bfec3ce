/**
 * Real SMTP software on 127.0.0.1 random ports for the proxy and live tests: an smtp-server that
 * records every command line it received and every message stream byte for byte, and a raw
 * line-oriented client for sending exactly the bytes a test wants (unknown verbs, 101 RCPTs).
 */
import net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface RecordingServer {
  port: number;
  /** Command lines as smtp-server logged them (`C:` lines), in arrival order. */
  commands: string[];
  /** Replies smtp-server sent (`S:` lines). */
  replies: string[];
  /** Each received message, exactly as the DATA stream delivered it (dot-unstuffed by smtp-server). */
  messages: Buffer[];
  close(): Promise<void>;
}

export interface ServerOptions {
  banner?: string;
  /** Offer STARTTLS in the EHLO reply (smtp-server's default when not hidden). */
  offerStartTls?: boolean;
  extra?: Partial<SMTPServerOptions>;
}

export async function startSmtpServer(opts: ServerOptions = {}): Promise<RecordingServer> {
  const commands: string[] = [];
  const replies: string[] = [];
  const messages: Buffer[] = [];
  const record = (args: unknown[]): void => {
    const strings = args.filter((a): a is string => typeof a === 'string');
    const tag = strings[0];
    if (tag === 'C:' && strings[1] !== undefined) commands.push(strings[1]);
    if (tag === 'S:' && strings[1] !== undefined) replies.push(strings[1]);
  };
  const logger = {
    debug: (...a: unknown[]) => record(a),
    info: (...a: unknown[]) => record(a),
    warn: () => {},
    error: () => {},
    trace: () => {},
    fatal: () => {},
    child: () => logger,
  };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideSTARTTLS: !opts.offerStartTls,
    banner: opts.banner ?? 'mail2.example.net ESMTP relay 2020',
    logger: logger as unknown as SMTPServerOptions['logger'],
    size: 10 * 1024 * 1024,
    onData(stream, _session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (b: Buffer) => parts.push(b));
      stream.on('end', () => {
        messages.push(Buffer.concat(parts));
        callback();
      });
    },
    ...opts.extra,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.server.address() as net.AddressInfo;
  return {
    port: addr.port,
    commands,
    replies,
    messages,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A raw SMTP client: whole reply reading, exact byte sending, and the close it ends with. */
export class RawSmtpClient {
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;
  /** 'end' for a FIN, 'reset' for ECONNRESET, null while open. */
  closeKind: 'end' | 'reset' | null = null;
  readonly transcript: string[] = [];

  private constructor(readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (s: string) => {
      this.buf += s;
      this.wake();
    });
    sock.on('end', () => {
      this.closeKind ??= 'end';
      this.closed = true;
      this.wake();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') this.closeKind = 'reset';
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawSmtpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, allowHalfOpen: true }, () => resolve(new RawSmtpClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Reads one whole (possibly multi-line) reply; null if the connection closed first. */
  async reply(timeoutMs = 5000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        this.transcript.push(`S: ${m[0].trimEnd()}`);
        return m[0];
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; buffered: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  send(text: string | Buffer): void {
    this.transcript.push(`C: ${String(text).trimEnd()}`);
    this.sock.write(text);
  }

  /** Sends a command and returns its reply. */
  async cmd(line: string): Promise<string | null> {
    this.send(line + '\r\n');
    return this.reply();
  }

  /** Resolves when the connection has closed (or after timeoutMs with false). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.closed;
  }

  end(): void {
    this.sock.end();
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** True when 127.0.0.1 can be listened on (some sandboxes forbid it): tests skip otherwise. */
export async function canListenOnLoopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
