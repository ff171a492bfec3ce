/**
 * `show service-policy inspect esmtp` prints every configured ESMTP class of every applied
 * service-policy, with zero counts when it saw no traffic (ASA-ESMTP.md 5: `Inspect: esmtp
 * _default_esmtp_map, packet 0, lock fail 0, drop 0, ...`), in replay (and live: same pipeline)
 * and in the proxy.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replayToTemp } from './helpers.js';
import { EsmtpCounters, formatServicePolicy } from '../../src/inspect/counters.js';
import { defaultEngineOptions } from '../../src/inspect/options.js';
import { loadPolicy } from '../../src/policy/load.js';
import { createInspectorFactory } from '../../src/proxy/engine-binding.js';

const repo = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const ESA = repo('captures/07c-rcpt-101-esa-exempt');
// a real smtp-server session to 127.0.0.1:25 (test/inspect/fixtures/README.md)
const SESSION = repo('test/inspect/fixtures/pipelined-after-data.pcap');

const IFACE_POLICY = ['class-map SMTP', ' match port tcp eq 25', 'policy-map OUTSIDE-POLICY', ' class SMTP', '  inspect esmtp', 'service-policy OUTSIDE-POLICY interface outside', ''].join('\n');

function policyFile(text: string): string {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'sp-')), 'policy.txt');
  writeFileSync(f, text);
  return f;
}

/** The `Inspect:` head line under `Class-map: NAME` of the given scope heading. */
function inspectLine(sp: string, scope: string, className: string): string | undefined {
  const lines = sp.split('\n');
  const s = lines.indexOf(scope);
  if (s < 0) return undefined;
  for (let i = s + 1; i < lines.length && !/^\S/.test(lines[i]!); i++) {
    if (lines[i] === `    Class-map: ${className}`) return lines[i + 1]?.trim();
  }
  return undefined;
}

describe('show service-policy lists classes that saw no traffic', () => {
  it('every connection exempted: the inspecting class still prints, all counts zero (captures/07c esa-exempt)', async () => {
    const r = await replayToTemp(path.join(ESA, 'capture.pcap'), { policy: path.join(ESA, 'policy.txt') });
    expect(r.summary.connections.inspected).toBe(0);
    const sp = r.summary.servicePolicy;
    expect(inspectLine(sp, 'Global policy:', 'ESMTP-CLASS')).toMatch(/^Inspect: esmtp \S+, packet 0, lock fail 0, drop 0, reset-drop 0, /);
    // its parameters and match lines with their zero counts
    expect(sp).toContain('        mask-banner, count 0\n');
    expect(sp).toMatch(/match cmd RCPT count gt 100\n {10}drop-connection log, packet 0\n/);
  });

  it('interface policy: the global policy\'s idle class prints beside the interface class that inspected', async () => {
    const r = await replayToTemp(SESSION, { policy: policyFile(IFACE_POLICY) });
    const sp = r.summary.servicePolicy;
    expect(inspectLine(sp, 'Global policy:', 'inspection_default')).toMatch(/^Inspect: esmtp _default_esmtp_map, packet 0, lock fail 0, drop 0, reset-drop 0, /);
    const iface = inspectLine(sp, 'Interface outside:', 'SMTP');
    expect(iface).toMatch(/^Inspect: esmtp _default_esmtp_map, packet [1-9]\d*, /);
    // global first, once each
    expect(sp.indexOf('Global policy:')).toBeLessThan(sp.indexOf('Interface outside:'));
    expect(sp.split('Class-map: inspection_default').length).toBe(2);
  });

  it('proxy: the inspector factory registers the same classes before any connection', async () => {
    const policy = await loadPolicy(policyFile(IFACE_POLICY));
    const counters = new EsmtpCounters();
    createInspectorFactory({ policy, engineOptions: defaultEngineOptions(), counters, clientInterface: 'outside', serverInterface: 'inside' });
    const sp = formatServicePolicy(counters);
    expect(inspectLine(sp, 'Global policy:', 'inspection_default')).toMatch(/packet 0, /);
    expect(inspectLine(sp, 'Interface outside:', 'SMTP')).toMatch(/packet 0, /);
  });
});
