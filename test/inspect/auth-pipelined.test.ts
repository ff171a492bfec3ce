/**
 * A SASL response pipelined with its AUTH (RFC 4954 4 asks the client to wait for the 334; a
 * client need not): the server reads the first line after AUTH as the response whenever it came,
 * but the engine judged that line as a command when it came (as the ASA saw it, before the 334).
 * Before, the 334 then exempted the next line to *begin* from judging: a 700-byte unknown command
 * sent after the exchange, which the server read as a command (500), passed un-X'd and unmeasured
 * (no `cmd line length gt 512` drop). Now the 334 makes the pipelined line the exchange's line and
 * exempts no later one. Real bytes: fixtures/auth-pipelined-{plain,login}.pcap (make-auth-pipelined.cjs, the npm
 * smtp-server with AUTH PLAIN/LOGIN).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, latin1, type Segment } from './helpers.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const LONG = 'XSMUGGLE ' + 'Y'.repeat(700) + '\r\n';

let plain: Segment[] = [];
let login: Segment[] = [];
beforeAll(async () => {
  plain = await captureSegments(path.join(FIXTURES, 'auth-pipelined-plain.pcap'));
  login = await captureSegments(path.join(FIXTURES, 'auth-pipelined-login.pcap'));
});

describe('a SASL response pipelined with AUTH (real smtp-server session)', () => {
  it('the capture: the response in AUTH\'s segment, the long line answered 500 as a command', () => {
    const c = plain.filter((s) => s.dir === 0).map((s) => latin1(s.bytes));
    expect(c).toContain('AUTH PLAIN\r\nAGFsaWNlAHBhc3M=\r\n');
    expect(c).toContain(LONG);
    const s = latin1(Buffer.concat(plain.filter((x) => x.dir === 1).map((x) => x.bytes)));
    expect(s).toContain('334 \r\n235 Authentication successful\r\n500 Error: command not recognized\r\n');
  });

  it('AUTH PLAIN + response pipelined: the later 700-byte unknown command is judged (X\'d, dropped at byte 513)', () => {
    const r = run(defaultMap(), plain);
    expect(r.session.state).toBe('dropped');
    const x = r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail);
    expect(x).toEqual(['"AGFsaWNl...": not a supported command', '"XSMUGGLE": not a supported command']);
    expect(r.verdicts.some((v) => v.action === 'drop-connection' && /cmd line length gt 512/.test(v.rule + ' ' + v.detail))).toBe(true);
  });

  it('AUTH LOGIN + user name pipelined: the second 334 makes the password (sent after it) the exchange\'s line; the long line is judged', () => {
    const r = run(defaultMap(), login);
    expect(r.session.state).toBe('dropped');
    const x = r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail);
    expect(x).toEqual(['"YWxpY2U=": not a supported command', '"XSMUGGLE": not a supported command']);
    expect(latin1(r.out[0])).toContain('XXXXXXXX\r\ncGFzcw==\r\n');
  });
});
