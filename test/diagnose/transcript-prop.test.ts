/** The transcript does not depend on how the bytes were segmented (property test). */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { TranscriptRecorder } from '../../src/diagnose/transcript.js';
import type { ConnectionMeta, Direction } from '../../src/flow/types.js';

const conn: ConnectionMeta = {
  id: 1, ipVersion: 4, clientIp: '192.0.2.1', clientPort: 1, serverIp: '192.0.2.2', serverPort: 25,
  client: '192.0.2.1:1', server: '192.0.2.2:25', clientBy: 'syn', synSeen: true, firstPacket: 1, firstTimeSec: 0, firstTimeNsec: 0,
};

const DIALOGUE: Array<[Direction, string]> = [
  [1, '220 mx.example ESMTP\r\n'],
  [0, 'EHLO c.example\r\n'],
  [1, '250-mx.example\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n'],
  [0, 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'],
  [1, '250 ok\r\n250 ok\r\n354 go\r\n'],
  [0, `Subject: s\r\nX-L: ${'q'.repeat(300)}\r\nContent-Disposition: attachment; filename="${'f'.repeat(270)}"\r\n\r\nbody\r\n.\r\n`],
  [1, '250 queued\r\n'],
  [0, 'BDAT 7 LAST\r\nRCPT\r\n'],
  [1, '250 ok\r\n'],
  // CRs that are not a line's CR LF are content, wherever a segment ends (next to them or not)
  [0, `NOOP a\rb\r\rc${'\r'.repeat(3)}${'z'.repeat(170)}\r\r\n`],
  [1, '250 ok\r\n'],
  [0, 'XXXXXXXX\r\n'],
  [1, '500 5.5.2 Error: command not recognized\r\n'],
  [0, 'QUIT\r\n'],
  [1, '221 bye\r\n'],
];

function transcript(cuts: number[][]) {
  const rec = new TranscriptRecorder();
  rec.onOpen(conn);
  const off: [number, number] = [0, 0];
  let pkt = 1;
  DIALOGUE.forEach(([dir, text], i) => {
    const b = Buffer.from(text, 'latin1');
    const points = [...new Set((cuts[i] ?? []).map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
    let from = 0;
    for (const p of [...points, b.length]) {
      if (p <= from) continue;
      rec.onData(conn, dir, b.subarray(from, p), off[dir] + from, pkt++);
      from = p;
    }
    off[dir] += b.length;
  });
  rec.onClose(conn, 'fin');
  return rec.finish()[0]!.entries.map((e) => ({ kind: e.kind, verb: e.verb, text: e.text, length: e.length, offset: e.offset, message: e.message && { ...e.message, maxHeaderLinePacket: 0, maxBodyLinePacket: 0, maxFilenamePacket: 0 } }));
}

describe('transcript segmentation independence', () => {
  it('any split of the segments gives the same entries', () => {
    const whole = transcript([]);
    expect(whole.find((e) => e.kind === 'message')?.message).toMatchObject({ maxHeaderLine: 314, maxFilename: 270, complete: true });
    // kept text cut at TEXT_KEEP (160) with each content CR as \x0d; length counts them all, not the CR LF
    const noop = whole.find((e) => e.verb === 'NOOP');
    expect(noop?.length).toBe(11 + 3 + 170 + 1);
    expect(noop?.text).toBe(`NOOP a\\x0db\\x0d\\x0dc${'\\x0d'.repeat(3)}${'z'.repeat(160 - 14)}`);
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(400), { maxLength: 6 }), { minLength: DIALOGUE.length, maxLength: DIALOGUE.length }), (cuts) => {
        expect(transcript(cuts)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
