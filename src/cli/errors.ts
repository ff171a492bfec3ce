/** Turns any failure into one clear line on stderr and the documented exit code: no stack traces for user faults. */
import { EXIT, SmtpInspectError } from '../errors.js';

export function exitCodeFor(err: unknown): number {
  if (err instanceof SmtpInspectError) {
    switch (err.code) {
      case 'E_OUTPUT':
      case 'E_OUTPUT_CLOSED':
        return EXIT.OUTPUT;
      case 'E_LIVE_UNAVAILABLE':
      case 'E_LIVE_PERMISSION':
      case 'E_LIVE_NO_DEVICE':
      case 'E_LIVE_FILTER':
        return EXIT.LIVE;
      case 'E_REGRESS':
        return EXIT.FINDINGS;
      default:
        return EXIT.USAGE_OR_INPUT;
    }
  }
  return 70; // internal error (EX_SOFTWARE): a bug, printed with its stack
}

export function reportError(err: unknown): number {
  const code = exitCodeFor(err);
  if (err instanceof SmtpInspectError) {
    process.stderr.write(`smtp-inspect: ${err.describe()}\n`);
  } else {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`smtp-inspect: internal error: ${text}\n`);
  }
  return code;
}

/** Wraps a command action so every error ends in reportError and a non-zero exit. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const rc = await fn(...args);
      process.exitCode = typeof rc === 'number' ? rc : EXIT.OK;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
