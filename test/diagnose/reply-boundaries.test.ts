/**
 * diagnose and the engine's reply boundaries (src/inspect/esmtp/reply-boundary.ts):
 * - the transcript ends server lines and replies where the engine does, with the same options, so a
 *   5038-byte greeting without CR LF (suricata-verify smtp-bug-6053) no longer swallows the EHLO
 *   reply and every later reply stays with its own command;
 * - each kind of `server-anomaly` note becomes a caveat that says what happened (no reply code,
 *   over-long line cut at its segment, multi-line reply split at a code change), on real captures.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { EXTERNAL_PCAPS } from '../helpers/shared.js';
import { transcribeCapture } from '../../src/diagnose/transcribe.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { renderText } from '../../src/diagnose/text.js';
import { caveatFromNote } from '../../src/diagnose/notes.js';
import { defaultEngineOptions } from '../../src/inspect/options.js';
import { NO_REPLY_CODE_DETAIL, codeChangeDetail, longLineDetail, readServerAnomaly } from '../../src/inspect/esmtp/reply-boundary.js';
import type { TranscriptEntry } from '../../src/diagnose/transcript.js';
import type { VerdictRecord } from '../../src/output/verdicts.js';

const BUG_6053 = path.join(EXTERNAL_PCAPS, 'sv-bug-6053.pcap');
const ERRORS = path.join(EXTERNAL_PCAPS, 'sv-errors.pcap');
const have6053 = fs.existsSync(BUG_6053);
const haveErrors = fs.existsSync(ERRORS);

const dialogue = (es: readonly TranscriptEntry[]) => es.map((e) => (e.kind === 'reply' ? e.verb : e.kind === 'command' ? e.verb : e.kind));

describe.skipIf(!have6053)('transcript of sv-bug-6053 (5038-byte greeting without CR LF, EHLO reply without a final line)', () => {
  it('default options: the greeting ends with its segment, each reply follows its own command', async () => {
    const [t] = await transcribeCapture(BUG_6053);
    expect(dialogue(t!.entries)).toEqual(['220', 'EHLO', '250', 'AUTH', '334', 'auth-data', '334', 'auth-data', '235', 'MAIL', '250', 'RCPT', '250', 'QUIT', '221']);
    const greeting = t!.entries[0]!;
    expect([greeting.packet, greeting.endPacket, greeting.length]).toEqual([4, 4, 5038]);
    const ehloReply = t!.entries[2]!;
    expect(ehloReply.text).toBe('250-smtp001.mail.xxx.xxxxx.com');
    expect(ehloReply.packet).toBe(8);
  });

  it('the transcript puts its boundaries where the engine\'s notes do (same packets)', async () => {
    const [t] = await transcribeCapture(BUG_6053);
    const r = await runDiagnose(BUG_6053, { policyPath: null });
    const anomalies = r.sessions[0]!.caveats.filter((c) => c.kind === 'server-anomaly').map((c) => c.packet);
    // the over-long line starts at the greeting's packet; the reply split starts the 334 reply
    const replies = t!.entries.filter((e) => e.kind === 'reply');
    expect(anomalies).toEqual([replies[0]!.packet, replies.find((e) => e.verb === '334')!.packet]);
  });

  it('with long-reply-line=lf the transcript reads to the LF, as the engine then does (the greeting absorbs the 250 line)', async () => {
    const [t] = await transcribeCapture(BUG_6053, undefined, { ...defaultEngineOptions(), longReplyLine: 'lf' });
    const replies = t!.entries.filter((e) => e.kind === 'reply');
    expect(replies[0]!.verb).toBe('220');
    expect(replies[0]!.length).toBe(5038 + '250-smtp001.mail.xxx.xxxxx.com'.length);
    expect(replies.map((e) => e.verb)).not.toContain('250-');
    expect(replies.filter((e) => e.verb === '250')).toHaveLength(2); // MAIL's and RCPT's only
  });
});

describe.skipIf(!have6053)('diagnose caveats say which reply boundary was guessed (sv-bug-6053)', () => {
  it('the over-long line and the reply split each get their own text; neither claims a line without a reply code', async () => {
    const r = await runDiagnose(BUG_6053, { policyPath: null });
    const s = r.sessions[0]!;
    const an = s.caveats.filter((c) => c.kind === 'server-anomaly');
    expect(an).toHaveLength(2);
    expect(an[0]!.text).toMatch(/^the server sent a line of 5038 bytes without LF \(over the 512-octet reply line limit/);
    expect(an[0]!.text).toMatch(/long-reply-line=lf/);
    expect(an[1]!.text).toMatch(/^a 334 line came while the server's multi-line 250 reply still lacked its final line/);
    expect(an[1]!.text).toMatch(/reply-code-change=continue/);
    for (const c of an) expect(c.text).not.toMatch(/without a reply code/);
    expect(renderText(r)).not.toMatch(/without a reply code/);
  });

  it('the banner mask on the over-long greeting itself stays certain; the line only makes what follows uncertain', async () => {
    const r = await runDiagnose(BUG_6053, { policyPath: null });
    const s = r.sessions[0]!;
    const banner = s.findings.find((f) => f.rule === 'mask-banner')!;
    expect(banner.packet).toBe(4);
    expect(banner.uncertain).toBeNull();
    expect(s.caveats.find((c) => c.kind === 'server-anomaly')!.uncertainFrom).toBe(5);
    expect(s.uncertain).toBe(true);
  });
});

describe.skipIf(!haveErrors)('a server line without a reply code (suricata-verify sv-errors, session 2)', () => {
  it('the caveat says the line had no reply code and was ignored', async () => {
    const r = await runDiagnose(ERRORS, { policyPath: null });
    const c = r.sessions.flatMap((s) => s.caveats).filter((x) => x.kind === 'server-anomaly');
    expect(c).toHaveLength(1);
    expect(c[0]!.text).toMatch(/^the server sent a line without a reply code, which inspection ignored/);
    expect(c[0]!.uncertainFrom).toBe(c[0]!.packet);
  });
});

describe('server-anomaly notes -> caveats (the engine\'s three wordings, and an unknown one)', () => {
  const note = (detail: string): VerdictRecord => ({ packet: 7, rule: 'server-anomaly', action: 'note', detail } as unknown as VerdictRecord);

  it('reads each wording the engine writes', () => {
    expect(readServerAnomaly(NO_REPLY_CODE_DETAIL)).toEqual({ kind: 'no-reply-code' });
    expect(readServerAnomaly(longLineDetail(600, 512))).toEqual({ kind: 'long-line', length: 600, limit: 512 });
    expect(readServerAnomaly(codeChangeDetail(250, 334))).toEqual({ kind: 'code-change', replyCode: 250, nextCode: 334 });
    expect(readServerAnomaly('something else')).toBeNull();
  });

  it('every wording gives a different caveat text and reason; an unknown one is shown as written', () => {
    const cs = [NO_REPLY_CODE_DETAIL, longLineDetail(600, 512), codeChangeDetail(250, 334), 'a new kind of server oddity'].map((d) => caveatFromNote(note(d))!);
    expect(new Set(cs.map((c) => c.text)).size).toBe(4);
    expect(new Set(cs.map((c) => c.reason)).size).toBe(4);
    expect(cs[0]!.reason).toBe('after a server line without a reply code (packet 7)');
    expect(cs[1]!.reason).toMatch(/over-long server line without LF \(600 bytes, from packet 7\)/);
    expect(cs[2]!.reason).toMatch(/multi-line 250 reply without a final line, ended by a 334 line \(packet 7\)/);
    expect(cs[3]!.text).toMatch(/^a new kind of server oddity;/);
    expect(cs.map((c) => c.uncertainFrom)).toEqual([7, 8, 7, 7]);
  });
});
