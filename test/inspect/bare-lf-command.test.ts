/**
 * bare-lf-command: "incorrect command termination" (ASA-ESMTP.md 2.2, a monitored anomaly with no
 * documented action). A real session whose client ends EHLO, MAIL and QUIT with a bare LF, as
 * netcat does, against the npm smtp-server, which answers each (fixtures/make-bare-lf-command.cjs).
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { captureSegments, defaultMap, latin1, opts, run } from './helpers.js';

const FILE = fileURLToPath(new URL('./fixtures/bare-lf-command.pcap', import.meta.url));

describe('bare-lf-command (real smtp-server session with LF-terminated commands)', () => {
  it('pass (default): the lines are forwarded unchanged and judged as usual, no bare-lf verdict', async () => {
    const r = run(defaultMap(), await captureSegments(FILE));
    expect(latin1(r.out[0])).toBe(latin1(r.input[0]));
    expect(r.verdicts.filter((v) => v.dir === 0)).toEqual([]);
    expect(r.session.state).toBe('inspecting');
  });

  it('log: one log verdict (no syslog) per LF-terminated command line; CR LF split over two segments is not one', async () => {
    const r = run(defaultMap(), await captureSegments(FILE), opts({ bareLfCommand: 'log' }));
    expect(latin1(r.out[0])).toBe(latin1(r.input[0]));
    const v = r.verdicts.filter((x) => x.rule === 'bare-lf-command');
    expect(v.map((x) => [x.action, x.syslog.length, x.detail])).toEqual([
      ['log', 0, 'EHLO command line ended by a bare LF, not CR LF (incorrect command termination; forwarded unchanged)'],
      ['log', 0, 'MAIL command line ended by a bare LF, not CR LF (incorrect command termination; forwarded unchanged)'],
      ['log', 0, 'QUIT command line ended by a bare LF, not CR LF (incorrect command termination; forwarded unchanged)'],
    ]);
    const input = latin1(r.input[0]);
    expect(v.map((x) => input.slice(x.offset, x.offset + 4))).toEqual(['EHLO', 'MAIL', 'QUIT']);
    expect(r.session.state).toBe('inspecting');
  });
});
