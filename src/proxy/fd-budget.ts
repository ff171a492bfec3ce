/**
 * How many connections the proxy can hold open without running out of file descriptors. Past the
 * soft RLIMIT_NOFILE, libuv's accept path (its EMFILE trick) accepts and closes waiting clients
 * without telling Node, so nothing could log them: the cap must keep the proxy below the limit.
 *
 *   max-connections = floor((soft limit - open at start - FIXED_RESERVE - HEADROOM) / 2)
 *
 * Each proxied connection holds two sockets (client and upstream). Open at start counts what the
 * process already holds (stdio, libuv's epoll/eventfd/pipes, the verdict/syslog/pcap files, which
 * are opened before this is measured). FIXED_RESERVE: the listening socket, libuv's spare fd for
 * the EMFILE trick, and the socket a refused client occupies between accept and close. HEADROOM:
 * name lookups of the upstream in libuv's 4 pool threads and other short-lived descriptors.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const SOCKETS_PER_CONNECTION = 2;
export const FIXED_RESERVE = 3;
export const HEADROOM = 16;

/** The soft limit on open files: a number, Infinity when unlimited, null when unknown. */
export function softFdLimit(): number | null {
  try {
    // Linux: "Max open files            1024                 4096                 files"
    const m = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (m?.[1]) return parseLimit(m[1]);
  } catch {
    // not Linux: ask a shell, which inherits our limits
  }
  try {
    return parseLimit(execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return null;
  }
}

function parseLimit(text: string): number | null {
  if (text === 'unlimited') return Number.POSITIVE_INFINITY;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** Descriptors this process holds now, or null when the platform does not list them. */
export function openFdCount(): number | null {
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    try {
      // readdir holds one descriptor of its own while listing
      return Math.max(0, readdirSync(dir).length - 1);
    } catch {
      // try the next
    }
  }
  return null;
}

export interface FdBudget {
  softLimit: number;
  openAtStart: number;
  /** Connections that fit; Infinity when the limit is unlimited. */
  capacity: number;
}

/** The budget from a soft limit and the descriptors already open (defaults: this process's). */
export function fdBudget(softLimit: number | null = softFdLimit(), openAtStart: number | null = openFdCount()): FdBudget | null {
  if (softLimit === null) return null;
  // Unlisted descriptors: assume a busy start (stdio, libuv's dozen, a few output files).
  const open = openAtStart ?? 32;
  const capacity = softLimit === Number.POSITIVE_INFINITY ? softLimit : Math.max(0, Math.floor((softLimit - open - FIXED_RESERVE - HEADROOM) / SOCKETS_PER_CONNECTION));
  return { softLimit, openAtStart: open, capacity };
}

/** Descriptors `n` connections need on top of what is open: for messages. */
export function descriptorsFor(n: number, openAtStart: number): number {
  return n * SOCKETS_PER_CONNECTION + openAtStart + FIXED_RESERVE + HEADROOM;
}
