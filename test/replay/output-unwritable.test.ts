/**
 * An output that cannot be created (missing directory, a directory, no permission) ends the replay
 * with one clear line and exit 3 before any output is opened: a previous OUT stays as it was, and no
 * other output is left as an empty, valid-looking capture. Before, `-o prev.pcap --syslog
 * /missing/s.log` truncated prev.pcap to a 24-byte pcap header (0 packets, which capinfos and
 * tshark read as a replay that forwarded nothing) and then failed on the syslog file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeReplay } from '../../src/cli/replay.js';
import { OutputError } from '../../src/errors.js';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';

const INPUT = path.join(GENERATED_DIR, '02-ehlo-basic.pcap');
const BASE = { checksum: 'incremental' as const, set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true };

describe.skipIf(!haveShared)('replay: an output that cannot be created', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'out-unwritable-'));
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('--syslog in a missing directory: exit 3, one line, a previous OUT untouched, the annotated capture never created', () => {
    const prev = path.join(tmp, 'prev.pcap');
    fs.copyFileSync(path.join(GENERATED_DIR, '01-plain-helo.pcap'), prev);
    const before = fs.readFileSync(prev);
    const ann = path.join(tmp, 'ann.pcapng');
    const r = spawnSync(process.execPath, [CLI_MAIN, 'replay', INPUT, '-o', prev, '--annotate', ann, '--verdicts', path.join(tmp, 'v.jsonl'), '--syslog', path.join(tmp, 'missing', 's.log')], { timeout: 20_000 });
    expect(r.status).toBe(3);
    const err = r.stderr.toString('utf8').trimEnd().split('\n');
    expect(err).toEqual([expect.stringMatching(/missing\/s\.log: cannot create output: ENOENT.*nothing was written \[E_OUTPUT\]$/)]);
    expect(fs.readFileSync(prev).equals(before)).toBe(true);
    expect(fs.existsSync(ann)).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'v.jsonl'))).toBe(false);
  });

  it('a directory as --verdicts, and OUT under a file: OutputError naming the path, nothing created', async () => {
    const out = path.join(tmp, 'o2.pcap');
    await expect(executeReplay(INPUT, { ...BASE, output: out, verdicts: tmp })).rejects.toThrow(OutputError);
    await expect(executeReplay(INPUT, { ...BASE, output: out, verdicts: tmp })).rejects.toThrow(/is a directory/);
    expect(fs.existsSync(out)).toBe(false);
    await expect(executeReplay(INPUT, { ...BASE, output: path.join(INPUT, 'x.pcap'), annotate: path.join(tmp, 'a2.pcapng') })).rejects.toThrow(/x\.pcap: cannot create output: ENOTDIR/);
    expect(fs.existsSync(path.join(tmp, 'a2.pcapng'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('a directory the user may not write (run as nobody): exit 3, the other outputs not created', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'out-perm-'));
    fs.chmodSync(dir, 0o777);
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro, { mode: 0o555 });
    fs.chmodSync(ro, 0o555);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI_MAIN, 'replay', INPUT, '-o', path.join(dir, 'out.pcap'), '--verdicts', path.join(ro, 'v.jsonl')], { timeout: 20_000 });
    if (r.error) return; // no setpriv: nothing to run as another user
    expect(r.status).toBe(3);
    expect(r.stderr.toString('utf8')).toMatch(/ro\/v\.jsonl: cannot create output: EACCES/);
    expect(fs.existsSync(path.join(dir, 'out.pcap'))).toBe(false);
  });
});
