/**
 * IPv6 end to end, as an admin whose mail gateway speaks IPv6. The capture
 * (fixtures/ipv6-gateway.pcap, made by fixtures/make-ipv6-gateway.sh from the real Postfix/swaks
 * session 17-ipv6-loopback with tcprewrite) holds the gateway 2001:db8::25 (inside) receiving from
 * 2001:db8:1::10 (outside subnet) and delivering to 2001:db8:77::25 (ipv6 route outside ::/0). The
 * config (fixtures/ipv6-gateway-running-config.txt) selects the inbound session by
 * `access-list GW-IN extended permit tcp any6 object MAILGW6 eq smtp` into a map that resets on EHLO.
 * The ASA prints an IPv6 endpoint as `interface:addr/port` (ASA-ESMTP.md, 302013/302014/108004/507003).
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/output/summary.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { compilePolicyText } from '../../src/policy/load.js';
import { haveTool, tshark } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from './helpers.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const CAPTURE = path.join(here, 'fixtures/ipv6-gateway.pcap');
const CONFIG = path.join(here, 'fixtures/ipv6-gateway-running-config.txt');
const tmp = mkdtempSync(path.join(tmpdir(), 'ipv6-gw-'));
const FROM_CONFIG = { policy: CONFIG, clientInterface: undefined, serverInterface: undefined };

const classOf = (verdicts: string) =>
  readVerdicts(verdicts)
    .filter((v) => v.rule === 'connection' && v.detail.startsWith('built:'))
    .map((v) => `${v.client} -> ${v.server} ${/class (\S+)/.exec(v.detail)?.[1] ?? v.detail}`);

describe('an IPv6 mail gateway through the ASA', () => {
  it('syslog endpoints, Built inbound/outbound and the interfaces note name the IPv6 default route as such', async () => {
    const r = await replayToTemp(CAPTURE, FROM_CONFIG);
    expect(readFileSync(r.syslog, 'utf8').trimEnd().split('\n')).toEqual([
      '%ASA-6-302013: Built inbound TCP connection 1 for outside:2001:db8:1::10/40060 (2001:db8:1::10/40060) to inside:2001:db8::25/25 (2001:db8::25/25)',
      '%ASA-4-108004: ESMTP Classification: Reset connection for ESMTP Request from outside:2001:db8:1::10/40060 to inside:2001:db8::25/25; matched Class 1: cmd verb EHLO',
      '%ASA-4-507003: tcp flow from outside:2001:db8:1::10/40060 to inside:2001:db8::25/25 terminated by inspection engine, reason - inspector drop reset.',
      '%ASA-6-302014: Teardown TCP connection 1 for outside:2001:db8:1::10/40060 to inside:2001:db8::25/25 duration 0:00:00 bytes 76 Flow closed by inspection',
      '%ASA-6-302013: Built outbound TCP connection 2 for outside:2001:db8:77::25/25 (2001:db8:77::25/25) to inside:2001:db8::25/40060 (2001:db8::25/40060)',
      '%ASA-6-302014: Teardown TCP connection 2 for outside:2001:db8:77::25/25 to inside:2001:db8::25/40060 duration 0:00:00 bytes 729 TCP FINs',
    ]);
    // each family has its own default route; before, both printed as "default route, default route"
    const note = formatSummary(r.summary).split('\n').find((l) => l.startsWith('NOTE: each connection'));
    expect(note).toContain('outside (security-level 0, 198.51.100.0/24, 2001:db8:1::/64, default route, IPv6 default route)');
  });

  it('an IPv4 default route alone is not described as covering IPv6', () => {
    const text = readFileSync(CONFIG, 'utf8').replace(/^ipv6 route .*\n/m, '');
    const d = compilePolicyText(text, 'v4-default-only.txt').interfaceRouting?.describe() ?? '';
    expect(d).toContain('2001:db8:1::/64, default route)');
    expect(d).not.toContain('IPv6 default route');
  });

  it('verdict JSON brackets IPv6 endpoints; any6 + object host selects the inbound session, any4 does not', async () => {
    const r = await replayToTemp(CAPTURE, FROM_CONFIG);
    expect(classOf(r.verdicts)).toEqual([
      '[2001:db8:1::10]:40060 -> [2001:db8::25]:25 GW-IN',
      '[2001:db8::25]:40060 -> [2001:db8:77::25]:25 inspection_default',
    ]);
    const v4 = path.join(tmp, 'any4.txt');
    writeFileSync(v4, readFileSync(CONFIG, 'utf8').replace('permit tcp any6 object', 'permit tcp any4 object'));
    const r4 = await replayToTemp(CAPTURE, { ...FROM_CONFIG, policy: v4 });
    expect(classOf(r4.verdicts)[0]).toBe('[2001:db8:1::10]:40060 -> [2001:db8::25]:25 inspection_default');
    expect(readFileSync(r4.syslog, 'utf8')).not.toContain('108004');
    // with GW-IN the only inspecting class, its reason says why its ACL did not take the IPv6
    // session (before: only "implicit deny")
    const only = path.join(tmp, 'any4-only.txt');
    writeFileSync(only, readFileSync(v4, 'utf8').replace(' class inspection_default\n  inspect esmtp\n', ''));
    const ro = await replayToTemp(CAPTURE, { ...FROM_CONFIG, policy: only });
    const built = readVerdicts(ro.verdicts).find((v) => v.rule === 'connection' && v.detail.startsWith('built:'));
    expect(built?.detail).toContain(
      'class GW-IN of global_policy: no line of access-list GW-IN permits it (implicit deny); line 1 (config line 23) would permit it but its any4 matches IPv4 only and this connection is IPv6',
    );
  });

  it.skipIf(!haveTool('tshark'))('the reset synthesises IPv6 RSTs tshark accepts, with the flow label and hop limit of their direction', async () => {
    const r = await replayToTemp(CAPTURE, { ...FROM_CONFIG, checksum: 'fix' });
    const rows = tshark(['-r', r.out, '-o', 'tcp.check_checksum:TRUE', '-Y', 'tcp.flags.reset==1', '-T', 'fields',
      '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.flow', '-e', 'ipv6.hlim', '-e', 'ipv6.plen', '-e', 'tcp.checksum.status'])
      .trim().split('\n');
    // the capture's own labels: 0x0524dc client->server, 0x00c268 server->client, hop limit 64
    expect(rows).toEqual([
      '2001:db8:1::10\t2001:db8::25\t0x0524dc\t64\t20\t1',
      '2001:db8::25\t2001:db8:1::10\t0x00c268\t64\t20\t1',
    ]);
  });

  it("diagnose's exemption for the IPv6 gateway is valid ASA text that compiles and exempts both sessions", async () => {
    const report = await runDiagnose(CAPTURE, { policyPath: null });
    const fix = report.recommended;
    expect(fix?.kind).toBe('exempt-gateway');
    expect(fix?.verified).toBe(true);
    expect(fix?.config.slice(0, 2)).toEqual([
      'access-list ESMTP-INSPECT extended deny tcp any host 2001:db8::25 eq smtp',
      'access-list ESMTP-INSPECT extended deny tcp host 2001:db8::25 any eq smtp',
    ]);
    // pasted as an excerpt over the factory default (what `policy check` and `replay --policy` read)
    const pasted = path.join(tmp, 'fix.txt');
    writeFileSync(pasted, `${(fix?.config ?? []).join('\n')}\n`);
    expect(() => compilePolicyText(readFileSync(pasted, 'utf8'), 'fix.txt')).not.toThrow();
    const r = await replayToTemp(CAPTURE, { policy: pasted });
    expect(r.summary.connections).toMatchObject({ inspected: 0, exempted: 2 });
  });
});
