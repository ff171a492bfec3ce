/**
 * Command phase: exact bytes in and out for verbs, unknown commands, segment vs line judging,
 * pipelining, AUTH, BDAT, STARTTLS, DATA state, MAIL/RCPT addresses, RCPT counts, line lengths.
 */
import { describe, expect, it } from 'vitest';
import { run, C, S, GREETING, defaultMap, mapFrom, opts, latin1 } from './helpers.js';

const NO_MASK = `policy-map type inspect esmtp M
 parameters
  no mask-banner
`;
const plain = () => mapFrom(NO_MASK);

describe('unknown commands are X substituted (CR LF kept, length kept)', () => {
  it.each([
    ['BDAT 12 LAST\r\n', 'XXXXXXXXXXXX\r\n'],
    ['VERB\r\n', 'XXXX\r\n'],
    ['X-LINK2STATE first chunk\r\n', 'XXXXXXXXXXXXXXXXXXXXXXXX\r\n'],
    ['expn staff\r\n', 'XXXXXXXXXX\r\n'],
    ['HEL\r\n', 'XXX\r\n'],
    ['QUITX\r\n', 'XXXXX\r\n'],
    [' HELO x\r\n', 'XXXXXXX\r\n'],
    ['STARTTLS\r\n', 'XXXXXXXX\r\n'],
    ['\r\n', '\r\n'],
  ])('%j -> %j', (line, expected) => {
    const r = run(plain(), [GREETING, C(line)]);
    expect(latin1(r.out[0])).toBe(expected);
  });

  it.each(['DATA', 'HELO x', 'MAIL FROM:<a@b>', 'NOOP', 'QUIT', 'RCPT TO:<a@b>', 'RSET', 'AUTH PLAIN AAAA', 'EHLO x', 'ETRN x', 'HELP', 'SAML FROM:<a@b>', 'SEND FROM:<a@b>', 'SOML FROM:<a@b>', 'VRFY bob', 'helo x', 'eHlO x'])(
    'the known verb in %j passes untouched',
    (line) => {
      const r = run(plain(), [GREETING, C(line + '\r\n')]);
      expect(latin1(r.out[0])).toBe(line + '\r\n');
      expect(r.verdicts.filter((v) => v.rule === 'unknown-command')).toEqual([]);
    },
  );

  it('an unknown command gets one x-substitute verdict at the line start', () => {
    const r = run(plain(), [GREETING, C('NOOP\r\nXEXCH50 1024 2\r\n')]);
    expect(r.verdicts).toEqual([
      { dir: 0, offset: 6, rule: 'unknown-command', action: 'x-substitute', syslog: [], detail: '"XEXCH50": not a supported command' },
    ]);
    expect(r.edits.map((e) => [e.offset, latin1(e.bytes), e.rule])).toEqual([
      [6, 'XXXXXXX', 'unknown-command'],
      [13, 'XXXXXXX', 'unknown-command'],
    ]);
  });
});

describe('segment-level judging (default) vs line-level judging', () => {
  const telnet = [GREETING, C('H'), C('E'), C('L'), C('O'), C(' '), C('x'), C('\r\n')];
  it('Telnet one character per segment reaches the server as XXXX (TechNote 113423)', () => {
    const r = run(plain(), telnet);
    expect(latin1(r.out[0])).toBe('XXXXXX\r\n');
    expect(r.verdicts).toHaveLength(1);
    expect(r.verdicts[0]!.detail).toMatch(/not a complete known verb within its segment/);
  });
  it('the same keystrokes pass with judging=line', () => {
    const r = run(plain(), telnet, opts({ judging: 'line' }));
    expect(latin1(r.out[0])).toBe('HELO x\r\n');
    expect(r.verdicts).toEqual([]);
  });
  it('a fragment whose first token is a complete known verb passes, and so do its continuations', () => {
    const r = run(plain(), [GREETING, C('MAIL FR'), C('OM:<a@b>'), C('\r\n'), C('QUIT'), C('\r\n')]);
    expect(latin1(r.out[0])).toBe('MAIL FROM:<a@b>\r\nQUIT\r\n');
  });
  it('a verb cut inside its token is X\'d, and the continuation of an X\'d line stays X\'d', () => {
    const r = run(plain(), [GREETING, C('RC'), C('PT TO:<a@b>\r\nNOOP\r\n')]);
    expect(latin1(r.out[0])).toBe('XXXXXXXXXXXXX\r\nNOOP\r\n');
  });
  it('line mode holds committed() at the line start until the verb is decided', () => {
    const r = run(plain(), [GREETING, C('NO'), C('OP\r\n')], opts({ judging: 'line' }));
    expect(r.committedAfter[1]).toBe(0);
    expect(r.committedAfter[2]).toBe(6);
    const seg = run(plain(), [GREETING, C('NO'), C('OP\r\n')]);
    expect(seg.committedAfter[1]).toBe(2);
  });
  it('line mode: an over-long first token is judged unknown without waiting for its end', () => {
    const r = run(plain(), [GREETING, C('ABCDEFGHIJ'), C('KL\r\n')], opts({ judging: 'line' }));
    expect(latin1(r.out[0])).toBe('XXXXXXXXXXXX\r\n');
    expect(r.committedAfter[1]).toBe(10);
  });
});

describe('pipelining, DATA state and server replies in order', () => {
  it('several commands in one segment are judged one by one', () => {
    const r = run(plain(), [GREETING, C('MAIL FROM:<a@b>\r\nXUSR\r\nRCPT TO:<c@d>\r\nDATA\r\n')]);
    expect(latin1(r.out[0])).toBe('MAIL FROM:<a@b>\r\nXXXX\r\nRCPT TO:<c@d>\r\nDATA\r\n');
  });
  it('bytes after DATA in the same segment are commands until the server says 354 (B-4)', () => {
    const r = run(plain(), [GREETING, C('DATA\r\nSubject: hi\r\n'), S('354 go\r\n'), C('Subject: ok\r\n\r\nbody\r\n.\r\nQUIT\r\n')]);
    expect(latin1(r.out[0])).toBe('DATA\r\nXXXXXXXXXXX\r\nSubject: ok\r\n\r\nbody\r\n.\r\nQUIT\r\n');
  });
  it('a 503 to DATA keeps command state: the next lines are still judged (PIX Mailguard bypass)', () => {
    const r = run(plain(), [GREETING, C('DATA\r\n'), S('503 5.5.1 Error: need RCPT command\r\n'), C('WIZ\r\n')]);
    expect(latin1(r.out[0])).toBe('DATA\r\nXXX\r\n');
  });
  it('pipelined replies in one segment are matched in order (354 is the third)', () => {
    const r = run(plain(), [
      GREETING,
      C('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n'),
      S('250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data\r\n'),
      C('XFOO: header\r\n\r\nVERB body line\r\n.\r\nVERB\r\n'),
    ]);
    expect(latin1(r.out[0]).split('\r\n').slice(3)).toEqual(['XFOO: header', '', 'VERB body line', '.', 'XXXX', '']);
  });
  it('multi-line replies and replies split across segments', () => {
    const r = run(plain(), [GREETING, C('DATA\r\n'), S('354-one\r\n35'), S('4 two\r\n'), C('VERB\r\n.\r\nVERB\r\n')]);
    expect(latin1(r.out[0])).toBe('DATA\r\nVERB\r\n.\r\nXXXX\r\n');
  });
  it('CRLF.CRLF split across segments ends the message', () => {
    const r = run(plain(), [GREETING, C('DATA\r\n'), S('354 go\r\n'), C('a\r\n\r\nb\r'), C('\n.'), C('\r'), C('\nVERB\r\n')]);
    expect(latin1(r.out[0])).toBe('DATA\r\na\r\n\r\nb\r\n.\r\nXXXX\r\n');
  });
  it('dot-stuffed lines do not end the message', () => {
    const r = run(plain(), [GREETING, C('DATA\r\n'), S('354 go\r\n'), C('\r\n..\r\n.VERB\r\n.\r\nVERB\r\n')]);
    expect(latin1(r.out[0])).toBe('DATA\r\n\r\n..\r\n.VERB\r\n.\r\nXXXX\r\n');
  });
});

describe('AUTH exchanges: lines answering a 334 are not commands', () => {
  it('AUTH LOGIN', () => {
    const r = run(plain(), [GREETING, C('AUTH LOGIN\r\n'), S('334 VXNlcm5hbWU6\r\n'), C('YWxpY2U=\r\n'), S('334 UGFzc3dvcmQ6\r\n'), C('c2VjcmV0\r\n'), S('235 2.7.0 ok\r\n'), C('c2VjcmV0\r\n')]);
    expect(latin1(r.out[0])).toBe('AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nXXXXXXXX\r\n');
  });
  it('AUTH PLAIN with an initial response', () => {
    const r = run(plain(), [GREETING, C('AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n'), S('235 ok\r\n'), C('NOOP\r\n')]);
    expect(latin1(r.out[0])).toBe('AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nNOOP\r\n');
  });
  it('AUTH PLAIN with an empty initial response then a 334', () => {
    const r = run(plain(), [GREETING, C('AUTH PLAIN\r\n'), S('334 \r\n'), C('AGFsaWNlAHNlY3JldA==\r\n'), S('235 ok\r\n')]);
    expect(latin1(r.out[0])).toBe('AUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n');
  });
});

// The server offered CHUNKING (as Postfix in MANIFEST 06): the chunk is skipped (bdat-chunk=offered).
// Without the offer the chunk is commands: test/inspect/bdat-not-offered.test.ts.
const CHUNKING_EHLO = [C('EHLO c\r\n'), S('250-mx.example.test\r\n250 CHUNKING\r\n')] as const;
describe('BDAT is never known; its chunk is never parsed as commands', () => {
  it('the BDAT line is X\'d and the chunk (with a lone dot and RCPT) passes untouched', () => {
    const chunk = 'RCPT TO:<x@y>\r\n.\r\nVERB\r\n';
    const r = run(plain(), [GREETING, ...CHUNKING_EHLO, C(`BDAT ${chunk.length} LAST\r\n${chunk}`), C('VERB\r\n')]);
    expect(latin1(r.out[0])).toBe(`EHLO c\r\nXXXXXXXXXXXX\r\n${chunk}XXXX\r\n`);
  });
  it('bdat-chunk=commands judges the chunk as command lines', () => {
    const chunk = 'VERB\r\n';
    const r = run(plain(), [GREETING, C(`BDAT ${chunk.length}\r\n${chunk}`)], opts({ bdatChunk: 'commands' }));
    expect(latin1(r.out[0])).toBe('XXXXXX\r\nXXXX\r\n');
  });
  it('a chunk split across segments is skipped exactly', () => {
    const r = run(plain(), [GREETING, ...CHUNKING_EHLO, C('BDAT 10\r\n12345'), C('67890VERB\r\n')]);
    expect(latin1(r.out[0])).toBe('EHLO c\r\nXXXXXXX\r\n1234567890XXXX\r\n');
  });
});

describe('x-divergence: a success reply to a command the ASA X\'d', () => {
  it('a Telnet-typed EHLO (X\'d per segment) answered 250 gives one note; inspection goes on', () => {
    const r = run(plain(), [GREETING, C('e'), C('h'), C('l'), C('o'), C('\r\n'), S('250-mx.example.test\r\n250-STARTTLS\r\n250 CHUNKING\r\n'), C('VERB\r\n'), S('250 ok\r\n')]);
    expect(latin1(r.out[0])).toBe('XXXX\r\nXXXX\r\n');
    const notes = r.verdicts.filter((v) => v.rule === 'x-divergence');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.action).toBe('note');
    expect(notes[0]!.dir).toBe(1);
    expect(r.session.state).toBe('inspecting');
  });
  it('an X\'d command answered 5xx (what happens through the ASA) gives no note', () => {
    const r = run(plain(), [GREETING, C('VERB\r\n'), S('500 5.5.2 Error: command not recognized\r\n')]);
    expect(r.verdicts.filter((v) => v.rule === 'x-divergence')).toEqual([]);
  });
});

describe('STARTTLS', () => {
  it('without allow-tls the verb is X\'d; a 5xx (what the ASA\'s server says) keeps inspecting', () => {
    const r = run(plain(), [GREETING, C('STARTTLS\r\n'), S('500 5.5.2 Error: command not recognized\r\n'), C('VERB\r\n')]);
    expect(latin1(r.out[0])).toBe('XXXXXXXX\r\nXXXX\r\n');
    expect(r.session.state).toBe('inspecting');
  });
  const TLS_HELLO = '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'a'.repeat(600);
  it('starttls-divergence=stop (default): the server accepted the X\'d STARTTLS -> one note, state diverged, TLS bytes untouched', () => {
    const r = run(plain(), [GREETING, C('STARTTLS\r\n'), S('220 2.0.0 Ready to start TLS\r\n'), C(TLS_HELLO), S('\x16\x03\x03\x00\x7a'), C('\r\nQUIT\r\n')]);
    expect(r.session.state).toBe('diverged');
    expect(latin1(r.out[0])).toBe('XXXXXXXX\r\n' + TLS_HELLO + '\r\nQUIT\r\n');
    expect(r.verdicts.map((v) => [v.rule, v.action])).toEqual([['unknown-command', 'x-substitute'], ['starttls-divergence', 'note']]);
    const note = r.verdicts[1]!;
    expect(note.dir).toBe(1);
    expect(note.offset).toBe(GREETING.bytes.length + 29); // the LF ending the 220 reply
    expect(note.detail).toBe("server accepted STARTTLS (220) that the ASA would have X'd (no allow-tls): through the ASA the client gets a 5xx instead and continues in plaintext or gives up; the TLS that follows in the capture is not inspected");
    expect(r.committedAfter.at(-1)).toBe(r.input[0].length);
  });
  it('starttls-divergence: a STARTTLS X\'d as a segment fragment (STA + RTTLS) counts too; pipelined order respected', () => {
    const r = run(plain(), [GREETING, C('NOOP\r\nSTA'), C('RTTLS\r\n'), S('250 2.0.0 Ok\r\n'), S('220 go\r\n'), C(TLS_HELLO)]);
    expect(latin1(r.out[0]).slice(0, 16)).toBe('NOOP\r\nXXXXXXXX\r\n');
    expect(r.session.state).toBe('diverged');
    // a 250 to NOOP alone does not trigger it
    const r2 = run(plain(), [GREETING, C('STARTTLS\r\nNOOP\r\n'), S('500 no\r\n250 ok\r\n'), C('VERB\r\n')]);
    expect(r2.session.state).toBe('inspecting');
    expect(latin1(r2.out[0])).toBe('XXXXXXXX\r\nNOOP\r\nXXXX\r\n');
  });
  it('starttls-divergence=inspect keeps the literal behaviour: TLS bytes judged as commands (X\'d, cmd line length drop)', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('STARTTLS\r\n'), S('220 2.0.0 Ready\r\n'), C(TLS_HELLO)], opts({ starttlsDivergence: 'inspect' }));
    expect(r.session.state).toBe('dropped');
    expect(r.verdicts.at(-1)!.rule).toBe('match cmd line length gt 512');
    expect(run(defaultMap(), [S('220 x\r\n'), C('STARTTLS\r\n'), S('220 2.0.0 Ready\r\n'), C(TLS_HELLO)]).session.state).toBe('diverged');
  });
  it('with allow-tls action log: 220 to STARTTLS -> passthrough + 108007, nothing inspected afterwards', () => {
    const map = mapFrom(NO_MASK + '  allow-tls action log\n');
    const r = run(map, [GREETING, C('STARTTLS\r\n'), S('220 2.0.0 Ready to start TLS\r\n'), C('\x16\x03\x01 VERB\r\n'), S('garbage\r\n')]);
    expect(latin1(r.out[0])).toBe('STARTTLS\r\n\x16\x03\x01 VERB\r\n');
    expect(r.session.state).toBe('passthrough');
    expect(r.verdicts).toEqual([
      {
        dir: 1, offset: 66, rule: 'allow-tls', action: 'passthrough',
        syslog: ['%ASA-6-108007: TLS started on ESMTP session between client outside:198.51.100.7/40003 and server inside:192.0.2.25/25'],
        detail: 'server answered 220 to STARTTLS: the rest of the connection passes uninspected',
      },
    ]);
  });
  it('allow-tls without action log: passthrough, no syslog; a 454 keeps inspecting', () => {
    const map = mapFrom(NO_MASK + '  allow-tls\n');
    const r1 = run(map, [GREETING, C('STARTTLS\r\n'), S('454 4.7.0 TLS not available\r\n'), C('VERB\r\n')]);
    expect(r1.session.state).toBe('inspecting');
    expect(latin1(r1.out[0])).toBe('STARTTLS\r\nXXXX\r\n');
    const r2 = run(map, [GREETING, C('STARTTLS\r\n'), S('220 go\r\n')]);
    expect(r2.session.state).toBe('passthrough');
    expect(r2.verdicts[0]!.syslog).toEqual([]);
  });
});

describe('MAIL FROM / RCPT TO addresses', () => {
  it('a | inside the address becomes a space + 108002 (default)', () => {
    const r = run(plain(), [GREETING, C('MAIL FROM:<pipe|sender@example.test>\r\n')]);
    expect(latin1(r.out[0])).toBe('MAIL FROM:<pipe sender@example.test>\r\n');
    expect(r.verdicts).toEqual([
      {
        dir: 0, offset: 15, rule: 'pipe-in-address', action: 'replace',
        syslog: ['%ASA-2-108002: SMTP replaced string: out 198.51.100.7 in 192.0.2.25 data: pipe sender@example.test'],
        detail: "'|' replaced by a space in the MAIL address",
      },
    ]);
    expect(r.session.state).toBe('inspecting');
  });
  it('a pipe signature (address starting with |) closes the session: 108003', () => {
    const r = run(plain(), [GREETING, C('RCPT TO:<|/usr/bin/evil>\r\nNOOP\r\n')]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(9);
    expect(r.verdicts[0]!.rule).toBe('pipe-signature');
    expect(r.verdicts[0]!.syslog).toEqual([
      '%ASA-2-108003: Terminating ESMTP connection; malicious pattern detected in the mail address from outside:198.51.100.7/40003 to inside:192.0.2.25/25. Mail Address:|/usr/bin/evil',
      '%ASA-4-507003: tcp flow from outside:198.51.100.7/40003 to inside:192.0.2.25/25 terminated by inspection engine, reason - inspector disconnected, dropped packet.',
    ]);
  });
  it('pipe-signature=any: any | closes the session (the seed TechNote reading, MANIFEST 15a)', () => {
    const r = run(plain(), [GREETING, C('MAIL FROM:<pipe|sender@example.test>\r\n')], opts({ pipeSignature: 'any' }));
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(15);
  });
  describe('108003 logs the whole address (ASA-ESMTP.md 7.1 "Mail Address:string")', () => {
    const addressOf = (r: ReturnType<typeof run>): string => {
      const line = r.verdicts.find((v) => v.rule === 'pipe-signature')!.syslog[0]!;
      return line.slice(line.indexOf('Mail Address:') + 'Mail Address:'.length);
    };
    it.each([
      ['MAIL FROM:<|/bin/sh@example.com> SIZE=10\r\n', 'leading', '|/bin/sh@example.com'],
      ['MAIL FROM:<pipe|sender@example.test>\r\n', 'any', 'pipe|sender@example.test'],
      ['MAIL FROM:pipe|sender@example.test SIZE=10\r\n', 'any', 'pipe|sender@example.test'], // bare: ends at the blank
      ['RCPT TO:<a|b|c@example.test>\r\n', 'any', 'a|b|c@example.test'], // the first | drops; later ones are logged as sent
      ['MAIL FROM:<a|b\r\n', 'any', 'a|b'], // no '>': the line's end
    ] as const)('%j (pipe-signature=%s)', (line, sig, address) => {
      const r = run(plain(), [GREETING, C(line)], opts({ pipeSignature: sig }));
      expect(r.session.state).toBe('dropped');
      expect(addressOf(r)).toBe(address);
    });
    it('an address cut by the segment end is logged as far as the dropping segment carries it', () => {
      const r = run(plain(), [GREETING, C('MAIL FROM:<|/bin/'), C('sh@example.com>\r\n')]);
      expect(r.session.dropOffset).toBe(11);
      expect(addressOf(r)).toBe('|/bin/');
      // the part before the | in an earlier segment is kept
      const r2 = run(plain(), [GREETING, C('MAIL FROM:<pi'), C('pe|sen'), C('der@x>\r\n')], opts({ pipeSignature: 'any' }));
      expect(addressOf(r2)).toBe('pipe|sen');
    });
    it('bounded by max-field-buffer', () => {
      const r = run(plain(), [GREETING, C(`MAIL FROM:<|${'a'.repeat(5000)}@x>\r\n`)], opts({ maxFieldBuffer: 64 }));
      expect(addressOf(r)).toBe(`|${'a'.repeat(63)}`);
    });
    it('pipe-scope=argument: a | outside the address logs the address; the detail names the parameter', () => {
      const r = run(plain(), [GREETING, C('MAIL FROM:<a@b> ENVID=x|y RET=HDRS\r\n')], opts({ pipeSignature: 'any', pipeScope: 'argument' }));
      expect(addressOf(r)).toBe('a@b');
      expect(r.verdicts.find((v) => v.rule === 'pipe-signature')!.detail).toBe(
        "'|' in an ESMTP parameter of the MAIL argument (pipe-scope=argument; Mail Address: holds the address) (pipe-signature=any)");
      // a | before the address: the address as far as the dropping segment carries it
      const before = run(plain(), [GREETING, C('MAIL FROM|: <a@b> SIZE=1\r\n')], opts({ pipeSignature: 'any', pipeScope: 'argument' }));
      expect(addressOf(before)).toBe('a@b');
      expect(before.verdicts.find((v) => v.rule === 'pipe-signature')!.detail).toMatch(/^'\|' in the MAIL argument before the address /);
    });
  });
  it('pipe-signature=none: even a leading | is only replaced', () => {
    const r = run(plain(), [GREETING, C('MAIL FROM:<|x@y>\r\n')], opts({ pipeSignature: 'none' }));
    expect(latin1(r.out[0])).toBe('MAIL FROM:< x@y>\r\n');
  });
  it('pipes in ESMTP parameters: untouched by default, replaced with pipe-scope=argument (MANIFEST 15c)', () => {
    const line = 'MAIL FROM:<alice@example.test> RET=HDRS ENVID=env|id|0001\r\n';
    expect(latin1(run(plain(), [GREETING, C(line)]).out[0])).toBe(line);
    const r = run(plain(), [GREETING, C(line)], opts({ pipeScope: 'argument' }));
    expect(latin1(r.out[0])).toBe('MAIL FROM:<alice@example.test> RET=HDRS ENVID=env id 0001\r\n');
    expect(r.verdicts[0]!.syslog[0]).toMatch(/ in 192\.0\.2\.25 data: alice@example\.test$/);
    expect(r.verdicts[0]!.detail).toBe("'|' replaced by a space in an ESMTP parameter of the MAIL argument (pipe-scope=argument; the syslog data field holds the address)");
    // pipes in the address and in a parameter: both named; the data field holds the address as forwarded
    const both = run(plain(), [GREETING, C('RCPT TO:<a|b@c> NOTIFY=x|y\r\n')], opts({ pipeScope: 'argument' }));
    expect(both.verdicts[0]!.syslog[0]).toMatch(/ data: a b@c$/);
    expect(both.verdicts[0]!.detail).toBe("'|' replaced by a space in the RCPT address and in an ESMTP parameter of the RCPT argument (pipe-scope=argument; the syslog data field holds the address)");
  });
  it('< and > are only delimiters: no action on odd use (B-6)', () => {
    const line = 'RCPT TO:<a>b@c>\r\n';
    const r = run(plain(), [GREETING, C(line)]);
    expect(latin1(r.out[0])).toBe(line);
    expect(r.verdicts).toEqual([]);
  });
  it('special-character action drop-connection log', () => {
    const map = mapFrom(NO_MASK + '  special-character action drop-connection log\n');
    const r = run(map, [GREETING, C('MAIL FROM:<a|b@c>\r\n')]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(12);
    expect(r.verdicts[0]!.rule).toBe('special-character');
    expect(r.verdicts[0]!.syslog[0]).toBe(
      '%ASA-4-108004: ESMTP Parameter: Dropped connection for ESMTP Request from outside:198.51.100.7/40003 to inside:192.0.2.25/25; special-character: Special character 0x7c found in mail address',
    );
  });
  it('special-character action log: logged, then the pipe is still replaced', () => {
    const map = mapFrom(NO_MASK + '  special-character action log\n');
    const r = run(map, [GREETING, C('MAIL FROM:<a|b@c>\r\n')]);
    expect(r.verdicts.map((v) => [v.rule, v.action])).toEqual([
      ['special-character', 'log'],
      ['pipe-in-address', 'replace'],
    ]);
    expect(latin1(r.out[0])).toBe('MAIL FROM:<a b@c>\r\n');
  });
  it('mail-relay: a RCPT to another domain is acted on, the local domain passes (case-insensitive)', () => {
    const map = mapFrom(NO_MASK + '  mail-relay Example.TEST action drop-connection\n');
    const ok = run(map, [GREETING, C('RCPT TO:<bob@EXAMPLE.test>\r\n')]);
    expect(ok.session.state).toBe('inspecting');
    const r = run(map, [GREETING, C('RCPT TO:<bob@elsewhere.test>\r\n')]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(27);
    expect(r.verdicts[0]!.syslog[0]).toMatch(/ESMTP Parameter: Dropped connection for ESMTP Request .*; mail-relay: No Mail Relay allowed$/);
    const sub = run(map, [GREETING, C('RCPT TO:<bob@mx.example.test>\r\n')], opts({ mailRelaySubdomains: true }));
    expect(sub.session.state).toBe('inspecting');
  });
});

const policy = (lines: string) => mapFrom(NO_MASK + lines);
const rcpts = (n: number) => Array.from({ length: n }, (_, i) => C(`RCPT TO:<u${i}@example.test>\r\n`));

describe('match cmd RCPT count (boundary N / N+1, per transaction)', () => {
  const map = policy(' match cmd RCPT count gt 3\n  drop-connection log\n');
  it('3 RCPTs do not match gt 3', () => {
    expect(run(map, [GREETING, C('MAIL FROM:<a@b>\r\n'), ...rcpts(3)]).session.state).toBe('inspecting');
  });
  it('the 4th RCPT drops, at its first byte', () => {
    const r = run(map, [GREETING, C('MAIL FROM:<a@b>\r\n'), ...rcpts(4)]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe('MAIL FROM:<a@b>\r\n'.length + 3 * 'RCPT TO:<u0@example.test>\r\n'.length);
    expect(r.verdicts.at(-1)!.syslog[0]).toBe(
      '%ASA-4-108004: ESMTP Classification: Dropped connection for ESMTP Request from outside:198.51.100.7/40003 to inside:192.0.2.25/25; matched Class 1: cmd RCPT count gt 3',
    );
  });
  it('MAIL and RSET reset the count per transaction; rcpt-count-scope=connection does not', () => {
    const segs = [GREETING, C('MAIL FROM:<a@b>\r\n'), ...rcpts(2), C('RSET\r\n'), C('MAIL FROM:<a@b>\r\n'), ...rcpts(2)];
    expect(run(map, segs).session.state).toBe('inspecting');
    expect(run(map, segs, opts({ rcptCountScope: 'connection' })).session.state).toBe('dropped');
  });
});

describe('match cmd line length (CR LF excluded by default, B-8)', () => {
  const map = policy(' match cmd line length gt 10\n  drop-connection log\n');
  it('10 characters pass, 11 drop at the 11th byte', () => {
    expect(run(map, [GREETING, C('HELO 12345\r\n')]).session.state).toBe('inspecting');
    const r = run(map, [GREETING, C('HELO 123456\r\n')]);
    expect(r.session.dropOffset).toBe(10);
    expect(r.verdicts[0]!.detail).toMatch(/command line longer than 10 bytes \(judged when byte 11 arrived, before the line ended\)/);
  });
  it('length-counts-crlf=yes: 9 characters + CR LF = 11 > 10 drops at the LF', () => {
    expect(run(map, [GREETING, C('HELO 1234\r\n')], opts({ lengthCountsCrlf: true })).session.dropOffset).toBe(10);
    expect(run(map, [GREETING, C('HELO 123\r\n')], opts({ lengthCountsCrlf: true })).session.state).toBe('inspecting');
  });
  it('unknown commands are measured too; AUTH responses are not', () => {
    expect(run(map, [GREETING, C('XYZZY 123456\r\n')]).session.state).toBe('dropped');
    const auth = run(map, [GREETING, C('AUTH LOGIN\r\n'), S('334 VXNlcm5hbWU6\r\n'), C('YWxpY2VAZXhhbXBsZS50ZXN0\r\n')]);
    expect(auth.session.state).toBe('inspecting');
  });
  it('match not cmd line length gt 10 fires for short lines, at the LF', () => {
    const r = run(policy(' match not cmd line length gt 10\n  log\n'), [GREETING, C('NOOP\r\nHELO 123456\r\n')]);
    expect(r.verdicts.map((v) => [v.offset, v.action])).toEqual([[5, 'log']]);
    expect(r.verdicts[0]!.syslog[0]).toMatch(/^%ASA-6-108005: ESMTP Classification: Received ESMTP Request from .*; matched Class 1: not cmd line length gt 10$/);
  });
});

describe('match cmd verb', () => {
  it('mask overwrites the verb (cmd-verb-mask=verb); the server sees an unknown command', () => {
    const r = run(policy(' match cmd verb VRFY\n  mask log\n'), [GREETING, C('VRFY bob\r\nNOOP\r\n')]);
    expect(latin1(r.out[0])).toBe('XXXX bob\r\nNOOP\r\n');
    expect(r.verdicts[0]!.syslog[0]).toMatch(/^%ASA-4-108004: ESMTP Classification: Masked header flags for ESMTP Request .*matched Class 1: cmd verb VRFY$/);
  });
  it('cmd-verb-mask=line overwrites the whole line', () => {
    const r = run(policy(' match cmd verb VRFY\n  mask\n'), [GREETING, C('VRFY bob\r\n')], opts({ cmdVerbMask: 'line' }));
    expect(latin1(r.out[0])).toBe('XXXXXXXX\r\n');
  });
  it('match not cmd verb HELO EHLO: log for every other known verb', () => {
    const r = run(policy(' match not cmd verb HELO EHLO\n  log\n'), [GREETING, C('EHLO x\r\nNOOP\r\n')]);
    expect(r.verdicts.map((v) => [v.offset, v.rule])).toEqual([[8, 'match not cmd verb HELO EHLO']]);
  });
  it('reset: state reset, 108004 Reset connection for, then 507003 inspector drop reset', () => {
    const r = run(policy(' match cmd verb ETRN\n  reset log\n'), [GREETING, C('NOOP\r\nETRN x\r\n')]);
    expect(r.session.state).toBe('reset');
    expect(r.session.dropOffset).toBe(6);
    expect(r.verdicts[0]!.syslog).toEqual([
      '%ASA-4-108004: ESMTP Classification: Reset connection for ESMTP Request from outside:198.51.100.7/40003 to inside:192.0.2.25/25; matched Class 1: cmd verb ETRN',
      '%ASA-4-507003: tcp flow from outside:198.51.100.7/40003 to inside:192.0.2.25/25 terminated by inspection engine, reason - inspector drop reset.',
    ]);
  });
  it('after a drop nothing more is inspected or edited', () => {
    const r = run(policy(' match cmd verb ETRN\n  drop-connection\n'), [GREETING, C('ETRN x\r\nVERB\r\n'), S('220 x\r\n'), C('VERB\r\n')]);
    expect(r.edits).toEqual([]);
    expect(r.verdicts).toHaveLength(1);
    expect(r.verdicts[0]!.syslog).toHaveLength(1); // no log keyword: only 507003
    expect(r.committedAfter.at(-1)).toBe(r.input[0].length);
  });
  it('rate-limit without capture time is reported, not enforced (see rate-limit.test.ts)', () => {
    const r = run(policy(' match cmd verb NOOP\n  rate-limit 5\n'), [GREETING, C('NOOP\r\n')]);
    expect(r.verdicts[0]!.action).toBe('rate-limit');
    expect(r.verdicts[0]!.detail).toMatch(/not enforced/);
  });
});

describe('match sender-address', () => {
  it('length gt N: N passes, N+1 drops at the (N+1)th address byte', () => {
    const map = policy(' match sender-address length gt 5\n  drop-connection log\n');
    expect(run(map, [GREETING, C('MAIL FROM:<a@b.c>\r\n')]).session.state).toBe('inspecting');
    const r = run(map, [GREETING, C('MAIL FROM:<a@bc.d>\r\n')]);
    expect(r.session.dropOffset).toBe(16);
  });
  it('regex: matches the address without <>', () => {
    const map = mapFrom('regex spam "@spam\\.example$"\n' + NO_MASK + ' match sender-address regex spam\n  drop-connection log\n');
    expect(run(map, [GREETING, C('MAIL FROM:<x@ham.example>\r\n')]).session.state).toBe('inspecting');
    const r = run(map, [GREETING, C('MAIL FROM:<x@spam.example> SIZE=10\r\n')]);
    expect(r.session.state).toBe('dropped');
    expect(r.session.dropOffset).toBe(25);
  });
});

describe('invalid-recipients count (RCPTs answered 5xx, B-10)', () => {
  const map = policy(' match invalid-recipients count gt 1\n  drop-connection log\n');
  it('one 550 passes, the second drops at the server reply', () => {
    const r1 = run(map, [GREETING, C('MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nRCPT TO:<z@y>\r\n'), S('250 ok\r\n550 no\r\n250 ok\r\n')]);
    expect(r1.session.state).toBe('inspecting');
    const r2 = run(map, [GREETING, C('MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nRCPT TO:<z@y>\r\n'), S('250 ok\r\n550 no\r\n'), S('550 no\r\n')]);
    expect(r2.session.state).toBe('dropped');
    expect(r2.session.dropDirection).toBe(1);
    expect(r2.verdicts[0]!.syslog[0]).toMatch(/Dropped connection for ESMTP Response from inside:192\.0\.2\.25\/25 to outside:198\.51\.100\.7\/40003; matched Class 1: invalid-recipients count gt 1$/);
  });
});

describe('default map on a clean session', () => {
  it('nothing but the banner and EHLO masks', () => {
    const r = run(defaultMap(), [GREETING, C('HELO x\r\nMAIL FROM:<a@b>\r\nQUIT\r\n')]);
    expect(latin1(r.out[0])).toBe('HELO x\r\nMAIL FROM:<a@b>\r\nQUIT\r\n');
    expect(r.verdicts.map((v) => v.rule)).toEqual(['mask-banner']);
  });
});
