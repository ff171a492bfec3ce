import { describe, expect, it } from 'vitest';
import * as L from '../../src/inspect/syslog.js';

const out = { iface: 'outside', ip: '75.75.75.75', port: 35314 };
const dmz = { iface: 'DMZ', ip: '10.0.25.101', port: 25 };

describe('ASA syslog formatters (ASA-ESMTP.md section 7)', () => {
  it('108004 reproduces the field sample byte for byte', () => {
    expect(L.syslog108004('ESMTP Classification', 'Dropped connection for', 'Request', out, dmz, L.matchedClass(4, 'header line length gt 998'))).toBe(
      '%ASA-4-108004: ESMTP Classification: Dropped connection for ESMTP Request from outside:75.75.75.75/35314 to DMZ:10.0.25.101/25; matched Class 4: header line length gt 998',
    );
  });
  it('507003 reproduces the field sample (level 4) and the guide level 3', () => {
    expect(L.syslog507003({ ...dmz, iface: 'PUBLIC_DMZ' }, out, 'inspector disconnected, dropped packet')).toBe(
      '%ASA-4-507003: tcp flow from PUBLIC_DMZ:10.0.25.101/25 to outside:75.75.75.75/35314 terminated by inspection engine, reason - inspector disconnected, dropped packet.',
    );
    expect(L.syslog507003(out, dmz, 'inspector drop reset', 3)).toMatch(/^%ASA-3-507003: tcp flow from outside:75\.75\.75\.75\/35314 to DMZ:10\.0\.25\.101\/25 terminated by inspection engine, reason - inspector drop reset\.$/);
  });
  it('108005, 108006, 108007, 108002, 108003', () => {
    expect(L.syslog108005('ESMTP Classification', 'Request', out, dmz, 'matched Class 3: body line length gt 998')).toBe(
      '%ASA-6-108005: ESMTP Classification: Received ESMTP Request from outside:75.75.75.75/35314 to DMZ:10.0.25.101/25; matched Class 3: body line length gt 998',
    );
    expect(L.syslog108006(out, dmz, 100, 250)).toBe(
      '%ASA-7-108006: Detected ESMTP size violation from outside:75.75.75.75/35314 to DMZ:10.0.25.101/25; declared size is: 100, actual size is 250',
    );
    expect(L.syslog108007(out, dmz)).toBe(
      '%ASA-6-108007: TLS started on ESMTP session between client outside:75.75.75.75/35314 and server DMZ:10.0.25.101/25',
    );
    expect(L.syslog108002('75.75.75.75', '10.0.25.101', 'pipe sender@example.test')).toBe(
      '%ASA-2-108002: SMTP replaced string: out 75.75.75.75 in 10.0.25.101 data: pipe sender@example.test',
    );
    expect(L.syslog108003(out, dmz, '|/bin/sh')).toBe(
      '%ASA-2-108003: Terminating ESMTP connection; malicious pattern detected in the mail address from outside:75.75.75.75/35314 to DMZ:10.0.25.101/25. Mail Address:|/bin/sh',
    );
    expect(L.syslog108003(out, dmz, '|x', 'old')).toBe(
      '%ASA-2-108003: Terminating ESMTP/SMTP connection; malicious pattern detected in the mail address from outside:75.75.75.75/35314 to DMZ:10.0.25.101/25. Data:|x',
    );
  });
  it('302013 / 302014 with teardown reasons and reset spacing', () => {
    expect(L.syslog302013(11, 'inbound', out, dmz)).toBe(
      '%ASA-6-302013: Built inbound TCP connection 11 for outside:75.75.75.75/35314 (75.75.75.75/35314) to DMZ:10.0.25.101/25 (10.0.25.101/25)',
    );
    expect(L.syslog302014(11, out, dmz, 18, 141, 'Flow closed by inspection')).toBe(
      '%ASA-6-302014: Teardown TCP connection 11 for outside:75.75.75.75/35314 to DMZ:10.0.25.101/25 duration 0:00:18 bytes 141 Flow closed by inspection',
    );
    expect(L.syslog302014(2, out, dmz, 3725, 9, 'TCP Reset-I')).toMatch(/duration 1:02:05 bytes 9 TCP Reset-I$/);
    expect(L.syslog302014(2, out, dmz, 0, 9, 'TCP Reset-O', 'spaced')).toMatch(/bytes 9 TCP Reset - O$/);
  });
  it('201010-201013 connection limits', () => {
    const s = { ip: '198.51.100.7', port: 40000 };
    const d = { ip: '192.0.2.25', port: 25 };
    expect(L.syslog201011(100, 100, 'input', s, d, 'outside')).toBe(
      '%ASA-3-201011: Connection limit exceeded 100/100 for input packet from 198.51.100.7/40000 to 192.0.2.25/25 on interface outside',
    );
    expect(L.syslog201010(5, 5, 'input', s, d, 'outside')).toMatch(/^%ASA-6-201010: Embryonic connection limit exceeded 5\/5 for input packet from/);
    expect(L.syslog201012(3, 2, 'input', s, d, 'outside')).toMatch(/^%ASA-6-201012: Per-client embryonic connection limit exceeded 3\/2 /);
    expect(L.syslog201013(3, 2, 'input', s, d, 'outside')).toMatch(/^%ASA-3-201013: Per-client connection limit exceeded 3\/2 /);
  });
  it('payload text in log lines is printable and bounded', () => {
    expect(L.printable('a\r\nb\x00')).toBe('a\\x0d\\x0ab\\x00');
    expect(L.printable('x'.repeat(300)).length).toBe(259);
  });
});
