/**
 * One copy per distinct text or value: thousands of sessions repeat the same verbs, reply lines,
 * addresses, finding details and symptom wording, and the report would otherwise keep each one per
 * session. Bounded: past `max` distinct keys, values are kept as they come.
 */
export class Interner<T = string> {
  private readonly known = new Map<string, T>();

  constructor(private readonly max = 16384) {}

  /** The shared copy of `value` (keyed by `key`, the value itself for strings). */
  get(key: string, value: T): T {
    const k = this.known.get(key);
    if (k !== undefined) return k;
    if (this.known.size < this.max) this.known.set(key, value);
    return value;
  }
}

/** A string interner: `text(s)` is the shared copy of s (and one flat string). */
export class TextInterner {
  private readonly strings = new Interner<string>();

  text(s: string): string {
    return this.strings.get(s, s);
  }
}
