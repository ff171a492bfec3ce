/**
 * `replay --check` reads OUT and the verdicts back and pairs OUT with the input. When one of
 * them cannot be read a second time (OUT or verdicts to /dev/null, the input from stdin) the check
 * says what it skipped and still judges the rest, instead of failing on an empty read-back or
 * re-reading an exhausted stdin.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { GENERATED_DIR, PROJECT_CAPTURES, haveShared, haveTool } from '../helpers/shared.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'check-targets-'));
// The bundled demo: masking, an X'd verb and a dropped session, so every check has work to do.
const DEMO = path.join(PROJECT_CAPTURES, 'demo/capture.pcap');

function replay(args: string[], stdin?: Buffer): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [CLI_MAIN, 'replay', ...args, '--check'], { input: stdin, encoding: 'utf8', timeout: 30_000 });
  // The check lines go where the summary goes: stdout unless OUT is stdout.
  return { code: r.status, err: r.stdout + r.stderr };
}

describe('replay --check with outputs or input that cannot be read back', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('-o /dev/null and --verdicts /dev/null: skipped with a line each, exit 0', () => {
    const r = replay([DEMO, '-o', '/dev/null', '--verdicts', '/dev/null']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('check ok: OUT went to /dev/null, not a regular file: not read back');
    expect(r.err).toContain('check ok: verdicts went to /dev/null, not a regular file: not read back');
    expect(r.err).toMatch(/check ok: packets in \d+ = forwarded \d+ \+ dropped [1-9]\d*/);
    expect(r.err).not.toContain('check FAILED');
  });

  it('input from stdin: OUT and verdicts still read back, the packet pairing is skipped and said so', () => {
    const out = path.join(tmp, 'stdin-out.pcap');
    const verdicts = path.join(tmp, 'stdin-v.jsonl');
    const r = replay(['-', '-o', out, '--verdicts', verdicts], fs.readFileSync(DEMO));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/check ok: OUT reads back: \d+ packet/);
    expect(r.err).toMatch(/check ok: verdicts: one drop record per dropped packet \([1-9]/);
    expect(r.err).toContain('the input is not a regular file (stdin or a pipe): OUT not paired with it packet by packet');
  });

  it('regular files: the pairing runs (the control for the two cases above)', () => {
    const out = path.join(tmp, 'file-out.pcap');
    const verdicts = path.join(tmp, 'file-v.jsonl');
    const r = replay([DEMO, '-o', out, '--verdicts', verdicts]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('check ok: paired with the input: no valid TCP checksum is invalid in OUT');
    expect(r.err).not.toContain('not read back');
  });

  it.skipIf(!haveShared || !haveTool('editcap'))('verdicts about the end of a connection (a gap settled at the end, still open) name its last packet, not packet 0', () => {
    // 02 without the server's "250 queued" and the teardown: the capture ends with the gap unsettled
    const cut = path.join(tmp, '02-cut.pcap');
    const v = path.join(tmp, '02-cut.jsonl');
    const r0 = spawnSync('editcap', [path.join(GENERATED_DIR, '02-ehlo-basic.pcap'), cut, '16', '18-21']);
    expect(r0.status).toBe(0);
    const r = replay([cut, '-o', '/dev/null', '--verdicts', v]);
    expect(r.code, r.err).toBe(0);
    const recs = fs.readFileSync(v, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { packet: number; rule: string; detail: string });
    const ends = recs.filter((x) => x.rule === 'tcp-gap' || x.rule === 'gap' || x.detail.startsWith('still open'));
    expect(ends.length).toBeGreaterThanOrEqual(3);
    for (const x of ends) expect(x.packet, JSON.stringify(x)).toBeGreaterThan(0);
  });
});
