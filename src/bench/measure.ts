/**
 * Running and timing the contestants: our code in a child worker (peak RSS = that child's VmHWM),
 * peers as child processes (peak RSS from GNU time's %M when /usr/bin/time exists, else by polling
 * the child's VmHWM, which only grows, until it exits).
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Measurement, PeerCommand, WorkResult } from './registry.js';

// Started like the CLI: a CommonJS entry sizes the thread pool, then loads worker.js.
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker-entry.cjs');

/** Node's flags as the installed program's launcher (src/cli/launcher.cjs) gives them. */
export const LAUNCHER_NODE_ARGS: readonly string[] = ['--max-semi-space-size=2'];

/** The environment the installed program runs in: its launcher (src/cli/launcher.cjs) drops
 * NODE_EXTRA_CA_CERTS, which costs Node ~30 ms of start-up and serves no TLS we open. */
function launcherEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

interface WorkerOutput extends WorkResult {
  seconds: number;
  peakRssBytes: number | null;
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const gnuTime = ((): boolean => {
  try {
    execFileSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function readVmHwm(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

interface ProcessRun {
  seconds: number;
  stdout: string;
  peakRssBytes: number | null;
}

function runProcess(command: string, args: string[], captureStdout: boolean, env: NodeJS.ProcessEnv = process.env): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    let timeFile: string | null = null;
    let cmd = command;
    let argv = args;
    if (gnuTime) {
      timeFile = path.join(os.tmpdir(), `smtp-inspect-bench-time-${process.pid}-${Date.now()}`);
      cmd = '/usr/bin/time';
      argv = ['-f', '%M', '-o', timeFile, command, ...args];
    }
    const start = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', captureStdout ? 'pipe' : 'ignore', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
    });
    let polled: number | null = null;
    const poll = gnuTime
      ? null
      : setInterval(() => {
          const v = child.pid !== undefined ? readVmHwm(child.pid) : null;
          if (v !== null) polled = Math.max(polled ?? 0, v);
        }, 5);
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (poll) clearInterval(poll);
      let peak = polled;
      if (timeFile) {
        try {
          const kb = Number(fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop());
          if (Number.isFinite(kb)) peak = kb * 1024;
        } catch {
          peak = null;
        }
        fs.rmSync(timeFile, { force: true });
      }
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      resolve({ seconds, stdout, peakRssBytes: peak });
    });
  });
}

/** Our code: best (fastest) of `runs` worker runs; peak RSS is the highest seen over the runs. */
export async function measureOurs(label: string, section: string, file: string, args: string[], runs: number): Promise<Measurement> {
  let best: Measurement | null = null;
  let peak: number | null = null;
  for (let i = 0; i < runs; i++) {
    const run = await runProcess(process.execPath, [...LAUNCHER_NODE_ARGS, WORKER, section, file, ...args], true, launcherEnvironment());
    const line = run.stdout.trim().split('\n').pop() ?? '';
    const out = JSON.parse(line) as WorkerOutput;
    // The worker's own VmHWM is exact for our process; GNU time would include nothing else here.
    const rss = out.peakRssBytes ?? run.peakRssBytes;
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
    const m: Measurement = { label, seconds: run.seconds, bytes: out.bytes, packets: out.packets, peakRssBytes: rss };
    if (out.extra) m.extra = { ...out.extra, 'work s': out.seconds.toFixed(3) };
    else m.extra = { 'work s': out.seconds.toFixed(3) };
    if (!best || m.seconds < best.seconds) best = m;
  }
  if (!best) throw new Error('runs must be at least 1');
  return { ...best, peakRssBytes: peak };
}

/** A peer tool: null when it is not installed. */
export async function measurePeer(peer: PeerCommand, bytes: number, packets: number, runs: number): Promise<Measurement | null> {
  if (!hasCommand(peer.command)) return null;
  let best: Measurement | null = null;
  let peak: number | null = null;
  for (let i = 0; i < runs; i++) {
    const run = await runProcess(peer.command, peer.args, false);
    if (run.peakRssBytes !== null) peak = Math.max(peak ?? 0, run.peakRssBytes);
    if (!best || run.seconds < best.seconds) best = { label: peer.label, seconds: run.seconds, bytes, packets, peakRssBytes: null };
  }
  if (!best) throw new Error('runs must be at least 1');
  return { ...best, peakRssBytes: peak };
}

export const rssMethod = gnuTime ? 'GNU time %M for peers, VmHWM reported by the worker for ours' : 'VmHWM (peers polled every 5 ms, ours reported by the worker)';
