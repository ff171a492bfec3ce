import { describe, it, expect } from 'vitest';
import { TranscriptRecorder } from '../../src/diagnose/transcript.js';
import { detectFirewall, isMaskedBannerLine, maskedKeyword } from '../../src/diagnose/detect.js';
import type { ConnectionMeta, Direction } from '../../src/flow/types.js';

const conn: ConnectionMeta = {
  id: 1, ipVersion: 4, clientIp: '192.0.2.10', clientPort: 40000, serverIp: '192.0.2.25', serverPort: 25,
  client: '192.0.2.10:40000', server: '192.0.2.25:25', clientBy: 'syn', synSeen: true, firstPacket: 1,
  firstTimeSec: 0, firstTimeNsec: 0,
};

/** Feeds a dialogue: each step is one segment [dir, text]; packet numbers start at 4 (after the handshake). */
function record(steps: Array<[Direction, string]>, close: 'fin' | 'rst' | null = 'fin') {
  const rec = new TranscriptRecorder();
  rec.onOpen(conn);
  const off: [number, number] = [0, 0];
  let pkt = 4;
  for (const [dir, text] of steps) {
    const b = Buffer.from(text, 'latin1');
    rec.onData(conn, dir, b, off[dir], pkt++);
    off[dir] += b.length;
  }
  if (close) rec.onClose(conn, close);
  return rec.finish();
}

const EHLO_MASKED = '250-mail.example.test\r\n250-PIPELINING\r\n250-XXXXXXXA\r\n250-XXXXXXXX\r\n250 XXXXXXXX\r\n';

describe('transcript', () => {
  it('splits commands and multi-line replies, summarises DATA content across segments', () => {
    const [t] = record([
      [1, '220 mail.example.test ESMTP\r\n'],
      [0, 'EHLO c.example\r\n'],
      [1, '250-mail.example.test\r\n250-PIPE'],
      [1, 'LINING\r\n250 8BITMIME\r\n'],
      [0, 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'],
      [1, '250 ok\r\n250 ok\r\n354 go\r\n'],
      [0, 'Subject: hi\r\nX-Long: ' + 'a'.repeat(1200) + '\r\n\r\nbody\r\n.\r\n'],
      [1, '250 queued\r\n'],
      [0, 'QUIT\r\n'],
      [1, '221 bye\r\n'],
    ]);
    expect(t).toBeDefined();
    const kinds = t!.entries.map((e) => `${e.kind}:${e.verb}`);
    expect(kinds).toEqual([
      'reply:220', 'command:EHLO', 'reply:250', 'command:MAIL', 'command:RCPT', 'command:DATA',
      'reply:250', 'reply:250', 'reply:354', 'message:', 'reply:250', 'command:QUIT', 'reply:221',
    ]);
    const ehlo = t!.entries[2]!;
    expect(ehlo.text).toBe('250-mail.example.test\n250-PIPELINING\n250 8BITMIME');
    expect(ehlo.packet).toBe(6);
    expect(ehlo.endPacket).toBe(7);
    const msg = t!.entries[9]!.message!;
    expect(msg.complete).toBe(true);
    expect(msg.maxHeaderLine).toBe(8 + 1200);
    expect(msg.maxBodyLine).toBe(4);
    expect(t!.quitSeen && t!.closingReplySeen).toBe(true);
    expect(detectFirewall([t!]).firewallDetected).toBe(false);
  });

  it('skips BDAT chunk bytes (a "." or RCPT line inside a chunk is not a command)', () => {
    const chunk = 'RCPT TO:<x@y>\r\n.\r\n';
    // the server offers CHUNKING (bdat-chunk=offered reads a chunk as commands otherwise)
    const [t] = record([
      [1, '220 hi\r\n'],
      [0, 'EHLO c.example\r\n'],
      [1, '250-hi\r\n250 CHUNKING\r\n'],
      [0, `MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT ${chunk.length} LAST\r\n${chunk}`],
      [1, '250 a\r\n250 b\r\n250 c\r\n'],
      [0, 'QUIT\r\n'],
    ]);
    expect(t!.rcptCount).toBe(1);
    const c = t!.entries.find((e) => e.kind === 'bdat-chunk');
    expect(c?.message?.bytes).toBe(chunk.length);
    expect(c?.message?.complete).toBe(true);
  });

  it('stops parsing after STARTTLS/220 and treats AUTH continuations as data', () => {
    const [t] = record([
      [1, '220 hi\r\n'],
      [0, 'AUTH LOGIN\r\n'],
      [1, '334 VXNlcm5hbWU6\r\n'],
      [0, 'YWxpY2U=\r\n'],
      [1, '235 ok\r\n'],
      [0, 'STARTTLS\r\n'],
      [1, '220 go\r\n'],
      [0, '\x16\x03\x01\x00\x05hello'],
    ], null);
    expect(t!.entries.map((e) => e.kind)).toEqual(['reply', 'command', 'reply', 'auth-data', 'reply', 'command', 'reply', 'tls']);
    expect(t!.tlsStarted).toBe(true);
  });
});

describe('firewall fingerprints', () => {
  it('recognises the masked greeting (Reading A and B) and masked EHLO keywords', () => {
    expect(isMaskedBannerLine('220 ****************')).toBe(true);
    expect(isMaskedBannerLine('220 **2***0**0*****')).toBe(true);
    expect(isMaskedBannerLine('220 mail.example.test ESMTP')).toBe(false);
    expect(isMaskedBannerLine('220 *')).toBe(false);
    expect(maskedKeyword('250-XXXXXXXA')).toBe('starttls');
    expect(maskedKeyword('250 XXXXXXXX')).toBe('other');
    expect(maskedKeyword('250-STARTTLS')).toBe(null);
  });

  it('reports masked banner, XXXXXXXA and an X\'d verb answered 500, with their packets', () => {
    const [t] = record([
      [1, '220 *****************************\r\n'], // 4
      [0, 'EHLO c\r\n'], // 5
      [1, EHLO_MASKED], // 6
      [0, 'XXXXXXXXXXXXXX\r\n'], // 7
      [1, '500 5.5.2 Error: command not recognized\r\n'], // 8
      [0, 'QUIT\r\n'],
      [1, '221 bye\r\n'],
    ]);
    const d = detectFirewall([t!]);
    expect(d.firewallDetected).toBe(true);
    const byKind = Object.fromEntries(d.evidence.map((e) => [e.kind, e]));
    expect(byKind['masked-banner']?.packet).toBe(4);
    expect(byKind['starttls-masked']?.packet).toBe(6);
    expect(byKind['ehlo-keyword-masked']?.packet).toBe(6);
    expect(byKind['x-verb-rejected']?.packet).toBe(7);
    expect(byKind['x-verb-rejected']?.related).toEqual([8]);
  });

  it('a session that goes silent after 100 accepted recipients points at the RCPT limit', () => {
    const steps: Array<[Direction, string]> = [[1, '220 hi\r\n'], [0, 'MAIL FROM:<a@x>\r\n'], [1, '250 ok\r\n']];
    for (let i = 1; i <= 100; i++) steps.push([0, `RCPT TO:<r${i}@y>\r\n`], [1, '250 ok\r\n']);
    const [t] = record(steps, null);
    const d = detectFirewall([t!]);
    expect(d.firewallDetected).toBe(true);
    expect(d.evidence.map((e) => e.kind)).toEqual(['died-after-rcpt-limit']);
    expect(d.evidence[0]!.packet).toBe(4 + 2 + 200);
  });

  it('the same session that sent QUIT normally is not evidence', () => {
    const steps: Array<[Direction, string]> = [[1, '220 hi\r\n'], [0, 'MAIL FROM:<a@x>\r\n'], [1, '250 ok\r\n']];
    for (let i = 1; i <= 100; i++) steps.push([0, `RCPT TO:<r${i}@y>\r\n`], [1, '250 ok\r\n']);
    steps.push([0, 'QUIT\r\n'], [1, '221 bye\r\n']);
    expect(detectFirewall(record(steps)).evidence).toEqual([]);
  });

  it('a connection that dies right after a 1500-byte header line, seen on the client side', () => {
    const [t] = record([
      [1, '220 hi\r\n'], [0, 'DATA\r\n'], [1, '354 go\r\n'],
      [0, 'Subject: x\r\nX-Long: ' + 'b'.repeat(1492) + '\r\n'], // packet 7
    ], 'rst');
    const d = detectFirewall([t!]);
    expect(d.evidence[0]).toMatchObject({ kind: 'died-after-long-header', packet: 7, strong: true });
  });

  it('dies mid-DATA with nothing visible: weak evidence only', () => {
    const [t] = record([[1, '220 mail ESMTP\r\n'], [0, 'DATA\r\n'], [1, '354 go\r\n']], null);
    const d = detectFirewall([t!]);
    expect(d.evidence[0]).toMatchObject({ kind: 'died-mid-data', strong: false });
    expect(d.firewallDetected).toBe(false);
  });
});
