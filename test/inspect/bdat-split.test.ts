/**
 * A BDAT line whose verb is split over two TCP segments (segment judging): the ASA X's the
 * fragment and the rest of its line, as it X's every BDAT line (CHUNKING unsupported), while the
 * server, which offered CHUNKING and reads the stream, takes the next n bytes as chunk data. Before,
 * only a BDAT judged whole skipped its chunk (`bdat-chunk=offered`); a split one (`BD` + `AT 725
 * LAST`: where TCP cuts a stream of pipelined chunks is arbitrary, RFC 3030 4.2) had its chunk
 * judged as command lines: every line X'd and a 700-byte body line dropped the connection
 * (`cmd line length gt 512`, 108004 + 507003). Same bytes, other segmentation, other verdict.
 * Real bytes: fixtures/bdat-split.pcap (make-bdat-split.py).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, opts, latin1, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'bdat-split.pcap');

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

describe('BDAT split inside its verb (real session, CHUNKING offered)', () => {
  it('the capture cuts BDAT as BD|AT and B|DAT, and the server took both chunks as data', () => {
    const client = segs.filter((s) => s.dir === 0).map((s) => latin1(s.bytes));
    expect(client.some((s) => s.endsWith('\r\nBD'))).toBe(true);
    expect(client.some((s) => s.startsWith('AT 725 LAST\r\nSubject: split BDAT\r\n'))).toBe(true);
    expect(client.some((s) => s.startsWith('BDAT 23\r\n') && s.endsWith('\r\nB'))).toBe(true);
    expect(client.some((s) => s.startsWith('DAT 725 LAST\r\n'))).toBe(true);
    const server = latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)));
    expect(server.match(/250 2\.0\.0 Ok: 725 octets, queued\r\n/g)).toHaveLength(2);
  });

  it('default: each BDAT line is X\'d (fragments too) and every chunk passes unchanged, no drop', () => {
    const r = run(defaultMap(), segs);
    expect(r.session.state).toBe('inspecting');
    expect(r.verdicts.some((v) => v.action === 'drop-connection' || v.syslog.length > 0)).toBe(false);
    const x = r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail);
    expect(x).toEqual([
      '"BD": line fragment is not a complete known verb within its segment',
      '"BDAT": CHUNKING is not supported',
      '"B": line fragment is not a complete known verb within its segment',
    ]);
    const chunk = 'Subject: split BDAT\r\n\r\n' + 'A'.repeat(700) + '\r\n';
    expect(latin1(r.out[0])).toBe(
      'EHLO client.example.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n' +
        'XXXXXXXXXXXXX\r\n' + chunk +
        'MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n' +
        'XXXXXXX\r\nSubject: two chunks\r\n\r\n' +
        'XXXXXXXXXXXXX\r\n' + chunk + 'QUIT\r\n',
    );
  });

  it('the same session with every BDAT verb whole in its segment gives the same bytes and verdict actions', () => {
    // each client segment that ends inside the verb takes the next client segment's bytes (the
    // server's replies in between answer MAIL and RCPT, sent before)
    const whole: Segment[] = [];
    let cut = -1;
    for (const seg of segs) {
      if (seg.dir === 0 && cut >= 0) {
        const prev = whole[cut]!;
        whole[cut] = { ...prev, bytes: Buffer.concat([prev.bytes, seg.bytes]) };
        cut = -1;
        continue;
      }
      whole.push(seg);
      if (seg.dir === 0 && /\r\nBD?$/.test(latin1(seg.bytes))) cut = whole.length - 1;
    }
    expect(whole.length).toBe(segs.length - 2);
    const a = run(defaultMap(), segs);
    const b = run(defaultMap(), whole);
    expect(latin1(b.out[0])).toBe(latin1(a.out[0]));
    expect(b.verdicts.map((v) => v.action)).toEqual(a.verdicts.map((v) => v.action));
  });

  it('bdat-chunk=commands judges the chunks as lines: the 700-byte line drops the connection', () => {
    const r = run(defaultMap(), segs, opts({ bdatChunk: 'commands' }));
    expect(r.verdicts.find((v) => v.action === 'drop-connection')?.rule).toBe('match cmd line length gt 512');
  });
});
