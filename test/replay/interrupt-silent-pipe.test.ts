/**
 * Ctrl-C on `tcpdump -U -w - | smtp-inspect replay - …` while the pipe is open and silent: the
 * replay must end at once with every output flushed (exit 130), not wait for the next packet —
 * before, it waited, and a second Ctrl-C ended the process with OUT holding no packet at all.
 * Real bytes: the bundled demo capture (two Postfix/swaks sessions), fed through a FIFO that
 * stays open; the outputs must equal those of the same replay of the file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canObserveThreads, ensureBuilt, MAIN, runInterruptedOnFifo } from '../helpers/interrupted-run.js';
import { haveTool, REPO_ROOT } from '../helpers/shared.js';

const DEMO = path.join(REPO_ROOT, 'captures/demo/capture.pcap');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'si-replay-int-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (!canObserveThreads) console.warn('[skip] /proc/<pid>/task/<tid>/wchan not readable: cannot tell when replay is idle on its pipe');

describe.skipIf(!canObserveThreads || !haveTool('mkfifo'))('replay interrupted on a silent pipe', () => {
  beforeAll(() => ensureBuilt());

  it('SIGINT ends it at once: exit 130, OUT and verdicts as for the same bytes in a file', async () => {
    const fifo = path.join(tmp, 'in.fifo');
    execFileSync('mkfifo', [fifo]);
    const out = path.join(tmp, 'pipe-out.pcap');
    const verdicts = path.join(tmp, 'pipe-v.jsonl');
    const r = await runInterruptedOnFifo(['replay', '-', '-o', out, '--verdicts', verdicts, '--summary'], fifo, readFileSync(DEMO), 'SIGINT');
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toBe('smtp-inspect: interrupted: outputs are complete up to the last packet processed\n');
    expect(r.stdout).toContain('(interrupted: outputs hold everything up to the stop)');
    expect(r.stdout).toMatch(/^packets in: 267 = 256 forwarded \+ 11 dropped$/m);

    const fileOut = path.join(tmp, 'file-out.pcap');
    const fileVerdicts = path.join(tmp, 'file-v.jsonl');
    const f = spawnSync(process.execPath, [MAIN, 'replay', DEMO, '-o', fileOut, '--verdicts', fileVerdicts], { encoding: 'utf8' });
    expect(f.status, f.stderr).toBe(0);
    // Every packet read was processed and written, sessions closed as at the end of a file.
    expect(readFileSync(out).equals(readFileSync(fileOut))).toBe(true);
    expect(readFileSync(verdicts, 'utf8')).toBe(readFileSync(fileVerdicts, 'utf8'));
  }, 30_000);
});
