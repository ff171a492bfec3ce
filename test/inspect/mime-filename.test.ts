/**
 * Which file name `mime filename length` measures (`mime-filename`). nodemailer writes the
 * Content-Type `name` as RFC 2047 encoded words and the Content-Disposition `filename` as RFC 2231
 * sections; the engine measures an entity's first file name (here the Content-Type `name`). Before
 * the option, RFC 2231 was decoded but RFC 2047 was not, so the same name measured 154 octets in
 * one parameter and 285 in the other, and the default map dropped the connection at a 154-octet
 * name. Real bytes: fixtures/nodemailer-names.pcap (nodemailer 7 -> smtp-server, two attachments
 * named with 75 and 130 Cyrillic letters + ".txt": 154 and 264 octets in UTF-8).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, opts, latin1, type Segment } from './helpers.js';
import { decodeEncodedWords, parseField } from '../../src/inspect/esmtp/mime.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nodemailer-names.pcap');

let segs: Segment[] = [];
let client = '';
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
  client = latin1(Buffer.concat(segs.filter((s) => s.dir === 0).map((s) => s.bytes)));
});

/** Stream offset of the n-th (0-based) "Content-Type: text/plain;\r\n name=" field (an attachment's). */
const attachmentField = (n: number): number => {
  let at = -1;
  for (let k = 0; k <= n; k++) at = client.indexOf('Content-Type: text/plain;\r\n name="=?UTF-8?B?', at + 1);
  return at;
};

describe('mime filename length on nodemailer\'s encoded names (real session)', () => {
  it('the capture: Content-Type name in RFC 2047 words, Content-Disposition filename in RFC 2231 sections', () => {
    expect(attachmentField(0)).toBeGreaterThan(0);
    expect(attachmentField(1)).toBeGreaterThan(attachmentField(0));
    expect(client).toContain("filename*0*=utf-8''%D0%B4%D0%B4");
    expect(latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)))).toContain('250 queued');
  });

  it('default (decoded): the 154-octet name passes, the 264-octet one drops the connection', () => {
    const r = run(defaultMap(), segs);
    const drop = r.verdicts.find((v) => v.action === 'drop-connection');
    expect(drop?.rule).toBe('match MIME filename length gt 255');
    expect(drop?.offset).toBe(attachmentField(1));
    expect(drop?.detail).toBe('Content-Type name of 264 bytes (468 as written; mime-filename=decoded)');
  });

  it('rfc2231 (the behaviour before) and raw measure the encoded words: the first attachment already drops', () => {
    for (const mimeFilename of ['rfc2231', 'raw'] as const) {
      const r = run(defaultMap(), segs, opts({ mimeFilename }));
      const drop = r.verdicts.find((v) => v.action === 'drop-connection');
      expect(drop?.offset).toBe(attachmentField(0));
      expect(drop?.detail).toBe('Content-Type name of 285 bytes');
    }
  });
});

describe('decodeEncodedWords', () => {
  it('B and Q words to octets; white space between adjacent words dropped, other text kept', () => {
    expect(decodeEncodedWords('=?UTF-8?B?0LTQtA==?= =?UTF-8?B?0LQ=?=.txt')).toBe('\xd0\xb4\xd0\xb4\xd0\xb4.txt');
    expect(decodeEncodedWords('=?iso-8859-1?Q?caf=E9_au_lait?=.pdf')).toBe('caf\xe9 au lait.pdf');
    expect(decodeEncodedWords('report =?utf-8?q?n=C2=BA1?= final')).toBe('report n\xc2\xba1 final');
    expect(decodeEncodedWords('plain name.txt')).toBe('plain name.txt');
    expect(decodeEncodedWords('=?broken')).toBe('=?broken');
  });

  it('parseField(…, asWritten) keeps RFC 2231 sections as written (raw)', () => {
    const f = "attachment; filename*0*=utf-8''%D0%B4; filename*1*=%D0%B4.txt";
    expect(parseField(f).params.get('filename')).toBe('\xd0\xb4\xd0\xb4.txt');
    expect(parseField(f, true).params.get('filename')).toBe("utf-8''%D0%B4%D0%B4.txt");
  });
});
