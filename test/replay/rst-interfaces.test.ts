/**
 * Synthesised RSTs in a pcapng whose interfaces differ: each RST is written on the interface the
 * connection's packets of that direction use at the reset, stamped just after the triggering packet
 * in that interface's own resolution and offset (not the trigger's raw count read in other units).
 * Built from a real Postfix session (10a-sender-340: the 340-byte MAIL FROM triggers the reset):
 * client packets on a microsecond interface, server packets on a millisecond one with if_tsoffset;
 * then the same session cut into two sections (the second big-endian) that describe the
 * interfaces anew, with the trigger in the second.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { epb, idb, option, readFile, shb, w64 } from '../capture/model.js';
import { replayToTemp, readVerdicts } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rst-interfaces-'));
const RESET = path.join(tmp, 'reset.cfg');
fs.writeFileSync(RESET, 'policy-map type inspect esmtp _default_esmtp_map\n match sender-address length gt 320\n  reset log\n');
const OFFSET = 100000;

interface Interfaces {
  micro: number;
  milli: number;
}

/** IDBs: µs (default) for the client side, ms with if_tsoffset for the server side. */
function describeInterfaces(le: boolean, extraFirst: boolean): Buffer[] {
  const out = [];
  if (extraFirst) out.push(idb(le, 1, 262144, [option(2, Buffer.from('unused'), le)]));
  out.push(idb(le, 1, 262144, [option(2, Buffer.from('client-side'), le)]));
  out.push(idb(le, 1, 262144, [option(2, Buffer.from('server-side'), le), option(9, Buffer.from([3]), le), option(14, w64(BigInt(OFFSET), le), le)]));
  return out;
}

async function build(cutAt: number | null): Promise<string> {
  const src = await readFile(path.join(GENERATED_DIR, '10a-sender-340.pcap'));
  const parts: Buffer[] = [];
  let le = true;
  let ifs: Interfaces = { micro: 0, milli: 1 };
  parts.push(shb(le), ...describeInterfaces(le, false));
  for (const r of src.records) {
    if (cutAt !== null && r.packetNumber === cutAt) {
      // Second section: the other byte order, an extra interface first so the ids move.
      le = false;
      ifs = { micro: 1, milli: 2 };
      parts.push(shb(le), ...describeInterfaces(le, true));
    }
    const fromClient = r.data.readUInt16BE(14 + 20 + 2) === 25;
    const wallUs = BigInt(r.tsSec) * 1_000_000n + BigInt(Math.floor(r.tsNsec / 1000));
    if (fromClient) parts.push(epb(le, ifs.micro, wallUs, r.data));
    else parts.push(epb(le, ifs.milli, (wallUs - BigInt(OFFSET) * 1_000_000n) / 1000n, r.data));
  }
  const file = path.join(tmp, `session-${cutAt ?? 'one'}.pcapng`);
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

describe.skipIf(!haveShared)('synthesised RSTs on pcapng interfaces of different resolution and offset', () => {
  it('RSTs on a microsecond and a nanosecond interface keep time going forward', async () => {
    const src = await readFile(path.join(GENERATED_DIR, '10a-sender-340.pcap'));
    const le = true;
    const parts: Buffer[] = [shb(le), idb(le, 1, 262144), idb(le, 1, 262144, [option(9, Buffer.from([9]), le)])];
    for (const r of src.records) {
      const fromClient = r.data.readUInt16BE(14 + 20 + 2) === 25;
      const ns = BigInt(r.tsSec) * 1_000_000_000n + BigInt(r.tsNsec);
      parts.push(fromClient ? epb(le, 0, ns / 1000n, r.data) : epb(le, 1, ns, r.data));
    }
    const input = path.join(tmp, 'micro-nano.pcapng');
    fs.writeFileSync(input, Buffer.concat(parts));
    const r = await replayToTemp(input, { policy: RESET });
    const out = (await readFile(r.out)).records;
    expect(out.filter((x) => (x.data[14 + 20 + 13]! & 0x04) !== 0)).toHaveLength(2);
    for (let i = 1; i < out.length; i++) {
      const a = BigInt(out[i - 1]!.tsSec) * 1_000_000_000n + BigInt(out[i - 1]!.tsNsec);
      const b = BigInt(out[i]!.tsSec) * 1_000_000_000n + BigInt(out[i]!.tsNsec);
      expect(b >= a, `packet ${i + 1} of OUT is before packet ${i}`).toBe(true);
    }
  });

  for (const cutAt of [null, 5] as const) {
    it(cutAt === null ? 'one section' : 'a second, big-endian section that describes the interfaces anew', async () => {
      const input = await build(cutAt);
      const r = await replayToTemp(input, { policy: RESET });
      const rsts = readVerdicts(r.verdicts).filter((v) => v.action === 'synthesize');
      expect(rsts).toHaveLength(2);
      const trigger = rsts[0]!.packet;
      const inRecs = (await readFile(input)).records;
      const trig = inRecs[trigger - 1]!;
      const trigNs = BigInt(trig.tsSec) * 1_000_000_000n + BigInt(trig.tsNsec);

      const out = (await readFile(r.out)).records;
      const outRsts = out.filter((x) => (x.data[14 + 20 + 13]! & 0x04) !== 0);
      expect(outRsts).toHaveLength(2);
      for (const x of outRsts) {
        const toServer = x.data.readUInt16BE(14 + 20 + 2) === 25;
        // On the interface the connection's packets of that direction use in this section.
        const sameDir = out.filter((y) => y !== x && (y.data.readUInt16BE(14 + 20 + 2) === 25) === toServer && y.packetNumber <= x.packetNumber);
        expect(x.interfaceIndex).toBe(sameDir[sameDir.length - 1]!.interfaceIndex);
        // Just after the trigger: within its interface's tick (1 ms for the server side, 1 µs otherwise) and two steps.
        const ns = BigInt(x.tsSec) * 1_000_000_000n + BigInt(x.tsNsec);
        const tick = toServer ? 1_000n : 1_000_000n;
        expect(ns > trigNs).toBe(true);
        expect(ns - trigNs <= 2n * tick).toBe(true);
        // The stored count is in the interface's own units from its offset.
        const count = (BigInt(x.tsRawHigh) << 32n) | BigInt(x.tsRawLow >>> 0);
        const wallFromCount = toServer ? count * 1000n : (count + BigInt(OFFSET) * 1000n) * 1_000_000n;
        expect(wallFromCount).toBe(ns);
      }
      for (const v of rsts) expect(Math.abs(Date.parse(v.time) - Number(trigNs / 1_000_000n))).toBeLessThan(10);
      if (haveTool('tshark')) {
        const times = tshark(['-r', r.out, '-Y', 'tcp.flags.reset==1', '-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n').map(Number);
        for (const t of times) expect(Math.abs(t - Number(trigNs) / 1e9)).toBeLessThan(0.01);
      }
    });
  }
});
