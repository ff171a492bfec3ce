import { describe, expect, it } from 'vitest';
import { EsmtpCounters, formatServicePolicy } from '../../src/inspect/counters.js';
import { defaultMap, run, GREETING, C, S, CTX } from './helpers.js';

describe('show service-policy inspect esmtp (ADDENDUM B-15)', () => {
  it('prints the field layout for the default map', () => {
    const c = new EsmtpCounters();
    const map = defaultMap();
    c.register('global', 'global_policy', 'inspection_default', map);
    c.countPacket('global_policy', 'inspection_default', map, 54698280);
    c.countDrop('global_policy', 'inspection_default', map, 2676);
    c.countParameter('global_policy', 'inspection_default', map, 'mask-banner');
    c.countMatch('global_policy', 'inspection_default', map, 2);
    c.countMatch('global_policy', 'inspection_default', map, 7);
    expect(formatServicePolicy(c, { style: 'short' })).toBe(
      [
        'Global policy:',
        '  Service-policy: global_policy',
        '    Class-map: inspection_default',
        '      Inspect: esmtp _default_esmtp_map, packet 54698280, drop 2676, reset-drop 0',
        '        mask-banner, count 1',
        '        match cmd line length gt 512',
        '          drop-connection log, packet 0',
        '        match cmd RCPT count gt 100',
        '          drop-connection log, packet 1',
        '        match body line length gt 998',
        '          log, packet 0',
        '        match header line length gt 998',
        '          drop-connection log, packet 0',
        '        match sender-address length gt 320',
        '          drop-connection log, packet 0',
        '        match MIME filename length gt 255',
        '          drop-connection log, packet 0',
        '        match ehlo-reply-parameter others',
        '          mask, packet 1',
        '',
      ].join('\n'),
    );
    expect(formatServicePolicy(c).split('\n')[3]).toBe(
      '      Inspect: esmtp _default_esmtp_map, packet 54698280, lock fail 0, drop 2676, reset-drop 0, 5-min-pkt-rate 0 pkts/sec, v6-fail-close 0 sctp-drop-override 0',
    );
  });

  it('the session counts mask-banner per greeting and a match once per packet', () => {
    const c = new EsmtpCounters();
    // two masked keywords in one segment count one packet; a third in another segment counts again
    run(defaultMap(), [GREETING, C('EHLO a\r\n'), S('250-x\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n'), S('250 XFOO\r\n')], undefined, c);
    const e = c.get(CTX.policyMap, CTX.className)!;
    expect(e.parameters['mask-banner']).toBe(1);
    expect(e.matchPackets[7]).toBe(2);
    expect(formatServicePolicy(c)).toContain('        match ehlo-reply-parameter others\n          mask, packet 2\n');
  });
});
