/**
 * Numeric command-line option values, read strictly. `Number()` takes far more than a user means
 * by a number: `0x10` (16), `1e1` (10), `""` and `" "` (0), `" 5 "`, `Infinity`, `-0`. Every
 * numeric option goes through here so that a value is decimal notation or an E_USAGE error naming
 * the option.
 */
import { SmtpInspectError } from '../errors.js';

const DIGITS = /^[0-9]+$/;
/** Decimal notation with an optional fraction: `10`, `0.5`, `.5`, `2.` */
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

/**
 * The longest delay Node's timers keep (2^31-1 ms, TIMEOUT_MAX): beyond it setTimeout and
 * socket.setTimeout fall back to 1 ms with only a TimeoutOverflowWarning, so a huge timeout would
 * fire at once.
 */
export const MAX_TIMER_SECONDS = Math.floor(0x7fffffff / 1000);

/** A whole number >= 1 written in decimal digits (`--count`, `--max-held`, `--max-connections`). */
export function positiveIntegerOption(text: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = DIGITS.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) throw new SmtpInspectError('E_USAGE', `${option} must be a positive integer, got "${text}"`);
  if (n > max) throw new SmtpInspectError('E_USAGE', `${option} must be at most ${max}, got "${text}"`);
  return n;
}

/** A duration in seconds >= 0, decimal notation, fraction allowed (`--grace`, `--idle-timeout`). */
export function secondsOption(text: string, option: string, max = MAX_TIMER_SECONDS): number {
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  if (!(n >= 0)) throw new SmtpInspectError('E_USAGE', `${option} must be a non-negative number of seconds, got "${text}"`);
  if (n > max) throw new SmtpInspectError('E_USAGE', `${option} must be at most ${max} seconds, got "${text}"`);
  return n;
}
