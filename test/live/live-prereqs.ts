/** What the live tests need before they can capture: the built CLI, the cap binding, root. */
import { CLI_MAIN } from '../helpers/built-cli.js';

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
