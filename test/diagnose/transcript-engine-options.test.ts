/**
 * diagnose's transcript ends a message and reads a BDAT chunk where the engine does, with the same
 * engine options (`end-of-data`, `bdat-chunk`; native-notes/engine-options.md), so the ladder and
 * the findings' stages agree with the replay diagnose runs:
 * - bare-lf-dot.pcap (real smtp-server session): a '.' line with a bare LF on either side is message
 *   text under end-of-data=crlf (RFC 5321 4.1.1.4), not the end followed by commands;
 * - bdat-not-offered.pcap (real smtp-server session, CHUNKING not offered): the chunk's lines are
 *   commands under bdat-chunk=offered (RFC 3030 2), as the server and the engine read them;
 * - dot-in-headers.pcap (real smtp-server session): such a '.' line in the header section is an
 *   empty line to the engine, so it ends the headers and the long line after it is a body line;
 * - 06-bdat-chunking (real Postfix offering CHUNKING): the chunks stay opaque.
 * Each client line the engine X's is a command of the transcript on the same packet.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_CAPTURES } from '../helpers/shared.js';
import { transcribeCapture } from '../../src/diagnose/transcribe.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { renderHtml } from '../../src/diagnose/html.js';
import { replayInMemory } from '../../src/regress/replay-run.js';
import { loadPolicy } from '../../src/policy/load.js';
import { defaultEngineOptions, type EngineOptions } from '../../src/inspect/options.js';
import type { SessionTranscript, TranscriptEntry } from '../../src/diagnose/transcript.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'inspect', 'fixtures');
const BARE_LF_DOT = path.join(FIXTURES, 'bare-lf-dot.pcap');
const BDAT_NOT_OFFERED = path.join(FIXTURES, 'bdat-not-offered.pcap');
const DOT_IN_HEADERS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'dot-in-headers.pcap');
const BDAT_OFFERED = path.join(PROJECT_CAPTURES, '06-bdat-chunking', 'capture.pcap');

const opts = (o: Partial<EngineOptions>): EngineOptions => ({ ...defaultEngineOptions(), ...o });
const commands = (es: readonly TranscriptEntry[]) => es.filter((e) => e.kind === 'command').map((e) => e.verb);
const kinds = (es: readonly TranscriptEntry[]) => es.map((e) => (e.kind === 'command' || e.kind === 'reply' ? e.verb : e.kind));

/** The engine's X'd client lines (`"VERB": ...` details) must be commands of the transcript on their packet. */
async function expectXdLinesAreCommands(capture: string, t: SessionTranscript, engineOptions: EngineOptions): Promise<number> {
  const { verdicts } = await replayInMemory(capture, await loadPolicy(null), { engineOptions });
  let n = 0;
  for (const v of verdicts) {
    if (v.rule !== 'unknown-command' || v.action !== 'x-substitute') continue;
    const verb = /^"([^"]*)"/.exec(v.detail ?? '')?.[1]?.toUpperCase();
    expect(verb, v.detail ?? '').toBeDefined();
    const found = t.entries.some((e) => e.kind === 'command' && e.packet <= v.packet && e.endPacket >= v.packet && e.verb === verb);
    expect(found, `packet ${v.packet}: engine X'd ${v.detail}`).toBe(true);
    n++;
  }
  return n;
}

describe('end-of-data: bare-lf-dot.pcap (three messages, each with a "." line that has a bare LF)', () => {
  it('default (crlf): only CR LF . CR LF ends a message; no message line becomes a command', async () => {
    const [t] = await transcribeCapture(BARE_LF_DOT);
    expect(commands(t!.entries)).toEqual(['EHLO', 'MAIL', 'RCPT', 'DATA', 'MAIL', 'RCPT', 'DATA', 'MAIL', 'RCPT', 'DATA', 'QUIT']);
    const messages = t!.entries.filter((e) => e.kind === 'message');
    expect(messages.map((m) => m.message!.complete)).toEqual([true, true, true]);
    // message one: Subject, empty line, "first part", "." (bare LF before it), the MAIL line, "Hello there..."
    expect(messages[0]!.message!.lines).toBe(6);
    // the message each "250 queued" answers is complete before it
    expect(kinds(t!.entries).filter((k) => k === 'message' || k === '250' || k === '354').join(' ')).toBe(
      '250 250 250 354 message 250 250 250 354 message 250 250 250 354 message 250',
    );
    // the engine X's nothing in this session: the transcript has no stray commands to pair replies with
    expect(await expectXdLinesAreCommands(BARE_LF_DOT, t!, defaultEngineOptions())).toBe(0);
  });

  it('end-of-data=lf: the old reading (any "." line ends the message), as replay reads it then', async () => {
    const o = opts({ endOfData: 'lf' });
    const [t] = await transcribeCapture(BARE_LF_DOT, undefined, o);
    const cmds = commands(t!.entries);
    expect(cmds).toContain('RSET');
    expect(cmds.filter((c) => c === '.').length).toBe(3);
    // and it agrees with the replay under the same option: the engine drops the connection at the
    // first message's "MAIL FROM:<|/bin/sh...>" line, a command here too
    const { verdicts } = await replayInMemory(BARE_LF_DOT, await loadPolicy(null), { engineOptions: o });
    const drop = verdicts.find((v) => v.action === 'drop-connection');
    expect(drop?.rule).toBe('pipe-signature');
    const mail = t!.entries.find((e) => e.kind === 'command' && e.text === 'MAIL FROM:<|/bin/sh@example.test>');
    expect(mail?.packet).toBe(drop?.packet);
    expect(await expectXdLinesAreCommands(BARE_LF_DOT, t!, o)).toBe(0);
  });

  it('runDiagnose: the report (and its HTML ladder) reads the message as the replay does', async () => {
    const r = await runDiagnose(BARE_LF_DOT, { policyPath: null });
    const t = r.sessions[0]!.transcript;
    expect(commands(t.entries)).not.toContain('RSET');
    const html = renderHtml(r);
    expect(html).not.toContain('still message two');
    const lf = await runDiagnose(BARE_LF_DOT, { policyPath: null, engineOptions: opts({ endOfData: 'lf' }) });
    expect(commands(lf.sessions[0]!.transcript.entries)).toContain('RSET');
  });
});

describe('end-of-data: dot-in-headers.pcap ("Subject: dot" CR LF "." LF, then a 1208-byte line)', () => {
  it('default (crlf): the refused "." line ends the header section, as in the engine (body line, not header line)', async () => {
    const [t] = await transcribeCapture(DOT_IN_HEADERS);
    const [m] = t!.entries.filter((e) => e.kind === 'message');
    expect(m!.message!.complete).toBe(true);
    expect([m!.message!.maxHeaderLine, m!.message!.maxBodyLine]).toEqual([12, 1208]);
    const { verdicts } = await replayInMemory(DOT_IN_HEADERS, await loadPolicy(null), {});
    const hits = verdicts.filter((v) => v.rule.includes('line length')).map((v) => v.rule);
    expect(hits).toEqual(['match body line length gt 998']);
  });

  it('end-of-data=lf: the "." line ends the message; the long line is a command', async () => {
    const [t] = await transcribeCapture(DOT_IN_HEADERS, undefined, opts({ endOfData: 'lf' }));
    expect(commands(t!.entries)).toContain('X-LONG:');
  });
});

describe('bdat-chunk: bdat-not-offered.pcap (HELO, then EHLO without CHUNKING; each BDAT chunk holds commands)', () => {
  it('default (offered): the chunks are command lines, as the server and the engine read them', async () => {
    const [t] = await transcribeCapture(BDAT_NOT_OFFERED);
    expect(t!.entries.some((e) => e.kind === 'bdat-chunk')).toBe(false);
    expect(commands(t!.entries)).toEqual(['HELO', 'MAIL', 'RCPT', 'BDAT', 'NOOP', 'HELLO', 'RSET', 'EHLO', 'MAIL', 'RCPT', 'BDAT', 'MAIL', 'QUIT']);
    // the MAIL hidden in the second chunk is where the engine drops the connection (pipe-signature)
    const hidden = t!.entries.filter((e) => e.kind === 'command' && e.verb === 'MAIL').at(-1)!;
    expect(hidden.text).toBe('MAIL FROM:<|/bin/sh@example.test>');
    const { verdicts } = await replayInMemory(BDAT_NOT_OFFERED, await loadPolicy(null), {});
    expect(verdicts.find((v) => v.action === 'drop-connection')?.packet).toBe(hidden.packet);
    // "Hello there!!" in the first chunk is X'd by the engine: a command here too
    expect(await expectXdLinesAreCommands(BDAT_NOT_OFFERED, t!, defaultEngineOptions())).toBe(3);
  });

  it('bdat-chunk=commands reads them the same; opaque skips both chunks (the old reading)', async () => {
    const [c] = await transcribeCapture(BDAT_NOT_OFFERED, undefined, opts({ bdatChunk: 'commands' }));
    expect(commands(c!.entries)).toContain('HELLO');
    const [o] = await transcribeCapture(BDAT_NOT_OFFERED, undefined, opts({ bdatChunk: 'opaque' }));
    const chunks = o!.entries.filter((e) => e.kind === 'bdat-chunk');
    expect(chunks.map((e) => e.text)).toEqual(['BDAT chunk: 21 bytes (LAST)', 'BDAT chunk: 35 bytes (LAST)']);
    expect(commands(o!.entries)).not.toContain('HELLO');
  });

  it('runDiagnose: the transcript follows --set bdat-chunk', async () => {
    const d = await runDiagnose(BDAT_NOT_OFFERED, { policyPath: null });
    expect(d.sessions[0]!.transcript.entries.some((e) => e.kind === 'bdat-chunk')).toBe(false);
    const o = await runDiagnose(BDAT_NOT_OFFERED, { policyPath: null, engineOptions: opts({ bdatChunk: 'opaque' }) });
    expect(o.sessions[0]!.transcript.entries.filter((e) => e.kind === 'bdat-chunk')).toHaveLength(2);
  });
});

describe.skipIf(!fs.existsSync(BDAT_OFFERED))('bdat-chunk: 06-bdat-chunking (Postfix offers CHUNKING)', () => {
  it('default (offered): the chunks stay opaque; bdat-chunk=commands reads their lines', async () => {
    const [t] = await transcribeCapture(BDAT_OFFERED);
    expect(t!.entries.filter((e) => e.kind === 'bdat-chunk').map((e) => e.message!.bytes)).toEqual([274, 226, 219, 212]);
    expect(commands(t!.entries).filter((v) => v !== 'MAIL' && v !== 'RCPT' && v !== 'BDAT' && v !== 'EHLO' && v !== 'QUIT')).toEqual([]);
    const [c] = await transcribeCapture(BDAT_OFFERED, undefined, opts({ bdatChunk: 'commands' }));
    expect(c!.entries.some((e) => e.kind === 'bdat-chunk')).toBe(false);
    expect(commands(c!.entries).length).toBeGreaterThan(commands(t!.entries).length);
  });
});
