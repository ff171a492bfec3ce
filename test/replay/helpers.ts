/** Replays a capture into a temporary directory and reads the results back, for replay tests. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { executeReplay, type ReplayCliOptions, type ReplayResult } from '../../src/cli/replay.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Deterministic tshark (as helpers/shared.ts), asynchronous so concurrent tests overlap their runs. */
async function tsharkAsync(args: string[]): Promise<string> {
  const r = await run('tshark', args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C', TZ: 'UTC', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' },
  });
  return r.stdout;
}

/** The default map's RCPT rule with `reset log` instead of `drop-connection log` (the reset tests). */
export const RESET_POLICY = `policy-map type inspect esmtp reset_map
 parameters
  mask-banner
 match cmd RCPT count gt 100
  reset log
policy-map global_policy
 class inspection_default
  inspect esmtp reset_map
`;

export interface ReplayRun extends ReplayResult {
  dir: string;
  out: string;
  verdicts: string;
  annotate: string;
  syslog: string;
}

export async function replayToTemp(input: string, extra: Partial<ReplayCliOptions> = {}, ext = path.extname(input) || '.pcap'): Promise<ReplayRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
  const out = path.join(dir, `out${ext}`);
  const verdicts = path.join(dir, 'verdicts.jsonl');
  const annotate = path.join(dir, 'annotate.pcapng');
  const syslog = path.join(dir, 'asa.log');
  const opts: ReplayCliOptions = {
    output: out,
    verdicts,
    annotate,
    syslog,
    checksum: 'incremental',
    set: [],
    clientInterface: 'outside',
    serverInterface: 'inside',
    asaOoo: true,
    ...extra,
  };
  const r = await executeReplay(input, opts);
  return { ...r, dir, out, verdicts, annotate, syslog };
}

export interface VerdictLine {
  time: string;
  packet: number;
  client: string;
  server: string;
  direction: string | null;
  rule: string;
  action: string;
  syslog: string | null;
  detail: string;
}

export function readVerdicts(file: string): VerdictLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as VerdictLine);
}

/** Both directions of TCP stream `n` as tshark's "follow tcp raw" reassembles them (node 0 = first sender). */
export async function follow(file: string, n = 0): Promise<{ node0: Buffer; node1: Buffer }> {
  const text = await tsharkAsync(['-r', file, '-q', '-z', `follow,tcp,raw,${n}`]);
  const lines = text.split('\n');
  const a: string[] = [];
  const b: string[] = [];
  let inBody = false;
  for (const line of lines) {
    if (line.startsWith('Node 1:')) {
      inBody = true;
      continue;
    }
    if (!inBody) continue;
    if (line.startsWith('=====')) break;
    if (line.startsWith('\t')) b.push(line.trim());
    else if (line.trim() !== '') a.push(line.trim());
  }
  return { node0: Buffer.from(a.join(''), 'hex'), node1: Buffer.from(b.join(''), 'hex') };
}

export async function frameComments(file: string): Promise<Map<number, string>> {
  const out = await tsharkAsync(['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.comment']);
  const m = new Map<number, string>();
  for (const line of out.split('\n')) {
    const [n, c] = line.split('\t');
    if (n && c) m.set(Number(n), c);
  }
  return m;
}
