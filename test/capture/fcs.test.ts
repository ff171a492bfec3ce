/**
 * Ethernet frames captured with their FCS: an edited frame gets a new FCS (the ASA's NIC computes
 * one for what it transmits); unedited frames are written as read. Inputs: a real Postfix session
 * (12-unknown-commands: the ASA X-es out ten unknown commands) with each frame's FCS appended, as a
 * pcap whose link-type word carries the FCS bits (0x24000001: F bit, 2 x 16 bits) and as pcapng
 * with if_fcslen, and with epb_flags giving the FCS length per packet. Checked with our CRC-32
 * against the standard check value and, when installed, with tshark's `eth.check_fcs`.
 */
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32, ifFcsBytes, pcapFcsBytes } from '../../src/capture/fcs.js';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { loadPackets } from '../helpers/capture-packets.js';
import { replayToTemp } from '../replay/helpers.js';
import { epb, idb, option, pcapHeader, pcapRecord, readFile, shb, w32 } from './model.js';

const SRC = path.join(GENERATED_DIR, '12-unknown-commands.pcap');
const present = haveShared && existsSync(SRC);
if (!present) console.warn(`skipping fcs: ${SRC} not present`);

describe('CRC-32 and FCS lengths', () => {
  it('CRC-32 is IEEE 802.3 (check value of "123456789")', () => {
    expect(crc32(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
  });
  it('FCS lengths from the pcap link-type word and if_fcslen', () => {
    expect(pcapFcsBytes(0x24000001)).toBe(4);
    expect(pcapFcsBytes(0x20000001)).toBe(0); // no F bit: the length field means nothing
    expect(pcapFcsBytes(1)).toBe(0);
    expect(ifFcsBytes(1, 4)).toBe(4);
    expect(ifFcsBytes(1, 32)).toBe(4);
    expect(ifFcsBytes(1, 0)).toBe(0);
  });
});

describe.skipIf(!present)('an edited Ethernet frame gets a new FCS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fcs-'));
  const packets = present ? loadPackets(SRC) : [];
  const withFcs = packets.map((p) => Buffer.concat([p.data, w32(crc32(p.data, 0, p.data.length), true)]));
  const ts = (i: number): bigint => BigInt(packets[i]!.tsSec) * 1_000_000_000n + BigInt(packets[i]!.tsNsec);
  const inputs: Record<string, Buffer> = present
    ? {
        'fcs.pcap': Buffer.concat([pcapHeader(true, true, 262144, 0x24000001), ...withFcs.map((d, i) => pcapRecord(true, packets[i]!.tsSec, packets[i]!.tsNsec, d))]),
        'fcs-be.pcap': Buffer.concat([pcapHeader(false, false, 262144, 0x24000001), ...withFcs.map((d, i) => pcapRecord(false, packets[i]!.tsSec, Math.floor(packets[i]!.tsNsec / 1000), d))]),
        'if-fcslen.pcapng': Buffer.concat([shb(false), idb(false, 1, 262144, [option(13, Buffer.from([4]), false), option(9, Buffer.from([9]), false)]), ...withFcs.map((d, i) => epb(false, 0, ts(i), d))]),
        // No if_fcslen: epb_flags bits 5-8 give 4 octets of FCS per packet.
        'epb-flags.pcapng': Buffer.concat([shb(true), idb(true, 1, 262144, [option(9, Buffer.from([9]), true)]), ...withFcs.map((d, i) => epb(true, 0, ts(i), d, d.length, [option(2, w32(4 << 5, true), true)]))]),
      }
    : {};

  for (const name of Object.keys(inputs)) {
    it(`${name}: every FCS in OUT and the annotated capture is valid; unedited frames are as read`, async () => {
      const input = path.join(dir, name);
      writeFileSync(input, inputs[name]!);
      const r = await replayToTemp(input);
      expect(r.summary.packets.modified).toBeGreaterThanOrEqual(10);
      for (const file of [r.out, r.annotate]) {
        const got = await readFile(file);
        expect(got.records.length).toBe(packets.length);
        let edited = 0;
        got.records.forEach((x, i) => {
          const d = x.data;
          expect(d.readUInt32LE(d.length - 4), `${file} frame ${i + 1}`).toBe(crc32(d, 0, d.length - 4));
          if (!d.equals(withFcs[i]!)) edited++;
        });
        expect(edited).toBe(r.summary.packets.modified);
        if (haveTool('tshark')) {
          const status = tshark(['-o', 'eth.check_fcs:TRUE', '-r', file, '-T', 'fields', '-e', 'eth.fcs.status']).trim().split('\n');
          expect(status.length).toBe(packets.length);
          expect(status.every((s) => s === '1'), status.join(',')).toBe(true); // 1 = Good
        }
      }
      expect(readFileSync(r.out).length).toBeGreaterThan(0);
    });
  }
});

const RESET_SRC = path.join(GENERATED_DIR, '07c-rcpt-101.pcap');
describe.skipIf(!haveShared || !existsSync(RESET_SRC))('a synthesised reset on an FCS interface gets padding and an FCS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fcs-rst-'));
  const policy = path.join(dir, 'reset.cfg');
  writeFileSync(policy, 'policy-map type inspect esmtp _default_esmtp_map\n parameters\n  mask-banner\n match cmd RCPT count gt 100\n  reset log\n');
  const packets = haveShared && existsSync(RESET_SRC) ? loadPackets(RESET_SRC) : [];
  const frames = packets.map((p) => Buffer.concat([p.data, w32(crc32(p.data, 0, p.data.length), true)]));
  const ts = (i: number): bigint => BigInt(packets[i]!.tsSec) * 1_000_000_000n + BigInt(packets[i]!.tsNsec);
  const inputs: Record<string, () => Buffer> = {
    'rst-fcs.pcap': () => Buffer.concat([pcapHeader(true, true, 262144, 0x24000001), ...frames.map((d, i) => pcapRecord(true, packets[i]!.tsSec, packets[i]!.tsNsec, d))]),
    'rst-fcs.pcapng': () => Buffer.concat([shb(false), idb(false, 1, 262144, [option(13, Buffer.from([4]), false), option(9, Buffer.from([9]), false)]), ...frames.map((d, i) => epb(false, 0, ts(i), d))]),
  };
  for (const [name, make] of Object.entries(inputs)) {
    it(`${name}: both RSTs are 64-byte frames with a valid FCS, read whole by tshark`, async () => {
      const input = path.join(dir, name);
      writeFileSync(input, make());
      const r = await replayToTemp(input, { policy });
      expect(r.summary.packets.synthesized).toBe(2);
      const got = await readFile(r.out);
      const rsts = got.records.filter((x) => x.data.length >= 48 && (x.data[47]! & 0x04) !== 0); // Ethernet + IPv4 (20) + TCP flags byte
      expect(rsts.length).toBe(2);
      for (const x of [...got.records]) {
        expect(x.data.readUInt32LE(x.data.length - 4), `frame ${x.packetNumber}`).toBe(crc32(x.data, 0, x.data.length - 4));
      }
      for (const x of rsts) expect([x.data.length, x.originalLength]).toEqual([64, 64]);
      if (haveTool('tshark')) {
        const lines = tshark(['-o', 'eth.check_fcs:TRUE', '-r', r.out, '-Y', 'tcp.flags.reset == 1', '-T', 'fields', '-e', 'eth.fcs.status', '-e', 'frame.len', '-e', '_ws.malformed'])
          .split('\n')
          .filter((l) => l !== '');
        expect(lines).toEqual(['1\t64\t', '1\t64\t']); // FCS Good, no malformed-packet expert item
      }
    });
  }
});
