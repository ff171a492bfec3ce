/** The ASA configuration lines diagnose proposes: they compile, and mean what they say. */
import { describe, it, expect } from 'vitest';
import { defaultPolicy, compilePolicyText } from '../../src/policy/load.js';
import { exemptGatewayLines, freshName, mapCopyLines, niceAbove, raisedLimit, switchMapLines } from '../../src/diagnose/fix.js';
import { chooseGateways } from '../../src/diagnose/analyze.js';
import type { SessionTranscript } from '../../src/diagnose/transcript.js';

const flow = (clientIp: string, serverIp: string, serverPort = 25) => ({ ipVersion: 4 as const, clientIp, clientPort: 40000, serverIp, serverPort });

describe('fix lines', () => {
  it('a copy of the default map compiles back to the same parameters and match lines', () => {
    const def = defaultPolicy().esmtpMaps.get('_default_esmtp_map')!;
    const cls = { policyMap: 'global_policy', className: 'inspection_default', mapName: def.name };
    const p = compilePolicyText([...mapCopyLines(def, 'COPY', {}), ...switchMapLines(cls, 'COPY')].join('\n'), 'test');
    const copy = p.esmtpMaps.get('COPY')!;
    expect(copy.parameters).toEqual(def.parameters);
    expect(copy.matches.map((m) => [m.text, m.actions])).toEqual(def.matches.map((m) => [m.text, m.actions]));
    expect(p.classify(flow('192.0.2.1', '192.0.2.25')).esmtp?.name).toBe('COPY');
  });

  it('raise / allow-tls / no mask-banner change exactly one thing', () => {
    const def = defaultPolicy().esmtpMaps.get('_default_esmtp_map')!;
    const rcpt = def.matches.find((m) => m.text.includes('RCPT'))!;
    const lines = mapCopyLines(def, 'C', { raise: { classId: rcpt.classId, gt: 500 }, allowTls: true, noMaskBanner: true });
    expect(lines).toContain(' match cmd RCPT count gt 500');
    expect(lines).toContain('  allow-tls action log');
    expect(lines).toContain('  no mask-banner');
    const copy = compilePolicyText(lines.join('\n'), 't').esmtpMaps.get('C')!;
    expect(copy.parameters.maskBanner).toBe(false);
    expect(copy.parameters.allowTls).not.toBe(null);
    expect(copy.matches.find((m) => m.classId === rcpt.classId)!.criterion).toEqual({ kind: 'cmd-rcpt-count', gt: 500 });
  });

  it('the exemption leaves the gateway uninspected (both directions) and everyone else inspected', () => {
    const cls = { policyMap: 'global_policy', className: 'inspection_default', mapName: '_default_esmtp_map' };
    const p = compilePolicyText(exemptGatewayLines(['192.0.2.25'], [25], cls, '').join('\n'), 't');
    expect(p.classify(flow('198.51.100.7', '192.0.2.25')).esmtp).toBe(null);
    expect(p.classify(flow('192.0.2.25', '198.51.100.7')).esmtp).toBe(null);
    expect(p.classify(flow('198.51.100.7', '192.0.2.26')).esmtp?.name).toBe('_default_esmtp_map');
  });

  it('a non-25 port and a custom map are carried over; names do not collide with the policy', () => {
    const lines = exemptGatewayLines(['10.0.0.5'], [2525], { policyMap: 'pm', className: 'SMTP-2525', mapName: 'MYMAP' }, 'access-list ESMTP-INSPECT extended permit ip any any\n');
    expect(lines[0]).toBe('access-list ESMTP-INSPECT-2 extended deny tcp any host 10.0.0.5 eq 2525');
    expect(lines).toContain('  inspect esmtp MYMAP');
    expect(lines).toContain(' class SMTP-2525');
    expect(freshName('X', 'class-map X-2\n')).toBe('X');
  });

  it('limits an admin would type, above what the capture needs', () => {
    expect([1, 3, 101, 200, 201, 999, 1001].map(niceAbove)).toEqual([1, 5, 200, 200, 500, 1000, 2000]);
    expect(raisedLimit(100, 120)).toBe(500);
    expect(raisedLimit(100, 0)).toBe(500);
    expect(raisedLimit(998, 1502)).toBe(5000);
  });

  it('the gateway is the server side, or the one client that talks to several servers', () => {
    const t = (clientIp: string, serverIp: string) => ({ clientIp, serverIp, serverPort: 25 }) as SessionTranscript;
    expect(chooseGateways([t('a', 'mx'), t('b', 'mx')])).toEqual({ gateways: ['mx'], ports: [25], role: 'server' });
    expect(chooseGateways([t('esa', 'mx1'), t('esa', 'mx2')])).toEqual({ gateways: ['esa'], ports: [25], role: 'client' });
  });

  it('a gateway that both receives and delivers is one address, not every remote MX it delivered to', () => {
    const t = (clientIp: string, serverIp: string) => ({ clientIp, serverIp, serverPort: 25 }) as SessionTranscript;
    // inbound to the ESA, outbound from it to two remote MXes, and one unrelated inside host
    const mixed = [t('198.51.100.7', 'esa'), t('esa', 'mx1'), t('esa', 'mx2'), t('10.1.1.51', 'mx3')];
    expect(chooseGateways(mixed)).toEqual({ gateways: ['esa', 'mx3'], ports: [25], role: 'server and client' });
    expect(chooseGateways([t('a', 'mx')])).toEqual({ gateways: ['mx'], ports: [25], role: 'server' });
  });
});
