/**
 * What ends a message (`end-of-data`): by default only CR LF . CR LF (RFC 5321 4.1.1.4; PIX
 * Mailguard looked for that string, ASA-ESMTP.md 2.3). A '.' line with a bare LF on either side
 * (<LF>.<LF>, <CR><LF>.<LF>, <LF>.<CR><LF>: the SMTP-smuggling shapes) is message text to a
 * server that follows the RFC. Real bytes: fixtures/bare-lf-dot.pcap, three such messages sent to
 * the npm smtp-server, which answered each with one `250 queued` after the real CR LF . CR LF.
 * Before the option, the engine ended the message at the bare-LF dot, judged the rest of the
 * message as commands and dropped the connection on message text (`MAIL FROM:<|/bin/sh@…>`:
 * pipe-signature, 108003).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, opts, latin1, G, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'bare-lf-dot.pcap');

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

const clientText = (): string => latin1(Buffer.concat(segs.filter((s) => s.dir === 0).map((s) => s.bytes)));
const serverText = (): string => latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)));
/** Every client segment cut into 1-byte segments (server segments kept). */
const byteSplit = (ss: readonly Segment[]): Segment[] =>
  ss.flatMap((s) => (s.dir === 1 || s.gap !== undefined ? [s] : [...s.bytes].map((b) => ({ dir: s.dir, bytes: Buffer.from([b]) }))));
const strip = (r: ReturnType<typeof run>) => ({
  edits: r.edits.map((e) => [e.dir, e.offset, latin1(e.bytes), e.rule]),
  verdicts: r.verdicts.map((v) => [v.dir, v.offset, v.rule, v.action, v.detail]),
  state: r.session.state,
});

describe('end of data on a real session (smtp-server, bare-LF dot lines)', () => {
  it('the capture holds the three shapes, and the server took each as message text (3 x 250 queued)', () => {
    const c = clientText();
    expect(c).toContain('first part\n.\nMAIL FROM:<|/bin/sh@example.test>\r\n');
    expect(c).toContain('second part\r\n.\nRSET\r\n');
    expect(c).toContain('third part\n.\r\nQUIT\r\n');
    // <CR><LF>.<LF> and <LF>.<CR><LF> start a segment with the dot line, the real end is split before its CR LF
    expect(segs.some((s) => s.dir === 0 && latin1(s.bytes) === '.\n')).toBe(true);
    expect(segs.some((s) => s.dir === 0 && latin1(s.bytes).startsWith('.\r\nQUIT\r\n'))).toBe(true);
    expect(serverText().match(/250 queued\r\n/g)).toHaveLength(3);
    expect(serverText()).toContain('221 Bye\r\n');
  });

  it('default (crlf): the messages end where the server ended them; no client byte changed, no verdict on message text', () => {
    const r = run(defaultMap(), segs, opts({ unexpectedTransition: 'log' }));
    expect(r.out[0].equals(r.input[0])).toBe(true);
    expect(r.verdicts.filter((v) => v.dir === 0)).toEqual([]);
    // replies pair with their commands: every 250 queued answers an end of data, 221 answers QUIT
    expect(r.verdicts.map((v) => v.rule)).not.toContain('unexpected-transition');
    expect(r.verdicts.map((v) => v.rule)).not.toContain('x-divergence');
    expect(r.session.state).toBe('inspecting');
  });

  it('end-of-data=lf: the bare-LF dot ends the message, the rest is judged as commands (the dropped session of before)', () => {
    const r = run(defaultMap(), segs, opts({ endOfData: 'lf' }));
    const drop = r.verdicts.find((v) => v.action === 'drop-connection');
    expect(drop?.rule).toBe('pipe-signature');
    expect(drop?.syslog[0]).toContain('%ASA-2-108003');
    expect(latin1(r.input[0].subarray(drop!.offset - 11, drop!.offset + 1))).toBe('MAIL FROM:<|');
    expect(r.session.state).toBe('dropped');
  });

  it('the decision does not depend on segmentation (client bytes one per segment, line judging)', () => {
    for (const endOfData of ['crlf', 'lf'] as const) {
      const o = opts({ judging: 'line', endOfData });
      expect(strip(run(defaultMap(), byteSplit(segs), o))).toEqual(strip(run(defaultMap(), segs, o)));
    }
  });

  it('after a gap inside a message, a bare-LF dot does not resynchronise (crlf); it does with lf', () => {
    // the first message's segment loses its first 5 bytes ("Subje"): DATA state kept, only the end is looked for
    const i = segs.findIndex((s) => s.dir === 0 && latin1(s.bytes).startsWith('Subject: one'));
    expect(i).toBeGreaterThan(0);
    const cut = segs[i]!.bytes;
    const holed = [...segs.slice(0, i), G(0, 5), { dir: 0 as const, bytes: cut.subarray(5) }, ...segs.slice(i + 1)];
    const strict = run(defaultMap(), holed);
    expect(strict.verdicts.filter((v) => v.dir === 0 && v.rule !== 'gap')).toEqual([]);
    expect(strict.out[0].equals(strict.input[0])).toBe(true);
    const note = strict.verdicts.find((v) => v.rule === 'gap');
    expect(note?.detail).toContain('resynchronised at the end of data (CRLF.CRLF)');
    // inspection resumed right after the real end: the LF of "still the message" CR LF . CR LF
    const start = latin1(strict.input[0]).indexOf('ct: one') - 5; // the hole's bytes are zeros in input
    const realEnd = latin1(strict.input[0]).indexOf('still the message\r\n.\r\n') + 'still the message\r\n.\r\n'.length;
    expect(note?.detail).toContain(`not inspected: client stream offsets ${start}-${realEnd} `);
    const lenient = run(defaultMap(), holed, opts({ endOfData: 'lf' }));
    expect(lenient.verdicts.find((v) => v.action === 'drop-connection')?.rule).toBe('pipe-signature');
  });
});
