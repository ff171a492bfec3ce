/**
 * A stdout that cannot take the report (`> report.txt` on a full disk: ENOSPC) is an output error:
 * one line on stderr and exit 3 (EXIT.OUTPUT), as for a closed pipe. Before, the stdout error
 * handler (installed for every command in main.ts) rethrew it: a Node stack trace and exit 1,
 * which a script reads as "findings". /dev/full is Linux's device that fails every write with
 * ENOSPC; `head -1` closes the pipe after the first line (EPIPE: exit 3 or, when the report was
 * written before head closed, the report's own code, quietly either way).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { PROJECT_CAPTURES } from '../helpers/shared.js';

const DEMO = path.join(PROJECT_CAPTURES, 'demo/capture.pcap');
const POLICY = path.join(PROJECT_CAPTURES, '04-starttls-allow-tls/policy.txt');
const haveDevFull = fs.existsSync('/dev/full');

describe.skipIf(!haveDevFull)('stdout on a full disk (/dev/full)', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  const full = (args: string[]) => {
    const fd = fs.openSync('/dev/full', 'w');
    try {
      return spawnSync(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    } finally {
      fs.closeSync(fd);
    }
  };

  it.each([
    ['diagnose (text)', ['diagnose', DEMO]],
    ['diagnose --json', ['diagnose', DEMO, '--json']],
    ['policy check', ['policy', 'check', POLICY]],
  ])('%s: one E_OUTPUT line, exit 3, no stack trace', (_name, args) => {
    const r = full(args);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^smtp-inspect: <stdout>: cannot write: ENOSPC: no space left on device, write \[E_OUTPUT\]\n$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('stdout closed by the reader (| head -1)', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('diagnose --json | head -1: the first line, no error text', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI_MAIN}" diagnose "${DEMO}" --json | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
    expect(r.stdout).toBe('{\n');
    expect(r.stderr).toMatch(/^rc=[13]\n$/);
  });
});
