/**
 * BDAT to a server that does not offer CHUNKING (`bdat-chunk=offered`, the default): the server
 * rejects BDAT and reads the chunk's bytes as commands (RFC 3030 2), and the ASA, which does not
 * know BDAT at all (X's it), judges them as commands too. Before, the engine always skipped the
 * chunk as opaque, so a command hidden in it (`MAIL FROM:<|/bin/sh@…>`) reached the server
 * uninspected. Real bytes: fixtures/bdat-not-offered.pcap (npm smtp-server, which offers no
 * CHUNKING: BDAT after HELO, then after EHLO). The chunk stays opaque when CHUNKING was offered
 * (MANIFEST 06, Postfix: test/inspect/scenarios.test.ts) or when it is unknown.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, opts, latin1, C, S, G, GREETING, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'bdat-not-offered.pcap');

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

const text = (dir: 0 | 1): string => latin1(Buffer.concat(segs.filter((s) => s.dir === dir).map((s) => s.bytes)));

describe('BDAT chunk to a server that offers no CHUNKING (real smtp-server session)', () => {
  it('the server rejects BDAT and answers the chunk lines as commands', () => {
    expect(text(0)).toContain('BDAT 21 LAST\r\nNOOP\r\nHello there!!\r\n');
    expect(text(0)).toContain('BDAT 35 LAST\r\nMAIL FROM:<|/bin/sh@example.test>\r\n');
    expect(text(1)).not.toMatch(/CHUNKING/i);
    expect(text(1)).toContain('500 Error: command not recognized\r\n250 OK\r\n500 Error: command not recognized\r\n');
    expect(text(1)).toContain('503 Error: nested MAIL command\r\n');
  });

  it('default (offered): the chunk is judged as commands: after HELO "Hello" is X\'d, after EHLO the piped MAIL closes the session', () => {
    const r = run(defaultMap(), segs);
    const out = latin1(r.out[0]);
    expect(out).toContain('XXXXXXXXXXXX\r\nNOOP\r\nXXXXXXXXXXXXX\r\n');
    const x = r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail);
    expect(x).toEqual(['"BDAT": CHUNKING is not supported', '"Hello": not a supported command', '"BDAT": CHUNKING is not supported']);
    const drop = r.verdicts.find((v) => v.action === 'drop-connection');
    expect(drop?.rule).toBe('pipe-signature');
    expect(drop?.syslog[0]).toContain('%ASA-2-108003');
    expect(drop?.syslog[0]).toContain('Mail Address:|/bin/sh@example.test');
    expect(r.session.state).toBe('dropped');
  });

  it('bdat-chunk=opaque (the old behaviour) skips both chunks: nothing in them is seen', () => {
    const r = run(defaultMap(), segs, opts({ bdatChunk: 'opaque' }));
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command')).toHaveLength(2);
    expect(r.verdicts.some((v) => v.action === 'drop-connection')).toBe(false);
    expect(r.session.state).toBe('inspecting');
  });

  it('offered: CHUNKING in the EHLO reply (any case), or a server gap that may have held the reply, keeps the chunk opaque', () => {
    const chunk = 'MAIL FROM:<|x>\r\n';
    const ehlo = S('250-mx.example.test\r\n250-PIPELINING\r\n250 chunking\r\n');
    const offered = run(defaultMap(), [GREETING, C('EHLO c\r\n'), ehlo, C(`BDAT ${chunk.length} LAST\r\n${chunk}`)]);
    expect(offered.session.state).toBe('inspecting');
    // a server gap may have held the EHLO reply: unknown, opaque
    const unknown = run(defaultMap(), [GREETING, C('EHLO c\r\n'), G(1, 40), C(`BDAT ${chunk.length} LAST\r\n${chunk}`), S('250 ok\r\n')]);
    expect(unknown.verdicts.some((v) => v.action === 'drop-connection')).toBe(false);
    // no EHLO at all: nothing was offered
    const none = run(defaultMap(), [GREETING, C(`BDAT ${chunk.length} LAST\r\n${chunk}`)]);
    expect(none.session.state).toBe('dropped');
    // a later EHLO reply without CHUNKING decides again
    const again = run(defaultMap(), [GREETING, C('EHLO c\r\n'), ehlo, C('EHLO c\r\n'), S('250-mx\r\n250 PIPELINING\r\n'), C(`BDAT ${chunk.length} LAST\r\n${chunk}`)]);
    expect(again.session.state).toBe('dropped');
  });
});
