/**
 * Verdict times at a binary timestamp resolution (pcapng if_tsresol 2^-n) are the times tshark
 * shows (frame.time_epoch, 9 digits). Before, 2^-20 printed 7 digits ("enough to tell ticks
 * apart"), so a verdict said .1234567 where Wireshark showed .123456745 and an admin could not find
 * the packet by its time.
 */
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openCapture } from '../../src/capture/open.js';
import { epb, idb, option, shb } from '../capture/model.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { readVerdicts, replayToTemp } from './helpers.js';

/** The capture's packets in a little-endian pcapng whose interface counts time in 2^-exp seconds. */
async function asBinaryResolution(pcap: string, exp: number): Promise<Buffer> {
  const src = await openCapture(pcap);
  const parts: Buffer[] = [shb(true), idb(true, src.interfaces[0]!.linkType, 262144, [option(9, Buffer.from([0x80 | exp]), true)])];
  await src.run((r) => {
    // ticks = floor(time * 2^exp), exactly: whole seconds shifted plus the nanoseconds scaled
    const ticks = (BigInt(r.tsSec) << BigInt(exp)) + (BigInt(r.tsNsec) << BigInt(exp)) / 1_000_000_000n;
    parts.push(epb(true, 0, ticks, Buffer.from(r.data), r.originalLength));
  });
  return Buffer.concat(parts);
}

describe.skipIf(!haveShared || !haveTool('tshark'))('verdict times at a 2^-n resolution', () => {
  it.each([20, 10])('2^-%i: every verdict time is tshark\'s frame time of its packet, to the nanosecond digit', async (exp) => {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'binres-'));
    const input = path.join(dir, `unknown-2^-${exp}.pcapng`);
    fs.writeFileSync(input, await asBinaryResolution(path.join(GENERATED_DIR, '12-unknown-commands.pcap'), exp));
    const r = await replayToTemp(input);
    const verdicts = readVerdicts(r.verdicts);
    expect(verdicts.length).toBeGreaterThan(10);
    const epoch = tshark(['-r', input, '-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n');
    for (const v of verdicts) {
      const t = epoch[v.packet - 1]!;
      const [sec, frac] = t.split('.');
      expect(frac).toHaveLength(9);
      // ISO time of the same instant: the fraction digits must be tshark's, all nine
      expect(v.time.slice(-11, -1)).toBe(`.${frac}`);
      expect(Math.floor(Date.parse(v.time) / 1000)).toBe(Number(sec));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
