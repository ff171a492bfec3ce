/**
 * Header field names followed by white space before the colon (RFC 5322 4.5.x obsolete syntax,
 * `obs-optional = field-name *WSP ":"`; mail parsers still read them): `TO :` is a To field for
 * `header to-fields count`, `Content-Disposition<TAB>:` a Content-Disposition for `mime filename
 * length`. Before, the blank stayed part of the name, so both were missed. Real bytes:
 * fixtures/obs-header.pcap (a message sent to the npm smtp-server, which queued it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, mapFrom, latin1, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'obs-header.pcap');

let segs: Segment[] = [];
let client = '';
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
  client = latin1(Buffer.concat(segs.filter((s) => s.dir === 0).map((s) => s.bytes)));
});

describe('header field names with white space before the colon (real session)', () => {
  it('the capture holds "TO :" and "Content-Disposition<TAB>:" with a 300-byte file name; the server queued it', () => {
    expect(client).toContain('\r\nTO : c@example.test\r\n');
    expect(client).toContain(`\r\nContent-Disposition\t: attachment; filename="${'f'.repeat(296)}.bin"\r\n`);
    expect(latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)))).toContain('250 queued');
  });

  it('"TO :" is the second To field', () => {
    const map = mapFrom('policy-map type inspect esmtp M\n match header to-fields count gt 1\n  log\n');
    const r = run(map, segs);
    const v = r.verdicts.filter((x) => x.rule === 'match header to-fields count gt 1');
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toBe('To: header field #2');
    expect(v[0]!.offset).toBe(client.indexOf('TO : c@') + 'TO '.length);
  });

  it('"Content-Disposition<TAB>:" is read: the default map drops the connection at its 300-byte file name', () => {
    const r = run(defaultMap(), segs);
    const drop = r.verdicts.find((v) => v.action === 'drop-connection');
    expect(drop?.rule).toBe('match MIME filename length gt 255');
    expect(drop?.detail).toBe('Content-Disposition filename of 300 bytes');
    expect(drop?.offset).toBe(client.indexOf('Content-Disposition\t:'));
  });
});
