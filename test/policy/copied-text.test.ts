/**
 * Configuration text copied from a web page, PDF, word processor or e-mail rather than from the
 * device: Cisco's HTML guides indent examples with no-break spaces (U+00A0), and Word/Outlook turn
 * `"` into “ ”. Before, a U+00A0-indented line was one unknown word (`\u00a0match`): the policy lines
 * were ignored without a warning and the factory default applied.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from '../replay/helpers.js';

const NB = '\u00a0';
const flow: FlowTuple = { ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '10.0.0.25', serverPort: 25, ingressInterface: 'outside' };

/** A map as copied from an HTML page: every indentation blank is U+00A0, some separators too. */
const COPIED = `regex FROM_EXAMPLE "@example\\.test"
policy-map${NB}type inspect esmtp _default_esmtp_map
${NB}parameters
${NB}${NB}no${NB}mask-banner
${NB}match sender-address regex FROM_EXAMPLE
${NB}${NB}drop-connection log
`;

describe('Unicode blanks', () => {
  it('U+00A0 indentation and separators are blanks: the lines are read, with a note naming them', () => {
    const p = compilePolicyText(COPIED, 'copied.txt');
    const m = p.classify(flow).esmtp;
    expect(m?.parameters).toMatchObject({ maskBanner: false });
    expect(m?.matches.map((x) => x.text)).toContain('match sender-address regex FROM_EXAMPLE');
    const note = p.warnings.find((w) => w.level === 'note' && /5 line\(s\) hold non-breaking or other Unicode spaces/.test(w.message));
    expect(note?.line).toBe(2);
    expect(note?.message).toContain('(line 2, 3, 4, 5, 6)');
  });

  it('other Unicode spaces (U+2002, U+202F, U+3000) too, and an error still points at the right column', () => {
    expect(() => compilePolicyText('policy-map type inspect esmtp M\n\u2002match\u202fcmd line length\u3000lt 512\n', 'x.txt')).toThrow(/expected "gt", got "lt"/);
    try {
      compilePolicyText('policy-map type inspect esmtp M\n\u2002match\u202fcmd line length\u3000lt 512\n', 'x.txt');
    } catch (e) {
      expect((e as { column?: number }).column).toBe(24);
    }
  });

  it('a printout indented with U+00A0 is still recognised as one (the printed default map description)', () => {
    const p = compilePolicyText(`policy-map type inspect esmtp _default_esmtp_map\n${NB}description Default ESMTP policy-map\n${NB}match cmd line length gt 512\n${NB}${NB}drop-connection log\n`, 'x.txt');
    expect(p.layering).toMatchObject({ mode: 'snapshot' });
    expect(p.classify(flow).esmtp?.matches.map((x) => x.text)).toEqual(['match cmd line length gt 512']);
  });
});

describe('invisible characters (zero-width space, mid-text BOM, soft hyphen)', () => {
  // Teams/Confluence/Outlook copies put U+200B at wrap points, a concatenated file carries a
  // second BOM (U+FEFF) at its join, a PDF a soft hyphen (U+00AD) where it hyphenated a word
  const ZW = `policy-map type inspect esmtp M\n parameters\n  \u200ballow-tls\n match cmd line len\u00adgth gt 100\n  drop-connection\u200b log\n\ufeffpolicy-map global_policy\n class inspection_default\n  no inspect esmtp\n  inspect esmtp M\n`;

  it('are removed, with the note naming their lines: the policy reads as it looks', () => {
    const p = compilePolicyText(ZW, 'zw.txt');
    const m = p.classify(flow).esmtp;
    expect(m?.name).toBe('M');
    expect(m?.parameters).toMatchObject({ allowTls: expect.anything() });
    expect(m?.matches.map((x) => x.text)).toEqual(['match cmd line length gt 100']);
    const note = p.warnings.find((w) => w.level === 'note' && /invisible zero-width characters/.test(w.message));
    expect(note?.message).toContain('(line 3, 4, 5, 6)');
  });

  it('an error on such a line names the word as seen, not a look-alike', () => {
    expect(() => compilePolicyText('policy-map type inspect esmtp M\n parameters\n  \u200ballow-tlss\n', 'x.txt')).toThrow(/got "allow-tlss"/);
  });
});

describe('typographic quotes in a regex', () => {
  it('are kept as the literal characters they are, with a warning at the line naming the column', () => {
    const p = compilePolicyText('regex BAD \u201c@example\\.test\u201d\n', 'x.txt');
    const w = p.warnings.find((x) => x.level === 'warning' && /regex BAD: typographic quote/.test(x.message));
    expect(w?.line).toBe(1);
    expect(w?.message).toContain('(U+201C) at column 11');
    expect(compilePolicyText('regex GOOD "@example\\.test"\n', 'x.txt').warnings.filter((x) => /typographic/.test(x.message))).toEqual([]);
  });
});

describe.skipIf(!haveShared)('copied text on a real capture (02: MAIL FROM alice@example.test)', () => {
  it('the U+00A0-indented map drops the session and leaves the banner; before, the default let it through', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'copied-'));
    const policy = path.join(dir, 'copied.txt');
    writeFileSync(policy, COPIED);
    const r = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy });
    expect(r.summary.connections.dropped).toBe(1);
    const v = readVerdicts(r.verdicts);
    expect(v.some((x) => x.rule === 'mask-banner')).toBe(false);
  });
});
