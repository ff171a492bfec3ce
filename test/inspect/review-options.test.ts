/**
 * Spec-review fixes on real bytes: raw Node clients against the npm smtp-server, captured with
 * tcpdump (fixtures/make-review-sessions.cjs, fixtures/README.md), read through our own reader and
 * reassembly and run through the engine.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { captureSegments, latin1, mapFrom, opts, run } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const RELAY = fixture('review-relay.pcap');

const relayMap = (action: 'log' | 'drop-connection') =>
  mapFrom(`policy-map type inspect esmtp M\n parameters\n  no mask-banner\n  mail-relay example.test action ${action}\n`);

describe('mail-relay (real smtp-server session)', () => {
  it('a recipient without a domain (RCPT TO:<postmaster>) is local: no action, even with drop-connection', async () => {
    const segs = await captureSegments(RELAY);
    const r = run(relayMap('drop-connection'), segs);
    // the first relayed recipient is bob@elsewhere.test; postmaster and the long local address pass
    expect(r.session.state).toBe('dropped');
    const v = r.verdicts.filter((x) => x.rule === 'mail-relay');
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toBe('recipient domain "elsewhere.test" is not the local domain "example.test"');
    expect(latin1(r.input[0]).slice(v[0]!.offset - 27, v[0]!.offset + 1)).toBe('RCPT TO:<bob@elsewhere.test>');
  });

  it('the domain of an address longer than max-field-buffer is its real domain (5000 a + @example.test is local)', async () => {
    const segs = await captureSegments(RELAY);
    for (const maxFieldBuffer of [64, 4096]) {
      const r = run(relayMap('log'), segs, opts({ maxFieldBuffer }));
      const v = r.verdicts.filter((x) => x.rule === 'mail-relay');
      expect(v.map((x) => x.detail)).toEqual(['recipient domain "elsewhere.test" is not the local domain "example.test"']);
      expect(r.session.state).toBe('inspecting');
    }
  });

  it('a domain over 255 bytes is not a valid domain: relay, the detail says so', () => {
    const long = 'x'.repeat(250) + '.example.test';
    const r = run(relayMap('log'), [
      { dir: 1, bytes: Buffer.from('220 mx ESMTP\r\n') },
      { dir: 0, bytes: Buffer.from(`RCPT TO:<bob@${long}>\r\n`) },
      { dir: 0, bytes: Buffer.from('RCPT TO:<bob@a@example.test>\r\n') },
    ], opts({ mailRelaySubdomains: true }));
    const v = r.verdicts.filter((x) => x.rule === 'mail-relay');
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toMatch(/^recipient domain of 263 bytes \("x{60}\.\.\."; over RFC 5321's 255, not a valid domain\) is not the local domain "example.test"$/);
  });
});
