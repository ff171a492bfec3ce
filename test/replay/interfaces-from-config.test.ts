/**
 * Per-connection ASA interfaces from the running-config's interfaces and routes. The capture
 * (fixtures/gateway-both-ways.pcap, made by fixtures/make-gateway-both-ways.sh from the real
 * Postfix/swaks session 02-ehlo-basic) holds a mail gateway 192.168.20.25 (inside, level 100) that
 * receives from 198.51.100.7 (default route: outside, level 0) and delivers to 203.0.113.50
 * (outside), and a DMZ relay 172.16.5.10 (level 50) delivering to 203.0.113.60. An ASA logs the
 * deliveries `Built outbound` with the foreign (server) side first (ASA-ESMTP.md 302013) and applies
 * an interface service-policy to the connections entering or leaving by its interface (Cisco
 * "Feature Directionality"; native-notes/policy-language.md `interface-direction`). Before, every
 * connection was outside -> inside and inbound, whatever its addresses.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/output/summary.js';
import { Command } from 'commander';
import { registerReplay, type ReplayCliOptions } from '../../src/cli/replay.js';
import { registerPolicy } from '../../src/cli/policy.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { readVerdicts, replayToTemp } from './helpers.js';
import { InterfaceEnds } from '../../src/pipeline/interface-ends.js';
import { compilePolicyText } from '../../src/policy/load.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const CAPTURE = path.join(here, 'fixtures/gateway-both-ways.pcap');
const CONFIG = path.join(here, 'fixtures/gateway-running-config.txt');
const tmp = mkdtempSync(path.join(tmpdir(), 'ifmap-'));

/** No interface option given: what `replay IN --policy CONFIG` passes. */
const FROM_CONFIG: Partial<ReplayCliOptions> = { policy: CONFIG, clientInterface: undefined, serverInterface: undefined };

const built = (log: string) => readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('302013') || l.includes('302014'));
const classes = (verdicts: string) =>
  readVerdicts(verdicts)
    .filter((v) => v.rule === 'connection' && v.detail.startsWith('built:'))
    .map((v) => `${v.client} ${/policy-map (\S+), inspect esmtp (\S+)\)/.exec(v.detail)?.slice(1).join(' ')}`);

describe('interfaces taken from the config', () => {
  it('names, Built inbound/outbound and the endpoint order per connection', async () => {
    const r = await replayToTemp(CAPTURE, FROM_CONFIG);
    expect(built(r.syslog)).toEqual([
      '%ASA-6-302013: Built inbound TCP connection 1 for outside:198.51.100.7/40002 (198.51.100.7/40002) to inside:192.168.20.25/25 (192.168.20.25/25)',
      '%ASA-6-302014: Teardown TCP connection 1 for outside:198.51.100.7/40002 to inside:192.168.20.25/25 duration 0:00:00 bytes 723 TCP FINs',
      '%ASA-6-302013: Built outbound TCP connection 2 for outside:203.0.113.50/25 (203.0.113.50/25) to inside:192.168.20.25/40002 (192.168.20.25/40002)',
      '%ASA-6-302014: Teardown TCP connection 2 for outside:203.0.113.50/25 to inside:192.168.20.25/40002 duration 0:00:00 bytes 723 TCP FINs',
      '%ASA-6-302013: Built outbound TCP connection 3 for outside:203.0.113.60/25 (203.0.113.60/25) to dmz:172.16.5.10/40002 (172.16.5.10/40002)',
      '%ASA-6-302014: Teardown TCP connection 3 for outside:203.0.113.60/25 to dmz:172.16.5.10/40002 duration 0:00:00 bytes 723 TCP FINs',
    ]);
    const note = formatSummary(r.summary).split('\n').find((l) => l.startsWith('NOTE: each connection'));
    expect(note).toContain('inside (security-level 100, 192.168.20.0/24, route 10.20.0.0/16)');
    expect(note).toContain('outside (security-level 0, 203.0.113.0/28, default route)');
  });

  it("the inside interface policy selects the connections entering or leaving by inside, not the DMZ relay's", async () => {
    const r = await replayToTemp(CAPTURE, FROM_CONFIG);
    expect(classes(r.verdicts)).toEqual([
      '198.51.100.7:40002 inside_policy inside_esmtp',
      '192.168.20.25:40002 inside_policy inside_esmtp',
      '172.16.5.10:40002 global_policy _default_esmtp_map',
    ]);
    // the bytes follow: only the DMZ relay's banner is masked (inside_esmtp has no mask-banner)
    const masked = readVerdicts(r.verdicts).filter((v) => /banner/i.test(v.rule) || /mask-banner/.test(v.detail)).map((v) => v.client);
    expect(new Set(masked)).toEqual(new Set(['172.16.5.10:40002']));
  });

  it('an interface policy on dmz selects only the session entering by dmz', async () => {
    const cfg = path.join(tmp, 'dmz.txt');
    writeFileSync(cfg, readFileSync(CONFIG, 'utf8').replace('service-policy inside_policy interface inside', 'service-policy inside_policy interface dmz'));
    const r = await replayToTemp(CAPTURE, { ...FROM_CONFIG, policy: cfg });
    expect(classes(r.verdicts)).toEqual([
      '198.51.100.7:40002 global_policy _default_esmtp_map',
      '192.168.20.25:40002 global_policy _default_esmtp_map',
      '172.16.5.10:40002 inside_policy inside_esmtp',
    ]);
  });

  it('a config without routes (show running-config interface): an address no subnet holds is across the firewall from the placed end', async () => {
    const cfg = path.join(tmp, 'no-routes.txt');
    writeFileSync(cfg, readFileSync(CONFIG, 'utf8').split('\n').filter((l) => !l.startsWith('route ')).join('\n'));
    const r = await replayToTemp(CAPTURE, { ...FROM_CONFIG, policy: cfg });
    // 198.51.100.7 and 203.0.113.50/.60 are on no connected subnet and no route; before, the
    // deliveries were logged inside -> inside and dmz -> inside
    expect(built(r.syslog).filter((l) => l.includes('302013')).map((l) => l.replace(/ \(.*$/, ''))).toEqual([
      '%ASA-6-302013: Built inbound TCP connection 1 for outside:198.51.100.7/40002',
      '%ASA-6-302013: Built outbound TCP connection 2 for outside:203.0.113.50/25',
      '%ASA-6-302013: Built outbound TCP connection 3 for outside:203.0.113.60/25',
    ]);
    // the other way round: an unrouted client talking to a server on outside is behind the highest
    // level (inside, not the management-only interface); neither placed: the fixed pair
    const ends = new InterfaceEnds(compilePolicyText(readFileSync(cfg, 'utf8'), 'no-routes.txt').interfaceRouting, undefined, undefined);
    expect(ends.of('10.1.2.3', '203.0.113.9')).toEqual({ client: 'inside', server: 'outside', outbound: true, insideEnd: 'client' });
    expect(ends.of('10.1.2.3', '10.4.5.6')).toEqual({ client: 'outside', server: 'inside', outbound: false, insideEnd: 'server' });
    // a config naming only inside (one interface block pasted): the unrouted MX is on the other default
    const lone = new InterfaceEnds(compilePolicyText('interface GigabitEthernet1/2\n nameif inside\n security-level 100\n ip address 192.168.20.1 255.255.255.0\n', 'lone.txt').interfaceRouting, undefined, undefined);
    expect(lone.of('192.168.20.25', '203.0.113.50')).toEqual({ client: 'inside', server: 'outside', outbound: true });
    expect(lone.of('198.51.100.7', '192.168.20.25')).toEqual({ client: 'outside', server: 'inside', outbound: false });
  });

  it('a RST from the higher security level is TCP Reset-I, as its connection is Built outbound (DMZ relay resetting its delivery)', async () => {
    // fixtures/dmz-relay-reset.pcap: the real session 12-unknown-commands, whose client ends it with
    // a RST, as 172.16.5.10 (dmz, level 50) -> 203.0.113.60 (outside, level 0); before: Reset-O
    const r = await replayToTemp(path.join(here, 'fixtures/dmz-relay-reset.pcap'), FROM_CONFIG);
    const lines = built(r.syslog);
    expect(lines[0]).toMatch(/^%ASA-6-302013: Built outbound TCP connection 1 for outside:203\.0\.113\.60\/25 .* to dmz:172\.16\.5\.10\/40035 /);
    expect(lines[1]).toMatch(/^%ASA-6-302014: Teardown TCP connection 1 for outside:203\.0\.113\.60\/25 to dmz:172\.16\.5\.10\/40035 duration \S+ bytes \d+ TCP Reset-I$/);
    // the fixed pair keeps the name rule: the client on outside resets, Reset-O
    const fixed = await replayToTemp(path.join(here, 'fixtures/dmz-relay-reset.pcap'), { ...FROM_CONFIG, clientInterface: 'outside' });
    expect(built(fixed.syslog)[1]).toMatch(/ TCP Reset-O$/);
  });

  it('--client-interface or --server-interface forces one pair for every connection, as before', async () => {
    // without either option the same capture and config give other pairs (the test above)
    const free = await replayToTemp(CAPTURE, FROM_CONFIG);
    expect(built(free.syslog).filter((l) => l.includes('Built outbound'))).toHaveLength(2);
    for (const forced of [{ clientInterface: 'outside' }, { serverInterface: 'inside' }]) {
      const r = await replayToTemp(CAPTURE, { ...FROM_CONFIG, ...forced });
      const lines = built(r.syslog).filter((l) => l.includes('302013'));
      expect(lines.map((l) => l.replace(/ \(.*$/, ''))).toEqual([
        '%ASA-6-302013: Built inbound TCP connection 1 for outside:198.51.100.7/40002',
        '%ASA-6-302013: Built inbound TCP connection 2 for outside:192.168.20.25/40002',
        '%ASA-6-302013: Built inbound TCP connection 3 for outside:172.16.5.10/40002',
      ]);
      // every connection leaves by inside: the inside policy takes all three
      expect(classes(r.verdicts).every((c) => c.endsWith('inside_policy inside_esmtp'))).toBe(true);
      expect(r.summary.interfacesFromConfig).toBeUndefined();
    }
  });

  it('the replay command: no interface option means the config places them; policy check names them', async () => {
    const log = path.join(tmp, 'cli.log');
    const program = new Command().exitOverride();
    registerReplay(program);
    registerPolicy(program);
    await program.parseAsync(['replay', CAPTURE, '--policy', CONFIG, '--syslog', log], { from: 'user' });
    expect(built(log).filter((l) => l.includes('Built outbound'))).toHaveLength(2);
    await program.parseAsync(['replay', CAPTURE, '--policy', CONFIG, '--syslog', log, '--server-interface', 'inside'], { from: 'user' });
    expect(built(log).filter((l) => l.includes('Built outbound'))).toHaveLength(0);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['policy', 'check', CONFIG], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toContain('! interfaces from the config (replay, live, diagnose and regress place each connection');
    process.exitCode = 0;
  });

  it("diagnose reasons with each session's own interface policy, as its replay applies it", async () => {
    const report = await runDiagnose(CAPTURE, { policyPath: CONFIG });
    expect(report.sessions.map((s) => /policy-map (\S+)/.exec(s.decision ?? '')?.[1])).toEqual(['inside_policy', 'inside_policy', 'global_policy']);
  });
});
