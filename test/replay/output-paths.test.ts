/**
 * An output that is the input, or two outputs on one file, is refused before anything is opened
 * (exit 2, one line naming both options) and the input is left byte-identical: the reviewer's
 * repros (`replay a.pcap -o a.pcap --check` cut the capture to 24 bytes and exited 0), symlinks,
 * hard links, `./a` vs `a`, stdout given twice, the other commands' outputs (live, proxy, diagnose,
 * flows), and the combinations that stay allowed (/dev/null repeated, stdin `-` with stdout `-`).
 * Also the contradictory options that are now usage errors. The refusals come before the capture
 * is read, so most cases need no corpus; the ones that replay for real skip without it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOutputPaths, type NamedPath } from '../../src/cli/output-paths.js';
import { SmtpInspectError } from '../../src/errors.js';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'output-paths-'));
const PLAIN = path.join(GENERATED_DIR, '01-plain-helo.pcap');
/** A classic pcap file header, little-endian µs, Ethernet: a valid (empty) capture. */
const EMPTY_PCAP = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');

interface Run {
  code: number | null;
  out: Buffer;
  err: string;
}

function cli(args: string[], opts: { cwd?: string; stdin?: number | Buffer } = {}): Run {
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], {
    cwd: opts.cwd ?? tmp,
    input: Buffer.isBuffer(opts.stdin) ? opts.stdin : undefined,
    stdio: [typeof opts.stdin === 'number' ? opts.stdin : 'pipe', 'pipe', 'pipe'],
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr.toString('utf8') };
}

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

let n = 0;
/** A fresh copy of `src` (default: the empty pcap) in its own folder; returns its path. */
function copyInput(src: string | null = null, name = 'in.pcap'): string {
  const dir = path.join(tmp, `case-${n++}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, name);
  if (src === null) fs.writeFileSync(file, EMPTY_PCAP);
  else fs.copyFileSync(src, file);
  return file;
}

/** A refusal: exit 2, one line on stderr naming every given option, nothing on stdout. */
function expectRefused(r: Run, ...names: string[]): void {
  expect(r.code, r.err).toBe(2);
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^smtp-inspect: .*\[E_USAGE\]$/);
  for (const name of names) expect(lines[0]).toContain(name);
  expect(r.out.length).toBe(0);
}

describe('replay: an output that is the input or another output is refused, the input untouched', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it.skipIf(!haveShared)('-o IN --check (the reviewer repro: it cut IN to 24 bytes and exited 0)', () => {
    const input = copyInput(PLAIN);
    const before = sha(input);
    expectRefused(cli(['replay', input, '-o', input, '--check']), '-o', 'IN');
    expect(sha(input)).toBe(before);
  });

  it.skipIf(!haveShared)('--verdicts IN (it emptied IN), and every other output option', () => {
    const input = copyInput(PLAIN);
    const before = sha(input);
    for (const opt of ['--verdicts', '--syslog', '--annotate']) {
      expectRefused(cli(['replay', input, opt, input]), opt, 'IN');
      expect(sha(input), opt).toBe(before);
    }
  });

  it('one path for two outputs (-o o.pcap --verdicts o.pcap): refused, the file not even created', () => {
    const dir = path.dirname(copyInput());
    const r = cli(['replay', 'in.pcap', '-o', 'o.pcap', '--verdicts', 'o.pcap'], { cwd: dir });
    expectRefused(r, '-o o.pcap', '--verdicts o.pcap');
    expect(fs.existsSync(path.join(dir, 'o.pcap'))).toBe(false);
  });

  it('an existing file named by two outputs keeps its content; ./a and a are the same file', () => {
    const dir = path.dirname(copyInput());
    const o = path.join(dir, 'o.pcap');
    fs.writeFileSync(o, 'keep me\n');
    expectRefused(cli(['replay', 'in.pcap', '-o', './o.pcap', '--syslog', 'o.pcap'], { cwd: dir }), '-o ./o.pcap', '--syslog o.pcap');
    expectRefused(cli(['replay', 'in.pcap', '--annotate', o, '--verdicts', `../${path.basename(dir)}/o.pcap`], { cwd: dir }), '--annotate', '--verdicts');
    expect(fs.readFileSync(o, 'utf8')).toBe('keep me\n');
  });

  it('-o - --verdicts - (pcap and JSON mixed on stdout): refused, stdout empty', () => {
    const input = copyInput();
    expectRefused(cli(['replay', input, '-o', '-', '--verdicts', '-']), '-o -', '--verdicts -', 'standard output');
    expectRefused(cli(['replay', input, '--annotate', '-', '--syslog', '-']), '--annotate -', '--syslog -');
  });

  it('-o - with /dev/stdout as another output, stdout a pipe (the README\'s `-o - | tshark -r -`): refused', () => {
    // cli() gives the child a pipe for stdout: /dev/stdout leads to that same pipe.
    const input = copyInput();
    expectRefused(cli(['replay', input, '-o', '-', '--verdicts', '/dev/stdout']), '-o -', '--verdicts /dev/stdout');
    expectRefused(cli(['replay', input, '-o', '-', '--syslog', '/proc/self/fd/1']), '-o -', '--syslog /proc/self/fd/1');
    // /dev/null beside stdout stays allowed.
    expect(cli(['replay', input, '-o', '-', '--verdicts', '/dev/null']).code).toBe(0);
  });

  it('a symlink to the input, and a symlink chain, are the input', () => {
    const input = copyInput(haveShared ? PLAIN : null);
    const before = sha(input);
    const dir = path.dirname(input);
    fs.symlinkSync('in.pcap', path.join(dir, 'link.pcap'));
    fs.symlinkSync(path.join(dir, 'link.pcap'), path.join(dir, 'link2.pcap'));
    expectRefused(cli(['replay', 'in.pcap', '-o', 'link.pcap'], { cwd: dir }), '-o link.pcap', 'IN in.pcap');
    expectRefused(cli(['replay', 'link2.pcap', '--verdicts', input], { cwd: dir }), '--verdicts', 'IN link2.pcap');
    expect(sha(input)).toBe(before);
  });

  it('a hard link to the input is the input (device + inode)', () => {
    const input = copyInput(haveShared ? PLAIN : null);
    const before = sha(input);
    const hard = path.join(path.dirname(input), 'hard.pcap');
    fs.linkSync(input, hard);
    expectRefused(cli(['replay', input, '--annotate', hard]), '--annotate', 'IN');
    expect(sha(input)).toBe(before);
  });

  it('a dangling symlink and the file it would create are the same output', () => {
    const dir = path.dirname(copyInput());
    fs.symlinkSync('target.jsonl', path.join(dir, 'dangling.jsonl'));
    expectRefused(cli(['replay', 'in.pcap', '--verdicts', 'dangling.jsonl', '--syslog', 'target.jsonl'], { cwd: dir }), '--verdicts', '--syslog');
    expect(fs.existsSync(path.join(dir, 'target.jsonl'))).toBe(false);
  });

  it('the policy file is an input too', () => {
    const input = copyInput();
    const policy = path.join(path.dirname(input), 'policy.txt');
    fs.writeFileSync(policy, 'policy-map type inspect esmtp m\n parameters\n  mask-banner\n');
    const before = sha(policy);
    expectRefused(cli(['replay', input, '--policy', policy, '--syslog', policy]), '--syslog', '--policy');
    expect(sha(policy)).toBe(before);
  });

  it('stdin redirected from the very file an output names is refused (the output would truncate it)', () => {
    const input = copyInput(haveShared ? PLAIN : null);
    const before = sha(input);
    const fd = fs.openSync(input, 'r');
    try {
      expectRefused(cli(['replay', '-', '-o', input], { stdin: fd }), '-o', 'IN -', 'standard input');
    } finally {
      fs.closeSync(fd);
    }
    expect(sha(input)).toBe(before);
  });

  describe.skipIf(!haveShared)('still allowed', () => {
    it('/dev/null for every output', () => {
      const input = copyInput(PLAIN);
      const r = cli(['replay', input, '-o', '/dev/null', '--verdicts', '/dev/null', '--syslog', '/dev/null', '--annotate', '/dev/null', '--summary']);
      expect(r.code, r.err).toBe(0);
      expect(r.out.toString('utf8')).toMatch(/packets/i);
    });

    it('an input - (stdin) with an output - (stdout): the modified capture on stdout', () => {
      const bytes = fs.readFileSync(PLAIN);
      const r = cli(['replay', '-', '-o', '-'], { stdin: bytes });
      expect(r.code, r.err).toBe(0);
      // Same format as IN: the pcap header comes through, then the records.
      expect(r.out.subarray(0, 4).equals(bytes.subarray(0, 4))).toBe(true);
      expect(r.out.length).toBeGreaterThan(24);
    });

    it('distinct outputs beside the input, one of them -', () => {
      const input = copyInput(PLAIN);
      const dir = path.dirname(input);
      const before = sha(input);
      const r = cli(['replay', 'in.pcap', '-o', '-', '--verdicts', 'v.jsonl', '--syslog', 'asa.log', '--annotate', 'a.pcapng'], { cwd: dir });
      expect(r.code, r.err).toBe(0);
      expect(r.out.subarray(0, 4).equals(fs.readFileSync(input).subarray(0, 4))).toBe(true);
      expect(fs.statSync(path.join(dir, 'v.jsonl')).size).toBeGreaterThan(0);
      expect(sha(input)).toBe(before);
    });
  });
});

describe('the other commands refuse the same clashes', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('diagnose: --html IN, and --html - beside the report on stdout', () => {
    const input = copyInput();
    const before = sha(input);
    expectRefused(cli(['diagnose', input, '--html', input]), '--html', 'IN');
    expectRefused(cli(['diagnose', input, '--html', '-']), '--html -', 'standard output');
    expect(sha(input)).toBe(before);
  });

  it('flows: --dump onto the capture', () => {
    const input = copyInput();
    expectRefused(cli(['flows', input, '--dump', input]), '--dump', 'FILE');
  });

  // live checks its options before opening the device: no libpcap or root needed for these.
  it('live: -w - beside the printed lines, two outputs on one file, an output onto the policy', () => {
    const dir = path.dirname(copyInput());
    expectRefused(cli(['live', '-i', 'lo', '-w', '-']), '-w -', '--print both', '--print none');
    expectRefused(cli(['live', '-i', 'lo', '-w', 'o.pcap', '--annotate', './o.pcap'], { cwd: dir }), '-w o.pcap', '--annotate ./o.pcap');
    fs.writeFileSync(path.join(dir, 'p.txt'), 'policy-map type inspect esmtp m\n');
    expectRefused(cli(['live', '-i', 'lo', '--policy', 'p.txt', '--verdicts', 'p.txt', '--print', 'none'], { cwd: dir }), '--verdicts', '--policy');
  });

  // proxy checks before it listens.
  it('proxy: --write - beside the printed syslog lines, --verdicts and --syslog on one file', () => {
    const dir = path.dirname(copyInput());
    const base = ['proxy', '--listen', '127.0.0.1:0', '--upstream', '127.0.0.1:25'];
    expectRefused(cli([...base, '--write', '-']), '--write -', '--print syslog');
    expectRefused(cli([...base, '--verdicts', 'x.log', '--syslog', 'x.log'], { cwd: dir }), '--verdicts x.log', '--syslog x.log');
    expectRefused(cli([...base, '--verdicts', '-', '--syslog', '-', '--print', 'none']), '--verdicts -', '--syslog -');
    expect(fs.existsSync(path.join(dir, 'x.log'))).toBe(false);
  });
});

describe('proxy: an explicit - for the stream --print already prints', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('--syslog - with the default --print syslog starts (printed once); --syslog - with --print verdicts is refused', async () => {
    const base = ['proxy', '--listen', '127.0.0.1:0', '--upstream', '127.0.0.1:25'];
    expectRefused(cli([...base, '--syslog', '-', '--print', 'verdicts']), '--syslog -', '--print verdicts');
    for (const extra of [['--syslog', '-'], ['--verdicts', '-', '--print', 'verdicts']]) {
      const child = spawn(process.execPath, [CLI_MAIN, ...base, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await new Promise<number | null>((resolve) => {
        child.on('exit', (c) => resolve(c));
        const wait = setInterval(() => {
          if (err.includes('proxy listening on')) {
            clearInterval(wait);
            child.kill('SIGTERM');
          }
        }, 20);
      });
      expect(err, extra.join(' ')).toContain('proxy listening on');
      expect(code, err).not.toBe(2);
    }
  });
});

describe('contradictory options are usage errors', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });

  it('replay --no-asa-ooo --profile asa (--profile used to win silently); with --profile analysis it agrees', () => {
    const input = copyInput();
    expectRefused(cli(['replay', input, '--no-asa-ooo', '--profile', 'asa']), '--no-asa-ooo', '--profile asa');
    const ok = cli(['replay', input, '--no-asa-ooo', '--profile', 'analysis', '-o', '/dev/null']);
    expect(ok.code, ok.err).toBe(0);
  });

  it('the same engine option set twice to different values (the last used to win); the same value twice is fine', () => {
    const input = copyInput();
    expectRefused(cli(['replay', input, '--set', 'judging=line', '--set', 'judging=segment']), 'judging=line', 'judging=segment');
    expectRefused(cli(['diagnose', input, '--set', 'judging=line', '--engine-option', 'judging=segment']), 'judging=line', 'judging=segment');
    const ok = cli(['replay', input, '--set', 'judging=line', '--set', 'judging=line', '-o', '/dev/null']);
    expect(ok.code, ok.err).toBe(0);
  });

  it('--syslog-timestamps without --syslog (it did nothing)', () => {
    const input = copyInput();
    expectRefused(cli(['replay', input, '--syslog-timestamps']), '--syslog-timestamps', '--syslog FILE');
    expectRefused(cli(['live', '-i', 'lo', '--syslog-timestamps']), '--syslog-timestamps');
  });

  it('live --list-interfaces with a capture option (the capture options were ignored)', () => {
    const r = cli(['live', '--list-interfaces', '-i', 'lo']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--list-interfaces.*cannot be used with.*--interface/);
  });
});

describe('checkOutputPaths', () => {
  const refused = (inputs: NamedPath[], outputs: NamedPath[]): string | null => {
    try {
      checkOutputPaths(inputs, outputs);
      return null;
    } catch (err) {
      expect(err).toBeInstanceOf(SmtpInspectError);
      return (err as SmtpInspectError).message;
    }
  };

  it('skips options not given and lets distinct files through', () => {
    const dir = path.dirname(copyInput());
    expect(refused([{ option: 'IN', path: path.join(dir, 'in.pcap') }, { option: '--policy', path: undefined }], [
      { option: '-o', path: path.join(dir, 'a') },
      { option: '--verdicts', path: path.join(dir, 'b') },
      { option: '--syslog', path: undefined },
    ])).toBeNull();
  });

  it('/dev/null, also through a symlink, may be repeated and may even be the input', () => {
    const dir = path.dirname(copyInput());
    fs.symlinkSync('/dev/null', path.join(dir, 'null'));
    expect(refused([{ option: 'IN', path: '/dev/null' }], [
      { option: '-o', path: '/dev/null' },
      { option: '--verdicts', path: path.join(dir, 'null') },
    ])).toBeNull();
  });

  it('an input - never clashes with an output - ', () => {
    expect(refused([{ option: 'IN', path: '-' }], [{ option: '-o', path: '-' }])).toBeNull();
  });

  it('a path through a symlinked directory is the same file', () => {
    const input = copyInput();
    const dir = path.dirname(input);
    const alias = path.join(tmp, `alias-${n++}`);
    fs.symlinkSync(dir, alias);
    expect(refused([{ option: 'IN', path: path.join(alias, 'in.pcap') }], [{ option: '-o', path: input }])).toMatch(/-o .* is the same file as the input IN/);
    expect(refused([], [{ option: '-o', path: path.join(alias, 'new.pcap') }, { option: '--annotate', path: path.join(dir, 'new.pcap') }])).toMatch(/same file/);
  });
});
