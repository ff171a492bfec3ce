/** Server side: greeting masking (readings A/B, multi-line, split), EHLO keyword masking, STARTTLS keyword. */
import { describe, expect, it } from 'vitest';
import { run, C, S, defaultMap, mapFrom, opts, latin1 } from './helpers.js';

const EHLO_REPLY = '250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n';

describe('mask-banner', () => {
  const banner = '220 mail2.nwtraders.msft Microsoft ESMTP Mail Service 2020\r\n';
  it('Reading B (default): every 2 and 0 survives, CR LF kept, length kept', () => {
    const r = run(defaultMap(), [S(banner)]);
    expect(latin1(r.out[1])).toBe('220 ****2' + '*'.repeat(45) + '2020\r\n');
    // the obviously-correct model: keep the first 4 bytes, CR, LF, '2', '0'
    const model = [...banner].map((ch, i) => (i < 4 || '\r\n20'.includes(ch) ? ch : '*')).join('');
    expect(latin1(r.out[1])).toBe(model);
    expect(r.out[1].length).toBe(banner.length);
    expect(r.verdicts).toEqual([{ dir: 1, offset: 0, rule: 'mask-banner', action: 'mask', syslog: [], detail: 'server greeting masked (banner-mask=B)' }]);
  });
  it('Reading A: only the first 4 bytes survive', () => {
    const r = run(defaultMap(), [S(banner)], opts({ bannerMask: 'A' }));
    expect(latin1(r.out[1])).toBe('220 ' + '*'.repeat(banner.length - 6) + '\r\n');
  });
  it('multi-line greeting (B-1): every line masked, continuation prefixes not special-cased', () => {
    const r = run(defaultMap(), [S('220-mx.example ESMTP\r\n220-second line\r\n220 last\r\n')]);
    // under B the continuation lines keep their '220' digits but lose the '-' / ' ' separator
    expect(latin1(r.out[1])).toBe('220-****************\r\n220************\r\n220*****\r\n');
  });
  it('a greeting split across segments is masked the same; later replies untouched', () => {
    const r = run(defaultMap(), [S('22'), S('0 ab0'), S('c\r\n'), C('HELO x\r\n'), S('250 mx hello 2\r\n')]);
    expect(latin1(r.out[1])).toBe('220 **0*\r\n250 mx hello 2\r\n');
  });
  it('no mask-banner: greeting untouched, no verdict', () => {
    const r = run(mapFrom('policy-map type inspect esmtp M\n parameters\n  no mask-banner\n'), [S('220 mx ready\r\n')]);
    expect(latin1(r.out[1])).toBe('220 mx ready\r\n');
    expect(r.verdicts).toEqual([]);
  });
});

describe('EHLO reply keywords', () => {
  it('default map: STARTTLS -> XXXXXXXA, others (CHUNKING, SMTPUTF8) -> X over the line text', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('EHLO c\r\n'), S(EHLO_REPLY)]);
    const lines = latin1(r.out[1]).split('\r\n');
    expect(lines.slice(1)).toEqual([
      '250-mail.example.test',
      '250-PIPELINING',
      '250-SIZE 10240000',
      '250-XXXXXXXA',
      '250-AUTH PLAIN LOGIN',
      '250-AUTH=LOGIN',
      '250-ENHANCEDSTATUSCODES',
      '250-XXXXXXXX',
      '250 XXXXXXXX',
      '',
    ]);
  });
  it('ehlo-mask=keyword masks only the keyword', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250 X-EXPS GSSAPI NTLM\r\n')], opts({ ehloMask: 'keyword' }));
    expect(latin1(r.out[1]).split('\r\n')[2]).toBe('250 XXXXXX GSSAPI NTLM');
  });
  it('ehlo-mask=line masks the parameters too', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250 X-EXPS GSSAPI NTLM\r\n')]);
    expect(latin1(r.out[1]).split('\r\n')[2]).toBe('250 XXXXXXXXXXXXXXXXXX');
  });
  it('with allow-tls the STARTTLS keyword is left alone', () => {
    const map = mapFrom('policy-map type inspect esmtp M\n parameters\n  no mask-banner\n  allow-tls\n match ehlo-reply-parameter others\n  mask\n');
    const r = run(map, [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250 STARTTLS\r\n')]);
    expect(latin1(r.out[1])).toBe('220 x\r\n250-x\r\n250 STARTTLS\r\n');
  });
  it('a named keyword (auth) with match and match not', () => {
    const map = mapFrom('policy-map type inspect esmtp M\n parameters\n  no mask-banner\n match ehlo-reply-parameter auth\n  mask log\n');
    const r = run(map, [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250-AUTH=LOGIN\r\n250 AUTH PLAIN\r\n')]);
    expect(latin1(r.out[1]).split('\r\n').slice(2, 4)).toEqual(['250-XXXXXXXXXX', '250 XXXXXXXXXX']);
    expect(r.verdicts[0]!.syslog[0]).toBe(
      '%ASA-4-108004: ESMTP Classification: Masked header flags for ESMTP Response from inside:192.0.2.25/25 to outside:198.51.100.7/40003; matched Class 1: ehlo-reply-parameter auth',
    );
    const not = mapFrom('policy-map type inspect esmtp M\n parameters\n  no mask-banner\n match not ehlo-reply-parameter auth size\n  mask\n');
    const r2 = run(not, [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250-AUTH PLAIN\r\n250-SIZE 1\r\n250 DSN\r\n')]);
    expect(latin1(r2.out[1]).split('\r\n').slice(2, 5)).toEqual(['250-AUTH PLAIN', '250-SIZE 1', '250 XXX']);
  });
  it('a keyword split across segments holds committed() and is still masked', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('EHLO c\r\n'), S('250-x\r\n250-STAR'), S('TTLS\r\n250 CHUNK'), S('ING\r\n')]);
    expect(latin1(r.out[1]).split('\r\n').slice(2, 4)).toEqual(['250-XXXXXXXA', '250 XXXXXXXX']);
    // after the 3rd segment the line '250-STAR' is still undecided: committed stays at its start
    expect(r.committedAfter[2]).toBe(7 + 7);
    expect(r.committedAfter[3]).toBe(7 + 7 + 14);
    expect(r.committedAfter[4]).toBe(r.input[1].length);
  });
  it('a HELO reply and a rejected EHLO are not keyword-checked', () => {
    const r = run(defaultMap(), [S('220 x\r\n'), C('HELO c\r\n'), S('250 CHUNKING\r\n'), C('EHLO c\r\n'), S('550-no\r\n550 CHUNKING\r\n')]);
    expect(latin1(r.out[1])).toBe('220 *\r\n250 CHUNKING\r\n550-no\r\n550 CHUNKING\r\n');
  });
});
