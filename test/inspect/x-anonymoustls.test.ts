/**
 * X-ANONYMOUSTLS, Exchange 2007+'s STARTTLS between transport servers: answered `220 2.0.0 SMTP
 * server ready`, then TLS. The ASA does not know it (a private extension, ASA-ESMTP.md 1.1;
 * allow-tls covers STARTTLS only), so through the ASA the server gets X's and answers 5xx. The
 * engine already stopped at a 2xx to an X'd STARTTLS (`starttls-divergence=stop`); X-ANONYMOUSTLS
 * was an ordinary X'd line, so the TLS records after its 220 were judged as command lines: X's
 * over the ClientHello and a `cmd line length gt 512` drop-connection (108004 + 507003) that no
 * ASA logs for this session. Now it is the same divergence: one note, inspection ends.
 * Real bytes: fixtures/x-anonymoustls.pcap (make-x-anonymoustls.py, Python ssl).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureSegments, run, defaultMap, mapFrom, opts, latin1, type Segment } from './helpers.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'x-anonymoustls.pcap');

let segs: Segment[] = [];
beforeAll(async () => {
  segs = await captureSegments(FIXTURE);
});

describe('X-ANONYMOUSTLS answered 220, then TLS (real Python ssl session)', () => {
  it('the capture: X-ANONYMOUSTLS, 220, then a TLS ClientHello from the client', () => {
    const client = segs.filter((s) => s.dir === 0);
    const i = client.findIndex((s) => latin1(s.bytes) === 'X-ANONYMOUSTLS\r\n');
    expect(i).toBeGreaterThan(0);
    expect(client[i + 1]!.bytes[0]).toBe(0x16); // TLS handshake record
    expect(latin1(Buffer.concat(segs.filter((s) => s.dir === 1).map((s) => s.bytes)))).toContain('220 2.0.0 SMTP server ready\r\n');
  });

  it('default: the line is X\'d, the 220 ends inspection with one starttls-divergence note, the TLS passes unchanged, no drop', () => {
    const r = run(defaultMap(), segs);
    expect(r.session.state).toBe('diverged');
    expect(r.verdicts.some((v) => v.action === 'drop-connection' || v.syslog.length > 0)).toBe(false);
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command').map((v) => v.detail)).toEqual(['"X-ANONYM...": not a supported command']);
    const note = r.verdicts.filter((v) => v.rule === 'starttls-divergence');
    expect(note).toHaveLength(1);
    expect(note[0]!.detail).toContain('server accepted X-ANONYMOUSTLS (220)');
    // only the X-ANONYMOUSTLS line was edited on the client side
    expect(r.edits.filter((e) => e.dir === 0).reduce((n, e) => n + e.bytes.length, 0)).toBe('X-ANONYMOUSTLS'.length);
  });

  it('allow-tls does not cover it: the same divergence', () => {
    const map = mapFrom('policy-map type inspect esmtp M\n parameters\n  allow-tls\n');
    const r = run(map, segs);
    expect(r.session.state).toBe('diverged');
    expect(r.verdicts.some((v) => v.rule === 'unknown-command' && v.detail.startsWith('"X-ANONYM'))).toBe(true);
  });

  it('starttls-divergence=inspect keeps judging the TLS bytes as SMTP (the literal reading)', () => {
    const r = run(defaultMap(), segs, opts({ starttlsDivergence: 'inspect' }));
    expect(r.verdicts.some((v) => v.rule === 'starttls-divergence')).toBe(false);
    expect(r.verdicts.filter((v) => v.rule === 'unknown-command').length).toBeGreaterThan(1);
  });
});
