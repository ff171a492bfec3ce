/**
 * The 108004/108005 text of a `match not` line names the criterion as configured, `not` included
 * (ASA-ESMTP.md 7.1: `matched Class N: <the match line without "match ">`; without the `not` the
 * line would name the opposite condition). Real bytes: the generated 02-ehlo-basic session
 * (swaks -> Postfix), whose sender is not in bad.example.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { captureSegments, run, mapFrom, latin1, type Segment } from './helpers.js';

const POLICY = (action: string) => `regex bad_sender "@bad\\.example$"
policy-map type inspect esmtp M
 parameters
  no mask-banner
 match cmd RCPT count gt 100
  drop-connection log
 match not sender-address regex bad_sender
  ${action}
`;

let segs: Segment[] = [];
beforeAll(async () => {
  if (haveShared) segs = await captureSegments(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
});

describe.skipIf(!haveShared)('syslog for match not (02-ehlo-basic)', () => {
  it('log: 108005 says "matched Class 2: not sender-address regex bad_sender"', () => {
    const r = run(mapFrom(POLICY('log')), segs);
    expect(latin1(r.input[0])).toMatch(/MAIL FROM:<[^>]*@(?!bad\.example)[^>]*>/);
    const hits = r.verdicts.filter((v) => v.rule === 'match not sender-address regex bad_sender');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.syslog).toHaveLength(1);
    expect(hits[0]!.syslog[0]).toMatch(/^%ASA-6-108005: ESMTP Classification: Received ESMTP Request from \S+ to \S+; matched Class 2: not sender-address regex bad_sender$/);
  });

  it('drop-connection log: 108004 names the not criterion too', () => {
    const r = run(mapFrom(POLICY('drop-connection log')), segs);
    expect(r.session.state).toBe('dropped');
    const hit = r.verdicts.find((v) => v.rule === 'match not sender-address regex bad_sender')!;
    expect(hit.syslog[0]).toMatch(/^%ASA-4-108004: ESMTP Classification: Dropped connection for ESMTP Request from .*; matched Class 2: not sender-address regex bad_sender$/);
  });

  it('a plain match line is printed as before (no "not")', () => {
    const any = POLICY('log').replace('match not sender-address', 'match sender-address').replace('"@bad\\.example$"', '"@"');
    expect(any).toContain('regex bad_sender "@"');
    const r = run(mapFrom(any), segs);
    const hit = r.verdicts.find((v) => v.rule === 'match sender-address regex bad_sender')!;
    expect(hit.syslog[0]).toMatch(/; matched Class 2: sender-address regex bad_sender$/);
  });
});
