/**
 * Runs the built CLI reading standard input from a FIFO that the test keeps open, feeds it some
 * bytes, waits until the program has read and processed them all, then sends a signal — the way a
 * user presses Ctrl-C on `tcpdump -U -w - | smtp-inspect info -`. No timing: "processed them all"
 * is observed in /proc (Linux): a thread of the program blocked reading the empty pipe while its
 * main thread waits in epoll, idle. Also cuts captures at record boundaries.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './shared.js';

export const MAIN = path.join(REPO_ROOT, 'dist/cli/main.js');

/** Builds dist when a source is newer than it (other modules' type errors do not stop emit). */
export function ensureBuilt(): void {
  const built = existsSync(MAIN) ? statSync(MAIN).mtimeMs : 0;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs), 0);
  if (newest(path.join(REPO_ROOT, 'src')) > built) {
    try {
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(REPO_ROOT, 'tsconfig.build.json')], { stdio: 'ignore' });
    } catch {
      // emitted anyway
    }
  }
}

function wchan(pid: number, tid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8');
  } catch {
    return null;
  }
}

/** Whether this system shows what a thread waits on (Linux /proc with wchan symbols). */
export const canObserveThreads = ((): boolean => {
  // Our own idle threads (V8 and libuv workers) wait somewhere named; a running one shows 0.
  try {
    return readdirSync(`/proc/${process.pid}/task`).some((t) => /^[a-z_]+$/.test(wchan(process.pid, Number(t)) ?? ''));
  } catch {
    return false;
  }
})();

/** The program read everything it was given and is idle: a thread blocked on the empty pipe, the main thread in epoll. */
function quiescent(pid: number): boolean {
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return false;
  }
  const main = wchan(pid, pid) ?? '';
  return /epoll/.test(main) && tids.some((t) => /pipe_read|pipe_wait/.test(wchan(pid, t) ?? ''));
}

export interface InterruptedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * `node MAIN ...args` with stdin from `fifo` (already made with mkfifo); writes `input`, waits for
 * quiescence, sends `signal`, and returns what the program printed. The FIFO stays open for
 * writing until the program has exited, so the program cannot rely on its input ending.
 */
export async function runInterruptedOnFifo(args: string[], fifo: string, input: Buffer, signal: NodeJS.Signals): Promise<InterruptedRun> {
  const child = spawn('sh', ['-c', 'exec "$0" "$@" < "$FIFO"', process.execPath, MAIN, ...args], {
    env: { ...process.env, TZ: 'UTC', FIFO: fifo },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (status, sig) => resolve({ status, signal: sig })));
  // Opening for writing waits (on the thread pool) until the shell opens the FIFO for reading.
  const writer = await open(fifo, 'w');
  try {
    if (input.length > 0) await writer.write(input);
    let calm = 0;
    for (let i = 0; calm < 3; i++) {
      if (i > 2000) throw new Error(`the program never went idle on its input; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
      calm = quiescent(child.pid!) ? calm + 1 : 0;
    }
    child.kill(signal);
    const end = await exited;
    return { ...end, stdout, stderr };
  } finally {
    await writer.close();
  }
}

/**
 * The byte offsets just after each packet record of a pcap or pcapng capture (file order), for
 * cutting it at a record boundary or inside a record.
 */
export function recordEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  const magic = bytes.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    let le = true;
    for (let pos = 0; pos + 12 <= bytes.length; ) {
      const type = bytes.readUInt32LE(pos);
      if (type === 0x0a0d0d0a) le = bytes.readUInt32LE(pos + 8) === 0x1a2b3c4d;
      const len = le ? bytes.readUInt32LE(pos + 4) : bytes.readUInt32BE(pos + 4);
      const t = le ? type : bytes.readUInt32BE(pos);
      if (pos + len > bytes.length) break;
      pos += len;
      if (t === 6 || t === 3 || t === 2) ends.push(pos);
    }
    return ends;
  }
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  for (let pos = 24; pos + 16 <= bytes.length; ) {
    const caplen = le ? bytes.readUInt32LE(pos + 8) : bytes.readUInt32BE(pos + 8);
    if (pos + 16 + caplen > bytes.length) break;
    pos += 16 + caplen;
    ends.push(pos);
  }
  return ends;
}

/**
 * `node MAIN ...args` where args name a FIFO nobody opens for writing: waits until the program's
 * main thread is idle in epoll while another thread waits in the FIFO's open (the open must not
 * block the main thread, or no signal handler could run), then sends `signal`.
 */
export async function runInterruptedInFifoOpen(args: string[], signal: NodeJS.Signals): Promise<InterruptedRun> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (status, sig) => resolve({ status, signal: sig })));
  const waitingInOpen = (pid: number): boolean => {
    try {
      const tids = readdirSync(`/proc/${pid}/task`).map(Number);
      return /epoll/.test(wchan(pid, pid) ?? '') && tids.some((t) => t !== pid && /wait_for_partner|fifo_open/.test(wchan(pid, t) ?? ''));
    } catch {
      return false;
    }
  };
  let calm = 0;
  for (let i = 0; calm < 3; i++) {
    if (i > 1000) {
      child.kill('SIGKILL');
      throw new Error(`the program's main thread never went idle while opening the FIFO; stderr: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 10));
    calm = waitingInOpen(child.pid!) ? calm + 1 : 0;
  }
  child.kill(signal);
  const end = await exited;
  return { ...end, stdout, stderr };
}
