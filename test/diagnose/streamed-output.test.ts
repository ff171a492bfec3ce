/**
 * The CLI writes the report one session at a time (reportJsonText, textLines, htmlParts through
 * writeParts): what it writes must be byte for byte what the whole-report renderers give, on real
 * captures: several sessions (the demo), none, and a capture taken behind a firewall (evidence).
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { runDiagnose } from '../../src/diagnose/run.js';
import { reportJson, reportJsonText, type DiagnoseReport } from '../../src/diagnose/model.js';
import { renderText, textLines } from '../../src/diagnose/text.js';
import { htmlParts, renderHtml } from '../../src/diagnose/html.js';
import { writeParts, writePartsToFile } from '../../src/diagnose/stdout.js';
import { makeBehind } from './behind.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DEMO = path.join(here, '../../captures/demo/capture.pcap');

/** Everything a slow reader gets from writeParts: a small buffer makes it wait for 'drain'. */
async function streamed(parts: Iterable<string>, sep: string, tail: string, batch?: number): Promise<{ text: string; waited: number }> {
  const out = new PassThrough({ highWaterMark: 1024 });
  const chunks: Buffer[] = [];
  let waited = 0;
  const origOnce = out.once.bind(out);
  out.once = ((ev: string, fn: (...a: unknown[]) => void) => {
    if (ev === 'drain') waited++;
    return origOnce(ev, fn);
  }) as typeof out.once;
  // read slowly: one chunk per tick
  const reading = (async () => {
    for await (const c of out) {
      chunks.push(c as Buffer);
      await new Promise((r) => setImmediate(r));
    }
  })();
  await writeParts(out, parts, sep, tail, batch);
  out.end();
  await reading;
  return { text: Buffer.concat(chunks).toString('utf8'), waited };
}

async function sameAsWhole(r: DiagnoseReport): Promise<void> {
  const json = JSON.stringify(reportJson(r), null, 2) + '\n';
  expect([...reportJsonText(r)].join('')).toBe(json);
  for (const batch of [undefined, 512]) {
    expect((await streamed(reportJsonText(r), '', '', batch)).text).toBe(json);
    expect((await streamed(textLines(r), '\n', '\n', batch)).text).toBe(renderText(r));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-stream-'));
  try {
    const file = path.join(dir, 'r.html');
    writePartsToFile(file, htmlParts(r), '\n', '');
    expect(fs.readFileSync(file, 'utf8')).toBe(renderHtml(r));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('diagnose report written in parts', () => {
  it('the demo capture (several sessions, findings and fixes): JSON, text and HTML as the whole-report renderers, through a stream that asks to wait', async () => {
    const r = await runDiagnose(DEMO, { policyPath: null });
    expect(r.sessions.length).toBeGreaterThan(1);
    await sameAsWhole(r);
    // written in 512-character batches to a reader with a 1 KiB buffer: the writer waited for it
    const j = await streamed(reportJsonText(r), '', '', 512);
    expect(j.text.length).toBeGreaterThan(8 * 1024);
    expect(j.waited).toBeGreaterThan(0);
  });

  it('a report without sessions keeps "sessions": [] on one line', async () => {
    const r = await runDiagnose(DEMO, { policyPath: null });
    const empty: DiagnoseReport = { ...r, sessions: [], counts: { ...r.counts, sessions: 0 } };
    expect([...reportJsonText(empty)].join('')).toContain('\n  "sessions": [],\n');
    await sameAsWhole(empty);
  });

  it.skipIf(!haveShared)('a capture behind a firewall (evidence in the sessions): the same bytes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-behind-'));
    try {
      const behind = path.join(dir, 'behind.pcap');
      await makeBehind(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), behind);
      const r = await runDiagnose(behind, { policyPath: null });
      expect(r.evidence.length).toBeGreaterThan(0);
      await sameAsWhole(r);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
