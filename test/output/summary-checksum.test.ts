/**
 * Checksum modes on a capture whose checksums are valid except two the capturing host left zero
 * (offload): `incremental` keeps valid ones valid and wrong ones wrong by the same amount, `fix`
 * makes every edited one valid, `keep` leaves the field — and the summary then says that the
 * stale checksums are what `--checksum keep` asked for instead of a WARNING. tshark judges.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { createPcapWriter } from '../../src/capture/pcap-writer.js';
import { computeTcpChecksum, tcpChecksumOk, writeTcpChecksum } from '../../src/decode/checksum.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { formatSummary } from '../../src/output/summary.js';
import { checkReplayInvariant } from '../../src/pipeline/invariant.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

/** The capture with every TCP checksum made valid, then packets `zero` given checksum 0. */
async function validExcept(src: string, dest: string, zero: number[]): Promise<void> {
  const s = await openCapture(src);
  const w = createPcapWriter(dest, s.pcapHeader!);
  await s.run((r) => {
    const data = Buffer.from(r.data);
    const p = decodePacket(r.linkType, data, new DecodedPacket());
    if (p.kind === PacketKind.TCP) writeTcpChecksum(p, zero.includes(r.packetNumber) ? 0 : computeTcpChecksum(p));
    w.write({ ...r, data, buffer: data, offset: 0, captureLength: data.length, fromInput: false });
  });
  await w.close();
}

/** tshark's tcp.checksum.status per packet (1 good, 0 bad), as one string. */
function tsharkStatuses(file: string): string {
  return tshark(['-r', file, '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-e', 'tcp.checksum.status']).split('\n').filter((l) => l !== '').join('');
}

/** The same judged by our decoder (cheaper; tshark judges the replay outputs). */
async function statuses(file: string): Promise<string> {
  const s = await openCapture(file);
  let out = '';
  await s.run((r) => {
    out += tcpChecksumOk(decodePacket(r.linkType, Buffer.from(r.data), new DecodedPacket())) ? '1' : '0';
  });
  return out;
}

describe.skipIf(!haveShared || !haveTool('tshark'))('checksum modes on offload-zeroed checksums (tshark judges)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'csum-modes-'));

  it.each(['02-ehlo-basic.pcap', '17-ipv6-loopback.pcap', '18a-any-linux-sll2.pcap', '18b-any-linux-sll.pcap'])('%s', async (name) => {
    const input = path.join(dir, name);
    // Packet 4 (banner) is edited, 8 (EHLO reply) too; 6 is not edited.
    await validExcept(path.join(GENERATED_DIR, name), input, [4, 6, 8]);
    const before = await statuses(input);
    expect(before).toBe('111' + '0' + '1' + '0' + '1' + '0' + '1'.repeat(13));
    const inc = await replayToTemp(input, { checksum: 'incremental' });
    expect(inc.summary.packets.modified).toBe(2);
    // Valid ones stay valid, the zeroed edited ones (4, 8) stay wrong.
    expect(tsharkStatuses(inc.out)).toBe(before);
    const fix = await replayToTemp(input, { checksum: 'fix' });
    expect(tsharkStatuses(fix.out)).toBe('111' + '1' + '1' + '0' + '1' + '1' + '1'.repeat(13));
    if (name !== '02-ehlo-basic.pcap') return;
    const allValid = path.join(dir, `valid-${name}`);
    await validExcept(path.join(GENERATED_DIR, name), allValid, []);
    const kept = await replayToTemp(allValid, { checksum: 'keep' });
    expect(kept.summary.packets.checksumBroken).toBe(2);
    expect(await statuses(kept.out)).toBe('111' + '0' + '111' + '0' + '1'.repeat(13));
    const text = formatSummary(kept.summary, null, false, { checksumMode: 'keep' });
    expect(text).toContain('NOTE: 2 edited packet(s) had a valid TCP checksum in the input and carry it unchanged, so no longer matching, in OUT (--checksum keep)');
    expect(text).not.toContain('WARNING');
    expect(formatSummary(kept.summary, null, false, { checksumMode: 'incremental' })).toContain('WARNING: 2 packet(s)');
    // `replay --check --checksum keep`: the stale checksums were asked for, not a failed check (exit 1 before)
    const base = { input: allValid, summary: kept.summary, out: kept.out, verdicts: kept.verdicts, useTshark: false };
    const keepCheck = await checkReplayInvariant({ ...base, checksumMode: 'keep' });
    expect(keepCheck.problems).toEqual([]);
    expect(keepCheck.checks.join('\n')).toContain('--checksum keep: 2 edited packet(s) keep their checksum as read (now stale), as asked');
    expect(keepCheck.checks.join('\n')).toContain('2 packet(s) valid in the input have a stale TCP checksum in OUT (--checksum keep)');
    // the same OUT judged as an incremental replay's is broken
    const strict = await checkReplayInvariant({ ...base, checksumMode: 'incremental' });
    expect(strict.problems).toEqual(['2 packet(s) lost a valid TCP checksum while rewriting', '2 packet(s) valid in the input have an invalid TCP checksum in OUT']);
  });
});
