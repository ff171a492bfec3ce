/**
 * The command table: the single source for which client verbs the ASA knows (ASA-ESMTP.md 1.1,
 * ADDENDUM B-3). Lookup works on bytes, case-insensitively, without building strings.
 */

export const Verb = {
  DATA: 0, HELO: 1, MAIL: 2, NOOP: 3, QUIT: 4, RCPT: 5, RSET: 6,
  AUTH: 7, EHLO: 8, ETRN: 9, HELP: 10, SAML: 11, SEND: 12, SOML: 13, VRFY: 14,
  /** Known in 9.x; passes only with `allow-tls`. */
  STARTTLS: 15,
  /** Recognised only to skip its chunk: never a supported verb (CHUNKING unsupported, D). */
  BDAT: 16,
} as const;
export type VerbId = (typeof Verb)[keyof typeof Verb];

export interface VerbInfo {
  id: VerbId;
  name: string;
  /** One of the 15 always-supported verbs. */
  supported: boolean;
}

export const VERB_TABLE: readonly VerbInfo[] = [
  ...(['DATA', 'HELO', 'MAIL', 'NOOP', 'QUIT', 'RCPT', 'RSET', 'AUTH', 'EHLO', 'ETRN', 'HELP', 'SAML', 'SEND', 'SOML', 'VRFY'] as const).map(
    (name) => ({ id: Verb[name], name, supported: true }),
  ),
  { id: Verb.STARTTLS, name: 'STARTTLS', supported: false },
  { id: Verb.BDAT, name: 'BDAT', supported: false },
];

/** Longest verb in the table (STARTTLS). */
export const MAX_VERB_LEN = 8;

function upper(b: number): number {
  return b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
}

function pack4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

const FOUR = new Map<number, VerbId>();
for (const v of VERB_TABLE) {
  if (v.name.length === 4) FOUR.set(pack4(v.name.charCodeAt(0), v.name.charCodeAt(1), v.name.charCodeAt(2), v.name.charCodeAt(3)), v.id);
}
const STARTTLS_BYTES = Buffer.from('STARTTLS', 'latin1');

/** The verb spelled by bytes [start, start+len) (case-insensitive), or -1. */
export function lookupVerb(buf: Uint8Array, start: number, len: number): VerbId | -1 {
  if (len === 4) {
    const v = FOUR.get(pack4(upper(buf[start]!), upper(buf[start + 1]!), upper(buf[start + 2]!), upper(buf[start + 3]!)));
    return v === undefined ? -1 : v;
  }
  if (len === 8) {
    for (let i = 0; i < 8; i++) if (upper(buf[start + i]!) !== STARTTLS_BYTES[i]) return -1;
    return Verb.STARTTLS;
  }
  return -1;
}

export function verbName(id: VerbId): string {
  return VERB_TABLE.find((v) => v.id === id)?.name ?? '?';
}

/** Normalised `match cmd verb` keyword (upper case) → VerbId, or -1 when not in the table. */
export function verbFromKeyword(keyword: string): VerbId | -1 {
  const v = VERB_TABLE.find((x) => x.name === keyword.toUpperCase());
  return v ? v.id : -1;
}
