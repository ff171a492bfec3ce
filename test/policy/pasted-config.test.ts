/**
 * Pasted `show running-config` text as admins really paste it: pager prompts (`<--- More --->`,
 * erased by CR or by backspaces and spaces) and a column-1 line that breaks a policy block. The
 * admin must never be silently left without inspection.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { renderTerminalLine } from '../../src/policy/lexer.js';
import { compilePolicyText, loadPolicy } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { REPO_ROOT } from '../helpers/shared.js';

const FIXTURE = readFileSync(path.join(REPO_ROOT, 'test/policy/fixtures/asa-running-config.txt'), 'utf8');
const MORE = '<--- More --->';
const ERASE_BS = '\b'.repeat(14) + ' '.repeat(14) + '\b'.repeat(14);
const flow: FlowTuple = { ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '203.0.113.50', serverPort: 25, ingressInterface: 'dmz' };

/** The fixture with the pager prompt printed over the line that holds `needle`. */
function withPrompt(needle: string, erase: (line: string) => string): string {
  const lines = FIXTURE.split('\n');
  const k = lines.findIndex((l) => l === needle);
  expect(k).toBeGreaterThan(0);
  lines[k] = erase(lines[k] as string);
  return lines.join('\n');
}

describe('pager prompts in a pasted show running-config', () => {
  it('renders CR and BS overwrites as the terminal showed them', () => {
    expect(renderTerminalLine(`${MORE}\r              \r  inspect esmtp `)).toEqual({ text: '  inspect esmtp ', pager: true });
    expect(renderTerminalLine(`${MORE}${ERASE_BS} ip address 10.1.1.1 255.255.255.0`).text.trimEnd()).toBe(' ip address 10.1.1.1 255.255.255.0');
    expect(renderTerminalLine(MORE)).toEqual({ text: '', pager: true });
    expect(renderTerminalLine(' match port tcp eq 25')).toEqual({ text: ' match port tcp eq 25', pager: false });
  });

  const base = compilePolicyText(FIXTURE, 'clean.txt');
  for (const [name, erase] of [
    ['erased with CR (the reviewer case)', (l: string) => `${MORE}\r              \r${l}`],
    ['erased with backspaces and spaces', (l: string) => `${MORE}${ERASE_BS}${l}`],
    ['on its own line before the line', (l: string) => `${MORE}\n              \n${l}`],
  ] as const) {
    it(`inside a policy block, ${name}: the block's inspect esmtp is kept, with a counted note`, () => {
      const text = withPrompt('  inspect esmtp _default_esmtp_map', erase);
      const p = compilePolicyText(text, 'more.txt');
      expect(p.classify(flow)).toMatchObject({ className: 'ESMTP-CLASS' });
      expect(p.classify(flow).esmtp?.name).toBe('_default_esmtp_map');
      expect(p.normalized().split('\n').slice(2)).toEqual(base.normalized().split('\n').slice(2));
      expect(p.warnings).toHaveLength(1);
      expect(p.warnings[0]).toMatchObject({ level: 'note' });
      expect(p.warnings[0]?.message).toMatch(/^1 pager prompt\(s\) "<--- More --->" removed/);
    });
  }

  it('line numbers stay those of the file (a CR inside a line does not start a new one)', () => {
    const text = withPrompt('  inspect esmtp _default_esmtp_map', (l) => `${MORE}\r              \r${l}x`);
    const line = FIXTURE.split('\n').indexOf('  inspect esmtp _default_esmtp_map') + 1;
    let err: unknown;
    try {
      compilePolicyText(text, 'more.txt');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect(err).toMatchObject({ line, column: 17, code: 'E_POLICY_REFERENCE' });
    expect((err as PolicyError).message).toMatch(/"_default_esmtp_mapx" is not defined/);
  });
});

describe('policy lines lost to a block opened by an unknown column-1 word', () => {
  it('a stray line inside global_policy is a warning naming the lost inspect esmtp (exit code unchanged)', async () => {
    const text = FIXTURE.replace(' class ESMTP-CLASS\n  inspect esmtp _default_esmtp_map\n', ' class ESMTP-CLASS\n--More--\n  inspect esmtp _default_esmtp_map\n');
    expect(text).not.toBe(FIXTURE);
    const p = compilePolicyText(text, 'stray.txt');
    // as the ASA would: the class lost its inspection
    expect(p.classify(flow).esmtp).toBeNull();
    const w = p.warnings.filter((x) => x.level === 'warning');
    expect(w).toHaveLength(1);
    const line = text.split('\n').indexOf('--More--') + 1;
    expect(w[0]?.line).toBe(line);
    expect(w[0]?.message).toMatch(/"--More--" is not an ASA command we know; it ended class ESMTP-CLASS, and 2 policy line\(s\) after it were ignored/);
    expect(w[0]?.message).toContain(`from line ${line + 1} "inspect esmtp _default_esmtp_map"`);

    // loadPolicy prints it (stderr by default) and still returns the policy
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-warn-'));
    const file = path.join(dir, 'stray.txt');
    writeFileSync(file, text);
    const printed: string[] = [];
    await loadPolicy(file, { warn: (l) => printed.push(l) });
    expect(printed).toEqual([`smtp-inspect: ${file}:${line}: warning: ${w[0]?.message}`]);
  });

  it('known unmodelled blocks (interfaces, inspect dns maps) raise no warning, even with match/parameters lines', () => {
    expect(compilePolicyText(FIXTURE, 'clean.txt').warnings).toEqual([]);
    const dns = 'policy-map type inspect dns preset_dns_map\n parameters\n  message-length maximum client auto\n match header-flag RD\n  drop\n';
    expect(compilePolicyText(dns, 'dns.txt').warnings).toEqual([]);
  });

  it('an unknown word whose block holds no policy lines is only listed in ignored', () => {
    const p = compilePolicyText('frobnicate 1\n nothing here\npolicy-map global_policy\n class inspection_default\n  inspect esmtp\n', 'x');
    expect(p.warnings).toEqual([]);
    expect(p.ignored.map((i) => i.line)).toEqual([1, 2]);
  });
});
