/** Capture timestamps as text: ISO 8601 (verdicts) and the ASA's syslog prefix, at the capture's precision. */

/** Fraction digits for an interface resolution of base^-exponent (10^-6 -> 6, 10^-9 -> 9, 2^-n -> enough). */
export function fractionDigits(base: 10 | 2, exponent: number): number {
  if (base === 10) return Math.max(0, Math.min(9, exponent));
  // 2^-n needs about n*log10(2) digits to be distinguishable
  return Math.max(0, Math.min(9, Math.ceil(exponent * Math.LOG10E * Math.LN2)));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `2024-01-02T03:04:05.123456Z` with `digits` fraction digits (0 = none). */
export function isoTime(tsSec: number, tsNsec: number, digits: number): string {
  const d = new Date(tsSec * 1000);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  if (digits <= 0) return base + 'Z';
  const frac = pad(tsNsec, 9).slice(0, digits);
  return `${base}.${frac}Z`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The ASA's `logging timestamp` form, in UTC: `Jan 02 2024 03:04:05`. */
export function asaSyslogTime(tsSec: number): string {
  const d = new Date(tsSec * 1000);
  return (
    `${MONTHS[d.getUTCMonth()] ?? 'Jan'} ${pad(d.getUTCDate(), 2)} ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  );
}

/** `hh:mm:ss` duration as in 302014 (`duration 0:00:18`). */
export function asaDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60), 2)}:${pad(s % 60, 2)}`;
}

/**
 * isoTime with the `YYYY-MM-DDTHH:MM:SS` part cached for the last second seen: verdicts come in
 * bursts within one capture second, and building a Date per record is the expensive part.
 */
export class IsoTimeFormatter {
  private sec = Number.NaN;
  private prefix = '';

  format(tsSec: number, tsNsec: number, digits: number): string {
    if (tsSec !== this.sec) {
      this.sec = tsSec;
      this.prefix = isoTime(tsSec, 0, 0).slice(0, -1);
    }
    if (digits <= 0) return this.prefix + 'Z';
    return `${this.prefix}.${pad(tsNsec, 9).slice(0, digits)}Z`;
  }
}
