/**
 * `--user NAME`: give up root once the capture handle (and the output files) are open. The
 * libpcap socket stays usable after setuid; new captures or files in root-only places would not.
 */
import { execFileSync } from 'node:child_process';
import { SmtpInspectError } from '../errors.js';

/** Supplementary groups, then group, then user: in this order, or setgid would no longer be allowed. */
export function dropPrivileges(user: string): { uid: number; gid: number } {
  const p = process as NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };
  if (!p.setuid || !p.setgid || !p.getuid) {
    throw new SmtpInspectError('E_USAGE', '--user is not supported on this platform');
  }
  if (p.getuid() !== 0) {
    throw new SmtpInspectError('E_USAGE', `--user ${user}: only root can change user (running as uid ${p.getuid()})`);
  }
  const gid = primaryGroup(user);
  try {
    p.initgroups?.(user, gid);
    p.setgid(gid);
    p.setuid(user);
  } catch (err) {
    throw new SmtpInspectError('E_USAGE', `--user ${user}: cannot switch to this user: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { uid: p.getuid(), gid };
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
