/**
 * `--user NAME`: give up root once the capture handle (and the output files) are open. The
 * libpcap socket stays usable after setuid; new captures or files in root-only places would not.
 */
import { execFileSync } from 'node:child_process';
import { SmtpInspectError } from '../errors.js';

export interface TargetUser {
  name: string;
  gid: number;
}

/**
 * Checks `--user NAME` before anything is opened: root, a platform with setuid, a user that
 * exists. A mistyped name is then a usage error with no capture file left behind.
 */
export function resolveUser(user: string): TargetUser {
  const p = process as NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };
  if (!p.setuid || !p.setgid || !p.getuid) {
    throw new SmtpInspectError('E_USAGE', '--user is not supported on this platform');
  }
  if (p.getuid() !== 0) {
    throw new SmtpInspectError('E_USAGE', `--user ${user}: only root can change user (running as uid ${p.getuid()})`);
  }
  return { name: user, gid: primaryGroup(user) };
}

/** Supplementary groups, then group, then user: in this order, or setgid would no longer be allowed. */
export function dropPrivileges(target: TargetUser | string): { uid: number; gid: number } {
  const t = typeof target === 'string' ? resolveUser(target) : target;
  const p = process as NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };
  if (!p.setuid || !p.setgid || !p.getuid) throw new SmtpInspectError('E_USAGE', '--user is not supported on this platform');
  try {
    p.initgroups?.(t.name, t.gid);
    p.setgid(t.gid);
    p.setuid(t.name);
  } catch (err) {
    throw new SmtpInspectError('E_USAGE', `--user ${t.name}: cannot switch to this user: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { uid: p.getuid(), gid: t.gid };
}

/** The user's primary group from the system's user database (`id -g`), so NSS users work too. */
function primaryGroup(user: string): number {
  try {
    const out = execFileSync('id', ['-g', '--', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const gid = Number(out);
    if (Number.isInteger(gid)) return gid;
  } catch {
    // fall through
  }
  throw new SmtpInspectError('E_USAGE', `--user ${user}: no such user`);
}
