/**
 * Refuses, before anything is opened for writing, an output that is one of the command's inputs
 * or two outputs that are the same file: opening an output truncates it, so `replay a.pcap -o
 * a.pcap` would destroy the capture it is reading, and two writers on one file (or on stdout)
 * interleave their formats. Files are compared by resolved path (symlinks followed, also dangling
 * ones a write would create) and, when they exist, by device + inode (hard links). `-` is
 * stdin for an input and stdout for an output: at most one output may be `-`; an input `-` only
 * clashes with an output that is the very file redirected into stdin. /dev/null may be repeated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SmtpInspectError } from '../errors.js';

/** A path the user gave, with the option (or argument) that names it in messages. */
export interface NamedPath {
  /** e.g. '-o', '--verdicts', 'IN'. */
  option: string;
  path: string | undefined;
  /**
   * Set for an output that writes to stdout without being given a path (the text report, the
   * --print lines): how to make room for a `-` output, e.g. 'or use --print none'.
   */
  stdoutHint?: string;
}

/** Where a path leads: canonical names and, for an existing file, its device:inode. */
interface Identity {
  names: string[];
  inode: string | null;
}

const STDIO = '-';
const STDOUT_NAME = '<stdout>';

function inodeKey(st: fs.Stats): string {
  return `${st.dev}:${st.ino}`;
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

function fstatRegular(fd: number): string | null {
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() ? inodeKey(st) : null;
  } catch {
    return null;
  }
}

/**
 * What stdout leads to, whatever its kind: a pipe, a socket or a terminal is one stream too, and
 * /dev/stdout or /proc/self/fd/1 given as another output reach it (their stat follows to it).
 */
function fstatStdout(): string | null {
  try {
    const st = fs.fstatSync(1);
    return isDevNull(st) ? null : inodeKey(st);
  } catch {
    return null;
  }
}

/** The path a write would reach: symlinks followed even when their target does not exist yet. */
function canonicalPath(p: string, depth = 0): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    // Missing (or a dangling symlink): follow the link by hand, else canonicalise the parent.
  }
  try {
    if (depth < 40 && fs.lstatSync(abs).isSymbolicLink()) return canonicalPath(path.resolve(path.dirname(abs), fs.readlinkSync(abs)), depth + 1);
  } catch {
    // Not there at all: fall through.
  }
  try {
    return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
  } catch {
    return abs;
  }
}

const devNull = statOrNull('/dev/null');

function isDevNull(st: fs.Stats | null): boolean {
  return st !== null && devNull !== null && st.dev === devNull.dev && st.ino === devNull.ino;
}

/** null: never clashes (/dev/null). */
function identify(p: string, role: 'input' | 'output'): Identity | null {
  if (p === STDIO) {
    // stdin and stdout are different streams; they clash only through a regular file behind them.
    return role === 'input' ? { names: [], inode: fstatRegular(0) } : { names: [STDOUT_NAME], inode: fstatStdout() };
  }
  const st = statOrNull(p);
  if (isDevNull(st)) return null;
  const names = [path.resolve(p), canonicalPath(p)];
  return { names, inode: st ? inodeKey(st) : null };
}

function same(a: Identity, b: Identity): boolean {
  return (a.inode !== null && a.inode === b.inode) || a.names.some((n) => b.names.includes(n));
}

function shown(n: NamedPath & { path: string }): string {
  return n.stdoutHint !== undefined ? n.option : `${n.option} ${n.path}`;
}

/**
 * Throws E_USAGE (exit 2) with one line naming both options when an output is an input or two
 * outputs are the same file or both stdout. Undefined paths (options not given) are skipped.
 */
export function checkOutputPaths(inputs: readonly NamedPath[], outputs: readonly NamedPath[]): void {
  const given = <T extends NamedPath>(list: readonly T[]) => list.filter((n): n is T & { path: string } => n.path !== undefined);
  const ins = given(inputs).map((n) => ({ n, id: identify(n.path, 'input') }));
  const outs = given(outputs).map((n) => ({ n, id: identify(n.path, 'output') }));
  for (const o of outs) {
    if (o.id === null) continue;
    for (const i of ins) {
      if (i.id === null || !same(o.id, i.id)) continue;
      const via = i.n.path === STDIO ? ' (it is redirected into standard input)' : '';
      throw new SmtpInspectError('E_USAGE', `${shown(o.n)} is the same file as the input ${shown(i.n)}${via}: writing it would destroy the input; choose another output path`);
    }
  }
  for (let a = 0; a < outs.length; a++) {
    const x = outs[a]!;
    if (x.id === null) continue;
    for (let b = a + 1; b < outs.length; b++) {
      const y = outs[b]!;
      if (y.id === null || !same(x.id, y.id)) continue;
      if (x.n.path === STDIO && y.n.path === STDIO) {
        const implicit = x.n.stdoutHint ?? y.n.stdoutHint;
        const explicit = x.n.stdoutHint === undefined ? x.n : y.n;
        const fix = implicit !== undefined ? `give ${explicit.option} a path ${implicit}` : 'at most one output may be -';
        throw new SmtpInspectError('E_USAGE', `standard output is taken twice (${shown(x.n)} and ${shown(y.n)}): ${fix}`);
      }
      const redirected = x.n.path === STDIO || y.n.path === STDIO ? ' (standard output is redirected to it)' : '';
      throw new SmtpInspectError('E_USAGE', `${shown(x.n)} and ${shown(y.n)} are the same file${redirected}: give each output its own path`);
    }
  }
}
