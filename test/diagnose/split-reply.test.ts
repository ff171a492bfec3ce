/**
 * A capture taken behind the ASA where the server wrote each EHLO reply line in its own packet:
 * evidence points at the packet carrying each masked keyword (not the reply's first packet), and
 * our emulation re-masking the same keywords is not reported a second time as a new finding.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDiagnose } from '../../src/diagnose/run.js';
import type { DiagnoseReport } from '../../src/diagnose/model.js';
import { makeBehind } from './behind.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'ehlo-reply-line-per-packet.pcap');

describe('EHLO reply spread over several packets, behind a firewall', () => {
  let r: DiagnoseReport;
  beforeAll(async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'split-reply-')), 'behind.pcap');
    await makeBehind(fixture, out);
    r = await runDiagnose(out, { policyPath: null });
  });

  it('evidence names the packet of each masked line', () => {
    expect(r.firewallDetected).toBe(true);
    expect(r.evidence.map((e) => `${e.kind}@${e.packet}`)).toEqual([
      'masked-banner@4', 'starttls-masked@11', 'ehlo-keyword-masked@13', 'ehlo-keyword-masked@14',
    ]);
  });

  it('each masked thing is one finding: the emulation does not repeat them', () => {
    const f = r.sessions[0]!.findings;
    expect(f.map((x) => `${x.packet}:${x.rule}:${x.source}`)).toEqual([
      '4:mask-banner:capture',
      '11:no allow-tls:capture',
      '13:match ehlo-reply-parameter others:capture',
      '14:match ehlo-reply-parameter others:capture',
    ]);
    expect(r.counts.findings).toBe(4);
  });
});

describe('the original capture (no firewall in the path)', () => {
  it('our emulation masks STARTTLS in packet 11 and the banner; nothing is taken for evidence', async () => {
    const r = await runDiagnose(fixture, { policyPath: null });
    expect(r.evidence).toEqual([]);
    const f = r.sessions[0]!.findings.map((x) => `${x.packet}:${x.rule}:${x.source}`);
    expect(f).toEqual(expect.arrayContaining(['4:mask-banner:emulation', '11:allow-tls:emulation']));
  });
});
