/**
 * A policy file saved as UTF-16: Windows PowerShell 5's `>` and `Out-File` write UTF-16LE with a
 * byte-order mark, so `ssh fw "show running-config" > fw.txt` there gives such a file. Before, it
 * was read as UTF-8 and refused at its first character ("unexpected control character 0x00").
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePolicyBytes, loadPolicy } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const TEXT = 'regex FROM_EXAMPLE "@example\\.test"\r\npolicy-map type inspect esmtp _default_esmtp_map\r\n match sender-address regex FROM_EXAMPLE\r\n  drop-connection log\r\n';
const flow: FlowTuple = { ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '10.0.0.25', serverPort: 25, ingressInterface: 'outside' };

const utf16le = (s: string, bom: boolean) => Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(s, 'utf16le')]);
const utf16be = (s: string, bom: boolean) => {
  const b = Buffer.from(s, 'utf16le').swap16();
  return Buffer.concat([bom ? Buffer.from([0xfe, 0xff]) : Buffer.alloc(0), b]);
};

function file(bytes: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'enc-'));
  const f = path.join(dir, 'fw.txt');
  writeFileSync(f, bytes);
  return f;
}

describe('policy file encodings', () => {
  it('UTF-16LE/BE with or without byte-order mark decode to the same text; UTF-8 (with its BOM) stays UTF-8', () => {
    for (const [b, enc] of [
      [utf16le(TEXT, true), 'utf-16le'],
      [utf16le(TEXT, false), 'utf-16le'],
      [utf16be(TEXT, true), 'utf-16be'],
      [utf16be(TEXT, false), 'utf-16be'],
    ] as const) {
      expect(decodePolicyBytes(b)).toEqual({ text: TEXT, encoding: enc });
    }
    expect(decodePolicyBytes(Buffer.from(`\ufeff${TEXT}`, 'utf8'))).toEqual({ text: `\ufeff${TEXT}`, encoding: 'utf-8' });
    expect(decodePolicyBytes(Buffer.from('ü', 'utf8')).encoding).toBe('utf-8');
  });

  it('loadPolicy reads a UTF-16LE file as the policy it holds, with a note', async () => {
    const lines: string[] = [];
    const p = await loadPolicy(file(utf16le(TEXT, true)), { warn: (l) => lines.push(l) });
    expect(p.classify(flow).esmtp?.matches.map((x) => x.text)).toContain('match sender-address regex FROM_EXAMPLE');
    expect(lines.some((l) => /fw\.txt:1: note: read as UTF-16LE/.test(l))).toBe(true);
  });
});

/** The bytes `iconv -t WINDOWS-1252` gives (Notepad's "ANSI"), or null without iconv. */
function cp1252(s: string): Buffer | null {
  const r = spawnSync('iconv', ['-f', 'UTF-8', '-t', 'WINDOWS-1252'], { input: Buffer.from(s, 'utf8') });
  return r.status === 0 ? r.stdout : null;
}

// a guide copied into Notepad and saved as ANSI: U+00A0 indentation is byte 0xA0, curly quotes 0x93/0x94
const COPIED_1252 = 'regex FROM_EXAMPLE \u201c@example\\.test\u201d\r\npolicy-map type inspect esmtp _default_esmtp_map\r\n\u00a0parameters\r\n\u00a0\u00a0no mask-banner\r\n\u00a0match cmd line length gt 100\r\n\u00a0\u00a0drop-connection log\r\n';

describe.skipIf(cp1252('x') === null)('a Windows-1252 ("ANSI") policy file', () => {
  it('is decoded as Windows-1252 (0xA0 a no-break space, 0x93/0x94 curly quotes), not as UTF-8 replacement characters', () => {
    const b = cp1252(COPIED_1252) as Buffer;
    expect(b.includes(0xa0)).toBe(true);
    expect(b.includes(0x93)).toBe(true);
    expect(decodePolicyBytes(b)).toEqual({ text: COPIED_1252, encoding: 'windows-1252' });
  });

  it('loadPolicy reads its no-break-space-indented lines (before: ignored without a warning), with notes', async () => {
    const lines: string[] = [];
    const p = await loadPolicy(file(cp1252(COPIED_1252) as Buffer), { warn: (l) => lines.push(l) });
    const m = p.classify(flow).esmtp;
    expect(m?.parameters).toMatchObject({ maskBanner: false });
    expect(m?.matches.map((x) => x.text)).toContain('match cmd line length gt 100');
    expect(lines.some((l) => /fw\.txt:1: note: read as WINDOWS-1252/.test(l))).toBe(true);
    expect(lines.some((l) => /typographic quote/.test(l))).toBe(true);
  });
});

describe.skipIf(!haveShared)('a UTF-16 policy file on a real capture', () => {
  it('02 (alice@example.test) is dropped by the sender regex of a UTF-16LE policy', async () => {
    const r = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), { policy: file(utf16le(TEXT, true)) });
    expect(r.summary.connections.dropped).toBe(1);
  });
});
