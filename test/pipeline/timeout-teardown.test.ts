/**
 * A connection ended by a timeout is torn down when its timer runs out: the 302014 line is stamped
 * last activity + the timeout and its duration includes the idle time, as an ASA logs it
 * ("duration 0:00:30 ... SYN Timeout"; "duration 1:00:0x ... Conn-timeout"). Before, it was stamped
 * at the last packet with the duration up to it (0:00:00 for a session idle an hour). Real captures,
 * only their timestamps moved.
 */
import path from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { executeReplay } from '../../src/cli/replay.js';
import { loadPackets, type CapturedPacket } from '../helpers/capture-packets.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { writeCapturedPcap } from './write-pcap.js';

interface Verdict {
  time: string;
  packet: number;
  syslog: string | null;
}

const later = (p: CapturedPacket, sec: number): CapturedPacket => ({ ...p, tsSec: p.tsSec + sec });
const iso = (p: CapturedPacket, plusSec = 0): string => new Date((p.tsSec + plusSec) * 1000 + Math.floor(p.tsNsec / 1e6)).toISOString().slice(0, 19);

async function teardowns(file: string, dir: string): Promise<Verdict[]> {
  const verdicts = path.join(dir, `${path.basename(file)}.jsonl`);
  await executeReplay(file, { output: path.join(dir, `${path.basename(file)}.out.pcap`), verdicts, checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true });
  return readFileSync(verdicts, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Verdict).filter((v) => v.syslog?.includes('302014'));
}

describe.skipIf(!haveShared)('a timeout teardown is logged when the timer runs out', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'timeout-teardown-'));
  const src = path.join(GENERATED_DIR, '02-ehlo-basic.pcap');

  it('idle: 02-ehlo-basic silent for 4000 s after the EHLO reply (timeout conn 1:00:00)', async () => {
    const ps = loadPackets(src);
    const cut = ps.findIndex((p) => p.toServer && p.data.subarray(p.payloadAt, p.payloadAt + 4).toString('latin1') === 'MAIL');
    const moved = ps.map((p, i) => (i >= cut ? later(p, 4000) : p));
    const file = path.join(dir, 'idle.pcap');
    writeCapturedPcap(file, src, moved);
    const [first] = await teardowns(file, dir);
    expect(first?.syslog).toMatch(/duration 1:00:00 bytes \d+ Conn-timeout$/);
    expect(first?.time.slice(0, 19)).toBe(iso(ps[cut - 1]!, 3600));
    expect(first?.packet).toBe(cut + 1); // noticed at the packet after the silence
  });

  it('half-open: a SYN of 02 never answered, then 03 40 s later (embryonic timeout 0:00:30)', async () => {
    const syn = loadPackets(src)[0]!;
    const other = path.join(GENERATED_DIR, '03-ehlo-pipelining.pcap');
    const rest = loadPackets(other).map((p) => ({ ...p, tsSec: syn.tsSec + 40, tsNsec: p.tsNsec }));
    const file = path.join(dir, 'half-open.pcap');
    writeCapturedPcap(file, src, [syn, ...rest]);
    const [first] = await teardowns(file, dir);
    expect(first?.syslog).toMatch(/duration 0:00:30 bytes 0 SYN Timeout$/);
    expect(first?.time.slice(0, 19)).toBe(iso(syn, 30));
  });
});
