/**
 * Fuzz target "policy": real ASA configurations (the project's case policies, the test fixture
 * running-config, the factory default, the rich map) mutated at byte level by the driver and at
 * line/token level here, through compilePolicyText. Defined outcomes: a compiled policy or a
 * PolicyError with its code and line:column. A policy that compiles must also be usable: every
 * ESMTP map it defines runs a short real session through the engine (its regexes included).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PolicyError } from '../../errors.js';
import { defaultEngineOptions } from '../../inspect/options.js';
import { compilePolicyText, defaultPolicyText } from '../../policy/load.js';
import { REPO_ROOT } from '../corpus.js';
import { registerFuzzTarget } from '../fuzz-registry.js';
import { Prng } from '../prng.js';
import { RICH_POLICY_TEXT } from './rich-policy.js';
import { cachedSeed } from './seed-streams.js';
import { runEngine } from './smtp-engine.js';

const SESSION: Array<[0 | 1, string]> = [
  [1, '220 mx.example.test ESMTP Postfix\r\n'],
  [0, 'EHLO client.example.test\r\n'],
  [1, '250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-8BITMIME\r\n250 CHUNKING\r\n'],
  [0, 'MAIL FROM:<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac@example.test>\r\n'],
  [1, '250 2.1.0 Ok\r\n'],
  [0, 'RCPT TO:<bob@example.test>\r\n'],
  [1, '250 2.1.5 Ok\r\n'],
  [0, 'DATA\r\n'],
  [1, '354 End data with <CR><LF>.<CR><LF>\r\n'],
  [0, 'From: a@example.test\r\nTo: b@example.test\r\nContent-Type: application/x-msdownload; name="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.exe"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nhello\r\n.\r\n'],
  [1, '250 2.0.0 Ok: queued\r\n'],
  [0, 'VRFY bob\r\nXEXCH50 1 2\r\nQUIT\r\n'],
  [1, '221 2.0.0 Bye\r\n'],
];

const HOSTILE_TOKENS = ['0', '-1', '4294967296', '99999999999999999999', '"(a|aa)*b"', '"(a*)*b"', '"((((((((((a))))))))))*"', 'x{255}{255}', '[', '(', '\\', '"', '', 'gt', 'not', 'drop-connection', 'reset', 'log', 'mask', '\u0000', '\u00ff\u00fe'];

/** Line and token mutations: duplicate, delete, swap lines; replace a token by a hostile one. */
export function mutatePolicyText(text: string, rng: Prng): string {
  const lines = text.split('\n');
  const n = rng.int(1, 4);
  for (let i = 0; i < n && lines.length > 0; i++) {
    const k = rng.int(0, lines.length - 1);
    switch (rng.int(0, 4)) {
      case 0:
        lines.splice(rng.int(0, lines.length), 0, lines[k]!);
        break;
      case 1:
        lines.splice(k, 1);
        break;
      case 2: {
        const j = rng.int(0, lines.length - 1);
        const t = lines[k]!;
        lines[k] = lines[j]!;
        lines[j] = t;
        break;
      }
      case 3: {
        const toks = lines[k]!.split(' ');
        toks[rng.int(0, toks.length - 1)] = rng.pick(HOSTILE_TOKENS);
        lines[k] = toks.join(' ');
        break;
      }
      case 4:
        lines[k] = lines[k]!.replace(/^\s+/, rng.chance(0.5) ? '' : '  ');
        break;
    }
  }
  return lines.join('\n');
}

/** Compiles the text; when it compiles, runs the sample session through every ESMTP map. */
export function compileAndUse(text: string): void {
  const policy = compilePolicyText(text, 'fuzz-policy.txt');
  for (const map of policy.esmtpMaps.values()) {
    runEngine(map, defaultEngineOptions(), SESSION.map(([dir, s]) => ({ dir, bytes: Buffer.from(s, 'latin1'), gap: 0 })));
  }
}

export function policyTarget(input: Buffer): void {
  const text = input.toString('utf8');
  let err: unknown = null;
  try {
    compileAndUse(text);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    err = e;
  }
  // The same input mutated at line/token level, seeded by its hash.
  const seed = crypto.createHash('sha256').update(input).digest().readUInt32LE(0);
  compileAndUse(mutatePolicyText(text, new Prng(seed)));
  if (err !== null) throw err;
}

function isPolicyError(err: unknown): boolean {
  if (!(err instanceof PolicyError)) return false;
  // A defined error names where: line and column.
  return err.line !== undefined && err.line >= 1;
}

export function policySeeds(): string[] {
  const out: string[] = [];
  const captures = path.join(REPO_ROOT, 'captures');
  if (fs.existsSync(captures)) {
    for (const d of fs.readdirSync(captures).sort()) {
      const p = path.join(captures, d, 'policy.txt');
      if (fs.existsSync(p)) out.push(p);
    }
  }
  const fixtures = path.join(REPO_ROOT, 'test', 'policy', 'fixtures');
  if (fs.existsSync(fixtures)) for (const f of fs.readdirSync(fixtures).sort()) if (f.endsWith('.txt')) out.push(path.join(fixtures, f));
  out.push(cachedSeed('policy', 'v1-rich.txt', () => Buffer.from(RICH_POLICY_TEXT, 'utf8')));
  out.push(cachedSeed('policy', 'v1-default.txt', () => Buffer.from(defaultPolicyText(), 'utf8')));
  return out;
}

registerFuzzTarget({
  name: 'policy',
  description: 'real ASA configurations mutated (bytes, lines, tokens) through the policy compiler; compiled maps run a real session',
  seeds: policySeeds,
  run: async (input) => {
    policyTarget(input);
  },
  isExpectedError: isPolicyError,
});
