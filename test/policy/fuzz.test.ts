import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PolicyError } from '../../src/errors.js';
import { DEFAULT_POLICY_TEXT } from '../../src/policy/default-policy.js';
import { compilePolicyText } from '../../src/policy/load.js';
import { REPO_ROOT } from '../helpers/shared.js';

const FIXTURE = readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/asa-running-config.txt'), 'utf8');
const CORPUS = [FIXTURE, DEFAULT_POLICY_TEXT];
const WORDS = [
  'match', 'not', 'cmd', 'verb', 'line', 'length', 'gt', 'RCPT', 'count', 'regex', 'class', 'policy-map', 'type', 'inspect', 'esmtp',
  'class-map', 'access-list', 'extended', 'permit', 'deny', 'tcp', 'any', 'host', 'eq', 'range', 'object', 'object-group', 'network',
  'service', 'parameters', 'mask-banner', 'no', 'drop-connection', 'log', 'mask', 'reset', 'rate-limit', 'set', 'connection',
  'conn-max', 'service-policy', 'global', 'interface', '"', '(', ')', '[', '\\x4', '25', '-1', '999999999999', '10.0.0.1',
  '255.255.255.0', '2001:db8::/64', 'smtp', 'mime', 'filetype', 'sender-address', 'ehlo-reply-parameter', 'others', '\t', 'exit',
];

/** Only PolicyError may escape; anything else is a bug. Then the policy must be usable. */
function check(text: string): void {
  try {
    const p = compilePolicyText(text, 'fuzz.cfg');
    p.normalized();
    p.esmtpPorts();
    p.classify({ ipVersion: 4, clientIp: '10.0.0.1', clientPort: 1025, serverIp: '192.0.2.25', serverPort: 25, ingressInterface: 'inside' });
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(['E_POLICY_SYNTAX', 'E_POLICY_REFERENCE', 'E_POLICY_VALUE']).toContain(e.code);
  }
}

describe('policy fuzzing: nothing but PolicyError escapes', () => {
  it('random lines of policy words', () => {
    const line = fc.array(fc.constantFrom(...WORDS), { maxLength: 8 }).map((ws) => ws.join(' '));
    const indent = fc.constantFrom('', ' ', '  ');
    fc.assert(
      fc.property(fc.array(fc.tuple(indent, line), { maxLength: 25 }), (lines) => check(lines.map(([i, l]) => i + l).join('\n'))),
      { numRuns: 400 },
    );
  });

  it('mutated real configs (lines dropped, duplicated, characters replaced)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CORPUS),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('drop', 'dup', 'char', 'cut', 'swap')), { minLength: 1, maxLength: 6 }),
        fc.string({ maxLength: 3 }),
        (base, edits, junk) => {
          const lines = base.split('\n');
          for (const [a, b, op] of edits) {
            const k = a % lines.length;
            const l = lines[k] ?? '';
            if (op === 'drop') lines.splice(k, 1);
            else if (op === 'dup') lines.splice(k, 0, l);
            else if (op === 'char') lines[k] = l.slice(0, b % (l.length + 1)) + junk + l.slice((b % (l.length + 1)) + 1);
            else if (op === 'cut') lines[k] = l.slice(0, b % (l.length + 1));
            else {
              const j = b % lines.length;
              lines[k] = lines[j] ?? '';
              lines[j] = l;
            }
          }
          check(lines.join('\n'));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('arbitrary unicode text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => check(s)), { numRuns: 300 });
  });
});
