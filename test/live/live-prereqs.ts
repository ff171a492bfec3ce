/** What the live tests need before they can capture: the built CLI, the cap binding, root. */
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { canListenOnLoopback } from '../proxy/smtp-harness.js';

export { ensureBuiltCli } from '../helpers/built-cli.js';

export const CLI = CLI_MAIN;
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Whether the optional libpcap binding loads (a variable name keeps tsc from resolving it). */
export async function capLoads(): Promise<boolean> {
  try {
    const name = 'cap';
    await import(name);
    return true;
  } catch {
    return false;
  }
}

/** Why the live capture tests cannot run here (the first missing prerequisite), or null when they can. */
export async function liveSkipReason(): Promise<string | null> {
  if (!(await capLoads())) return 'the cap libpcap binding is not built (apt-get install libpcap-dev && npm rebuild cap)';
  if (!isRoot) return 'live capture tests need root (or CAP_NET_RAW)';
  if (!(await canListenOnLoopback())) return 'cannot listen on 127.0.0.1';
  if (!ensureBuiltCli()) return `the CLI did not build (${CLI} missing)`;
  return null;
}
