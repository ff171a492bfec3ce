import { describe, expect, it } from 'vitest';
import { defaultEngineOptions, parseEngineOption, parseEngineOptions, engineOptionsHelp, ENGINE_OPTION_TABLE } from '../../src/inspect/options.js';
import { SmtpInspectError } from '../../src/errors.js';

describe('engine options table', () => {
  it('defaults come from the table', () => {
    const o = defaultEngineOptions();
    expect(o.judging).toBe('segment');
    expect(o.bannerMask).toBe('B');
    expect(o.ehloMask).toBe('line');
    expect(o.lengthCountsCrlf).toBe(false);
    expect(o.rcptCountScope).toBe('transaction');
    expect(o.pipeSignature).toBe('leading');
    expect(o.pipeScope).toBe('address');
    expect(o.specialCharacters).toBe('|');
    expect(o.syslog507003Level).toBe(4);
    expect(o.maxPending).toBe(128);
    expect(o.sizeCheck).toBe(true);
    expect(o.starttlsDivergence).toBe('stop');
    expect(o.rateLimitExceeded).toBe('drop-connection');
    expect(parseEngineOptions(['starttls-divergence=inspect', 'rate-limit-exceeded=log'])).toMatchObject({ starttlsDivergence: 'inspect', rateLimitExceeded: 'log' });
  });

  it('every row has help and evidence, and its default parses', () => {
    for (const s of ENGINE_OPTION_TABLE) {
      expect(s.help.length).toBeGreaterThan(10);
      expect(s.evidence).toMatch(/^(D|F|I)/);
      expect(() => parseEngineOption(`${s.name}=${s.default}`)).not.toThrow();
    }
  });

  it('parses name=value into typed values', () => {
    const o = parseEngineOptions(['judging=line', 'length-counts-crlf=yes', 'syslog-507003-level=3', 'max-pending=5', 'special-characters=|\\0\\`']);
    expect(o.judging).toBe('line');
    expect(o.lengthCountsCrlf).toBe(true);
    expect(o.syslog507003Level).toBe(3);
    expect(o.maxPending).toBe(5);
    expect(o.specialCharacters).toBe('|\0`');
  });

  it.each([
    ['judging=packet', /bad value 'packet' \(expected segment\|line\)/],
    ['nosuch=1', /unknown engine option 'nosuch'/],
    ['judging', /needs a value/],
    ['max-pending=0', /expected 1\.\.100000/],
    ['max-pending=abc', /bad value/],
  ])('rejects %s with E_OPTION', (text, msg) => {
    try {
      parseEngineOption(text);
      expect.fail('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(SmtpInspectError);
      expect((e as SmtpInspectError).code).toBe('E_OPTION');
      expect((e as Error).message).toMatch(msg);
    }
  });

  it('help lists every option with its default', () => {
    const h = engineOptionsHelp();
    for (const s of ENGINE_OPTION_TABLE) expect(h).toContain(`${s.name}=`);
    expect(h).toContain('(default segment)');
  });
});
