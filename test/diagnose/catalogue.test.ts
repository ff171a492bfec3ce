import { describe, it, expect } from 'vitest';
import { categorize, fixKindsFor, severityOf, symptomFor } from '../../src/diagnose/catalogue.js';

const stage = { lastCommand: 'RCPT', inData: false, xedCommands: 0, multiLineGreeting: false };

describe('symptom catalogue', () => {
  it('classifies the rule names the engine writes', () => {
    expect(categorize('mask-banner')).toBe('mask-banner');
    expect(categorize('allow-tls', 'EHLO keyword STARTTLS -> XXXXXXXA')).toBe('starttls-masked');
    expect(categorize('match ehlo-reply-parameter others', 'EHLO keyword SMTPUTF8 (others)')).toBe('ehlo-keyword-masked');
    expect(categorize('match ehlo-reply-parameter others', 'EHLO keyword STARTTLS')).toBe('starttls-masked');
    expect(categorize('unknown-command')).toBe('unknown-command');
    expect(categorize('match cmd RCPT count gt 100')).toBe('cmd-rcpt-count');
    expect(categorize('match  header line length gt 998')).toBe('header-line-length');
    expect(categorize('match MIME filename length gt 255')).toBe('mime-filename-length');
    expect(categorize('pipe-in-address')).toBe('special-character');
  });

  it('severity and fix order', () => {
    expect(severityOf('cmd-rcpt-count', 'drop-connection')).toBe('breaks');
    expect(severityOf('body-line-length', 'log')).toBe('logged');
    expect(fixKindsFor('cmd-rcpt-count', 'breaks')).toEqual(['raise-limit', 'exempt-gateway']);
    expect(fixKindsFor('starttls-masked', 'degrades')).toEqual(['allow-tls', 'exempt-gateway']);
    expect(fixKindsFor('body-line-length', 'logged')).toEqual([]);
  });

  it('drop vs reset wording follows what each side experiences', () => {
    const drop = symptomFor('cmd-rcpt-count', 'drop-connection', stage, '192.0.2.1:40000', '192.0.2.25:25');
    expect(drop.client[0]).toBe('Postfix smtp: "conversation with 192.0.2.25 timed out while sending RCPT TO"');
    expect(drop.server[0]).toContain('timeout after RCPT from 192.0.2.1');
    const reset = symptomFor('header-line-length', 'reset', { ...stage, inData: true }, '192.0.2.1:40000', '192.0.2.25:25');
    expect(reset.client[0]).toBe('Postfix smtp: "lost connection with 192.0.2.25 while sending message body"');
    expect(reset.server[0]).toBe('Postfix smtpd: "lost connection after DATA from 192.0.2.1"');
  });

  it('a masked multi-line greeting warns about the greeting time-out; X\'d commands past the ESA limit say 421', () => {
    const b = symptomFor('mask-banner', 'mask', { ...stage, multiLineGreeting: true }, 'c:1', 's:25');
    expect(b.client.join('\n')).toContain('timed out while receiving the initial server greeting');
    expect(symptomFor('mask-banner', 'mask', stage, 'c:1', 's:25').client.join('\n')).not.toContain('greeting"');
    const x = symptomFor('unknown-command', 'x-substitute', { ...stage, xedCommands: 6 }, 'c:1', 's:25');
    expect(x.server.join('\n')).toContain('this session has 6 X\'d commands; at its bad-command limit (5 by default) the ESA answers "421 Exceeded bad SMTP command limit, disconnecting."');
  });
});
