/**
 * Strict reading of a case's case.json: a misspelled key or a wrong value must not quietly turn
 * a case into one that tests something else, so every unknown key, wrong type, unknown value and
 * bad engine option is an error naming the file, line:column and key path.
 */
import fs from 'node:fs';
import { SmtpInspectError } from '../errors.js';
import { parseEngineOption, parseEngineOptions } from '../inspect/options.js';
import type { PipelineProfile } from '../pipeline/types.js';
import type { ChecksumMode } from '../decode/checksum.js';
import { POLICY_MODES, type PolicyMode } from '../policy/detect.js';

export interface CaseConfig {
  description?: string;
  engineOptions?: string[];
  profile?: PipelineProfile;
  checksum?: ChecksumMode;
  /** How policy.txt is laid over the factory default, as replay's --policy-mode. */
  policyMode?: PolicyMode;
  /** ASA interface names of the clients and servers, as replay's --client-interface / --server-interface. */
  clientInterface?: string;
  serverInterface?: string;
  /** Most packets held back waiting for a decision, as replay's --max-held. */
  maxHeld?: number;
}

const PROFILES: readonly PipelineProfile[] = ['asa', 'analysis'];
const CHECKSUMS: readonly ChecksumMode[] = ['incremental', 'fix', 'keep'];
const KEYS = ['description', 'engineOptions', 'profile', 'checksum', 'policyMode', 'clientInterface', 'serverInterface', 'maxHeld'] as const;

/** Where each value (by key path: `profile`, `engineOptions[1]`) and each key starts in valid JSON text. */
interface Positions {
  values: Map<string, number>;
  keys: Map<string, number[]>;
}

/** A scan over text JSON.parse already accepted: only positions are taken, no validation needed. */
function scanPositions(text: string): Positions {
  const values = new Map<string, number>();
  const keys = new Map<string, number[]>();
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r\uFEFF'.includes(text.charAt(i))) i++;
  };
  const str = (): string => {
    const start = i++;
    while (i < text.length && text.charAt(i) !== '"') i += text.charAt(i) === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (p: string): void => {
    ws();
    values.set(p, i);
    const ch = text.charAt(i);
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      i++;
      ws();
      if (text.charAt(i) === close) {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        let child = `${p}[${n}]`;
        if (ch === '{') {
          ws();
          const at = i;
          const k = str();
          child = p ? `${p}.${k}` : k;
          const seen = keys.get(child) ?? [];
          seen.push(at);
          keys.set(child, seen);
          ws();
          i++; // ':'
        }
        value(child);
        ws();
        if (text.charAt(i++) !== ',') return;
      }
    }
    if (ch === '"') {
      str();
      return;
    }
    while (i < text.length && !',]} \t\n\r'.includes(text.charAt(i))) i++;
  };
  value('');
  return { values, keys };
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function suggestion(key: string): string {
  const near = KEYS.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return near ? `; did you mean "${near}"?` : '';
}

/**
 * The text of case.json, or a one-line error: a folder or unreadable file under that name, and
 * a byte-order mark (JSON.parse rejects it with an opaque "Unexpected token" at position 0).
 */
function readConfigText(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'case.json is not a file (it is a folder)' : code === 'ENOENT' ? 'case.json is a broken symbolic link' : `cannot read case.json (${code ?? String(err)})`;
    throw new SmtpInspectError('E_USAGE', why, { file });
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new SmtpInspectError('E_USAGE', 'case.json starts with a UTF-8 byte-order mark (save it without)', { file, line: 1, column: 1 });
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new SmtpInspectError('E_USAGE', 'case.json is UTF-16 (save it as UTF-8 without a byte-order mark)', { file, line: 1, column: 1 });
  }
  return bytes.toString('utf8');
}

/** Reads and validates `file` (which exists). Throws SmtpInspectError with file:line:col and the key path. */
export function loadCaseConfig(file: string): CaseConfig {
  const text = readConfigText(file);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    // V8 names the offset ("at position N"), or says the text ended early
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? Number(pos[1]) : /end of JSON input/.test(msg) ? text.length : null;
    throw new SmtpInspectError('E_USAGE', `case.json is not valid JSON: ${msg}`, { file, ...(at === null ? {} : lineColumn(text, at)) });
  }
  const where = scanPositions(text);
  const fail = (keyPath: string, why: string, at: number | undefined): never => {
    throw new SmtpInspectError('E_USAGE', `${keyPath ? keyPath + ': ' : ''}${why}`, { file, ...lineColumn(text, at ?? 0) });
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return fail('', `case.json must hold an object {${KEYS.map((k) => `"${k}"`).join(', ')}}`, where.values.get(''));
  }
  for (const [k, at] of where.keys) {
    if (at.length > 1) fail(k, `key given ${at.length} times`, at[1]);
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(k)) {
      fail(k, `unknown key (known: ${KEYS.join(', ')})${suggestion(k)}`, where.keys.get(k)?.[0]);
    }
  }
  const c: CaseConfig = {};
  if ('description' in o) {
    if (typeof o.description !== 'string') fail('description', 'must be a string', where.values.get('description'));
    else c.description = o.description;
  }
  if ('engineOptions' in o) {
    const opts = o.engineOptions;
    if (!Array.isArray(opts)) return fail('engineOptions', 'must be an array of "name=value" strings', where.values.get('engineOptions'));
    const list: string[] = [];
    // a name given twice would silently keep the last value, as a key given twice would
    const firstAt = new Map<string, number>();
    opts.forEach((t: unknown, n) => {
      const p = `engineOptions[${n}]`;
      if (typeof t !== 'string') return fail(p, 'must be a "name=value" string', where.values.get(p));
      try {
        parseEngineOption(t);
      } catch (err) {
        if (err instanceof SmtpInspectError) fail(p, err.message, where.values.get(p));
        throw err;
      }
      const name = t.slice(0, t.indexOf('=')).trim();
      const first = firstAt.get(name);
      if (first !== undefined) fail(p, `engine option '${name}' given twice (also engineOptions[${first}]); keep one`, where.values.get(p));
      firstAt.set(name, n);
      list.push(t);
    });
    try {
      parseEngineOptions(list); // the combination, too
    } catch (err) {
      if (err instanceof SmtpInspectError) fail('engineOptions', err.message, where.values.get('engineOptions'));
      throw err;
    }
    c.engineOptions = list;
  }
  if ('profile' in o) {
    const p = PROFILES.find((x) => x === o.profile);
    if (!p) fail('profile', `must be one of ${PROFILES.map((x) => `"${x}"`).join(', ')}, not ${JSON.stringify(o.profile)}`, where.values.get('profile'));
    else c.profile = p;
  }
  if ('checksum' in o) {
    const m = CHECKSUMS.find((x) => x === o.checksum);
    if (!m) fail('checksum', `must be one of ${CHECKSUMS.map((x) => `"${x}"`).join(', ')}, not ${JSON.stringify(o.checksum)}`, where.values.get('checksum'));
    else c.checksum = m;
  }
  if ('policyMode' in o) {
    const m = POLICY_MODES.find((x) => x === o.policyMode);
    if (!m) fail('policyMode', `must be one of ${POLICY_MODES.map((x) => `"${x}"`).join(', ')}, not ${JSON.stringify(o.policyMode)}`, where.values.get('policyMode'));
    else c.policyMode = m;
  }
  for (const k of ['clientInterface', 'serverInterface'] as const) {
    if (!(k in o)) continue;
    const name = o[k];
    // a nameif is one word; "outside " would never equal the configuration's name
    if (typeof name !== 'string' || !/^\S+$/.test(name)) fail(k, `must be an ASA interface name (nameif, one word), not ${JSON.stringify(name)}`, where.values.get(k));
    else c[k] = name;
  }
  if ('maxHeld' in o) {
    const n = o.maxHeld;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) fail('maxHeld', `must be a whole number of packets, 1 or more, not ${JSON.stringify(n)}`, where.values.get('maxHeld'));
    else c.maxHeld = n;
  }
  return c;
}
