/**
 * MIME field parsing: the fast path (no RFC 2231 names) and the slice-based parameter split must
 * give exactly what the general algorithm gives. The reference below is the straightforward
 * version (char-by-char split, regex on every name), kept here as the specification.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mediaType, parseField } from '../../src/inspect/esmtp/mime.js';

function refSplit(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let inQuote = false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inQuote) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) cur += s[++i]!;
      else if (c === '"') inQuote = false;
    } else if (c === '"') {
      inQuote = true;
      cur += c;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth > 0) {
      // comment: dropped
    } else if (c === ';') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function refUnquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith('"')) return t.slice(1, t.endsWith('"') ? t.length - 1 : t.length).replace(/\\(.)/g, '$1');
  if (t.startsWith('"')) return t.slice(1).replace(/\\(.)/g, '$1');
  return t;
}

function refParse(raw: string): { value: string; params: Map<string, string> } {
  const parts = refSplit(raw);
  const value = (parts[0] ?? '').trim();
  const sections = new Map<string, { n: number; ext: boolean; v: string }[]>();
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1);
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key);
    if (!m) continue;
    const ext = m[3] !== undefined;
    let list = sections.get(m[1]!);
    if (!list) sections.set(m[1]!, (list = []));
    list.push({ n: m[2] === undefined ? -1 : Number(m[2]), ext, v: ext ? val.trim() : refUnquote(val) });
  }
  const params = new Map<string, string>();
  for (const [base, list] of sections) {
    const numbered = list.filter((s) => s.n >= 0).sort((a, b) => a.n - b.n);
    const single = list.find((s) => s.n < 0 && s.ext) ?? list.find((s) => s.n < 0);
    const chosen = numbered.length > 0 ? numbered : single ? [single] : [];
    let out = '';
    chosen.forEach((s, idx) => {
      if (!s.ext) {
        out += s.v;
        return;
      }
      let v = s.v;
      if (idx === 0) {
        const q1 = v.indexOf("'");
        const q2 = q1 >= 0 ? v.indexOf("'", q1 + 1) : -1;
        if (q2 >= 0) v = v.slice(q2 + 1);
      }
      out += refUnquote(v).replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    });
    params.set(base, out);
  }
  return { value, params };
}

const piece = fc.constantFrom(';', '=', '"', '\\', '(', ')', '*', '0', '1', "'", '%', '4', '1', ' ', '\t', '\xa0', 'a', 'B', 'name', 'filename', 'boundary', 'text/plain', 'x');
const field = fc.array(piece, { maxLength: 40 }).map((a) => a.join(''));

// Structured fields: a value and parameters with few names, so duplicates and mixed forms are common.
const param = fc
  .tuple(
    fc.constantFrom('name', 'NAME', 'filename', 'a'),
    fc.constantFrom('', '*', '*0', '*1', '*0*', '*1*'),
    fc.constantFrom('x', '"q;uo\\"te"', "UTF-8''%41b", ' v ', '(c)y', ''),
  )
  .map(([n, suffix, v]) => `; ${n}${suffix}=${v}`);
const structured = fc.tuple(fc.constantFrom('text/plain', ' multipart/mixed ', 'a b', ''), fc.array(param, { maxLength: 6 })).map(([v, ps]) => v + ps.join(''));

describe('parseField', () => {
  it('equals the reference algorithm on structured fields (duplicate names, plain and RFC 2231 forms)', () => {
    fc.assert(
      fc.property(structured, (raw) => {
        const got = parseField(raw);
        const want = refParse(raw);
        expect(got.value).toBe(want.value);
        expect([...got.params].sort()).toEqual([...want.params].sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('equals the reference algorithm on random fields (quotes, comments, RFC 2231 names, duplicates)', () => {
    fc.assert(
      fc.property(field, (raw) => {
        const got = parseField(raw);
        const want = refParse(raw);
        expect(got.value).toBe(want.value);
        expect([...got.params].sort()).toEqual([...want.params].sort());
        expect(mediaType(got)).toBe(want.value.split(/\s+/)[0] ?? '');
      }),
      { numRuns: 3000 },
    );
  });

  it('real header values', () => {
    const f = parseField(' multipart/mixed; boundary="==b1=="; charset=us-ascii (comment; here)');
    expect(mediaType(f)).toBe('multipart/mixed');
    expect(f.params.get('boundary')).toBe('==b1==');
    expect(f.params.get('charset')).toBe('us-ascii');
    const g = parseField("attachment; filename*0*=UTF-8''a%41; filename*1=b; filename=plain");
    expect(g.params.get('filename')).toBe('aAb');
  });
});
