/**
 * The no-loss invariant (issue 8), checked after a replay from its outputs alone:
 * - every input packet is in OUT or has exactly one `drop` verdict record (in = forwarded + dropped);
 * - OUT holds forwarded + synthesised records and reads back cleanly (our reader, and tshark when installed);
 * - no TCP checksum that was valid in the input is invalid in OUT (input and OUT are paired packet
 *   by packet using the drop and synthesise records), and every synthesised packet's checksum is valid.
 *   With `--checksum keep` an edited packet's stale checksum is what was asked for: counted, not a failure.
 * Memory: one byte per input packet plus the drop/synthesise sets.
 */
import { execFile } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { openCapture } from '../capture/open.js';
import { tcpChecksumOk, type ChecksumMode } from '../decode/checksum.js';
import { decodePacket } from '../decode/decode.js';
import { DecodedPacket } from '../decode/packet.js';
import type { ReplaySummary } from './types.js';

export interface InvariantInput {
  input: string;
  summary: ReplaySummary;
  /** OUT path (not '-'), or null when OUT was not written to a file. */
  out: string | null;
  /** Verdicts path (not '-'), or null: then only the summary's counts are checked. */
  verdicts: string | null;
  /** Run tshark on OUT when it is installed (default true). */
  useTshark?: boolean;
  /** The replay's `--checksum` mode; with `keep` (checksums left as read) an edited packet's stale checksum is not a problem. */
  checksumMode?: ChecksumMode;
}

export interface InvariantReport {
  ok: boolean;
  checks: string[];
  problems: string[];
}

/** Only a regular file can be read a second time (stdin, pipes and /dev/null cannot). */
function rereadable(path: string): boolean {
  if (path === '-') return false;
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const CK_UNKNOWN = 0;
const CK_VALID = 1;
const CK_INVALID = 2;

async function readVerdicts(path: string): Promise<{ dropped: Set<number>; dropRecords: number; synth: Map<number, number>; bad: number }> {
  const dropped = new Set<number>();
  const synth = new Map<number, number>();
  let dropRecords = 0;
  let bad = 0;
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line === '') continue;
    let rec: { packet?: unknown; action?: unknown };
    try {
      rec = JSON.parse(line) as { packet?: unknown; action?: unknown };
    } catch {
      bad++;
      continue;
    }
    if (typeof rec.packet !== 'number') continue;
    if (rec.action === 'drop') {
      dropRecords++;
      dropped.add(rec.packet);
    } else if (rec.action === 'synthesize') {
      synth.set(rec.packet, (synth.get(rec.packet) ?? 0) + 1);
    }
  }
  return { dropped, dropRecords, synth, bad };
}

function tsharkCount(path: string): Promise<{ ok: boolean; count: number; error: string }> {
  return new Promise((resolve) => {
    execFile(
      'tshark',
      ['-r', path, '-T', 'fields', '-e', 'frame.number'],
      { maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' } },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          resolve({ ok: true, count: -1, error: '' });
          return;
        }
        const count = stdout.split('\n').filter((l) => l !== '').length;
        resolve({ ok: !err && !/cut short|appears to be damaged|isn't a capture file/i.test(stderr), count, error: (err ? String(err.message) : '') + stderr.trim() });
      },
    );
  });
}

export async function checkReplayInvariant(x: InvariantInput): Promise<InvariantReport> {
  const checks: string[] = [];
  const problems: string[] = [];
  const p = x.summary.packets;
  if (p.in === p.forwarded + p.dropped) checks.push(`packets in ${p.in} = forwarded ${p.forwarded} + dropped ${p.dropped}`);
  else problems.push(`packets in ${p.in} != forwarded ${p.forwarded} + dropped ${p.dropped}`);
  if (p.out === p.forwarded + p.synthesized) checks.push(`packets out ${p.out} = forwarded + synthesised ${p.synthesized}`);
  else problems.push(`packets out ${p.out} != forwarded ${p.forwarded} + synthesised ${p.synthesized}`);
  const keep = x.checksumMode === 'keep';
  if (p.checksumBroken === 0) checks.push('no valid TCP checksum became invalid while rewriting');
  else if (keep) checks.push(`--checksum keep: ${p.checksumBroken} edited packet(s) keep their checksum as read (now stale), as asked`);
  else problems.push(`${p.checksumBroken} packet(s) lost a valid TCP checksum while rewriting`);

  let v: Awaited<ReturnType<typeof readVerdicts>> | null = null;
  if (x.verdicts !== null && !rereadable(x.verdicts)) {
    checks.push(`verdicts went to ${x.verdicts}, not a regular file: not read back`);
  } else if (x.verdicts !== null) {
    v = await readVerdicts(x.verdicts);
    if (v.bad > 0) problems.push(`verdicts: ${v.bad} line(s) are not JSON`);
    if (v.dropRecords === p.dropped && v.dropped.size === v.dropRecords) checks.push(`verdicts: one drop record per dropped packet (${v.dropRecords})`);
    else problems.push(`verdicts: ${v.dropRecords} drop record(s) for ${v.dropped.size} distinct packet(s), summary says ${p.dropped} dropped`);
  }

  if (x.out !== null && !rereadable(x.out)) {
    checks.push(`OUT went to ${x.out}, not a regular file: not read back`);
  } else if (x.out !== null) {
    // Pairing OUT with the input needs the input a second time.
    if (v !== null && !rereadable(x.input)) {
      checks.push('the input is not a regular file (stdin or a pipe): OUT not paired with it packet by packet');
      v = null;
    }
    // Pass 1: checksum state of every input packet.
    let status = new Uint8Array(1 << 16);
    const pkt = new DecodedPacket();
    // Input packet numbers in order: a pcapng's custom blocks are numbered too (Wireshark frames), so they may skip.
    const inNumbers: number[] = [];
    if (v !== null) {
      const inSrc = await openCapture(x.input);
      try {
        await inSrc.run((rec) => {
          inNumbers.push(rec.packetNumber);
          if (rec.packetNumber >= status.length) {
            const bigger = new Uint8Array(status.length * 2);
            bigger.set(status);
            status = bigger;
          }
          const ok = tcpChecksumOk(decodePacket(rec.linkType, rec.data, pkt));
          status[rec.packetNumber] = ok === null ? CK_UNKNOWN : ok ? CK_VALID : CK_INVALID;
        });
      } catch {
        // A damaged input was reported by the replay itself; pair what was read.
      }
    }
    // Pass 2: OUT, paired with the input using the drop/synthesise records.
    const outSrc = await openCapture(x.out);
    let outCount = 0;
    let outFrames = 0;
    let inIdx = 0;
    const last = inNumbers.length > 0 ? inNumbers[inNumbers.length - 1]! : 0;
    // Past the input's last packet read (a damaged input), numbers go on one by one.
    const numberAt = (i: number): number => inNumbers[i] ?? last + 1 + i - inNumbers.length;
    let broken = 0;
    let badSynth = 0;
    const synthQ = v ? [...v.synth.entries()].sort((a, b) => a[0] - b[0]) : [];
    try {
      const outStats = await outSrc.run((rec) => {
        outCount++;
        const d = decodePacket(rec.linkType, rec.data, pkt);
        if (v) {
          while (v.dropped.has(numberAt(inIdx))) inIdx++;
          const head = synthQ[0];
          if (head && head[0] < numberAt(inIdx)) {
            if (tcpChecksumOk(d) !== true) badSynth++;
            head[1]--;
            if (head[1] === 0) synthQ.shift();
            return;
          }
        }
        if (v && status[numberAt(inIdx)] === CK_VALID && tcpChecksumOk(d) === false) broken++;
        inIdx++;
      });
      outFrames = outCount + (outStats.otherFrames ?? 0);
      checks.push(`OUT reads back: ${outCount} packet(s)`);
    } catch (err) {
      problems.push(`OUT does not read back: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (outCount !== p.out) problems.push(`OUT holds ${outCount} packet(s), summary says ${p.out}`);
    if (v) {
      if (broken === 0) checks.push('paired with the input: no valid TCP checksum is invalid in OUT');
      else if (keep) checks.push(`paired with the input: ${broken} packet(s) valid in the input have a stale TCP checksum in OUT (--checksum keep)`);
      else problems.push(`${broken} packet(s) valid in the input have an invalid TCP checksum in OUT`);
      if (badSynth > 0) problems.push(`${badSynth} synthesised packet(s) have an invalid TCP checksum`);
      if (inNumbers.length > 0 && inIdx + v.dropped.size < inNumbers.length) {
        // Every input packet must have been paired or dropped.
        problems.push(`only ${inIdx} input packet(s) paired with OUT; ${inNumbers.length} read, ${v.dropped.size} dropped`);
      }
    }
    if (x.useTshark !== false) {
      const t = await tsharkCount(x.out);
      if (t.count < 0) checks.push('tshark not installed: tshark read-back skipped');
      else if (t.ok && t.count === outFrames) checks.push(`tshark reads OUT: ${t.count} ${outFrames === outCount ? 'packet(s)' : `frame(s) (${outCount} packet(s) and ${outFrames - outCount} custom/journal block(s))`}`);
      else problems.push(`tshark on OUT: ${t.count} frame(s) (expected ${outFrames}) ${t.error}`.trim());
    }
  }
  return { ok: problems.length === 0, checks, problems };
}
