/**
 * An edited packet carrying many epb_hash options: the MD-5 / SHA-1 digest of the bytes written is
 * computed once per packet and algorithm, whatever the number of options asking for it.
 *
 * Regression: the packet was hashed once per option, so the work was options x packet bytes: a
 * capture of 2,000 edited 1.4 KB packets with 2,000 MD-5 options each (99 MB) took replay 11.5 s,
 * against 0.4 s with one option (after: 0.7 s, OUT byte for byte the same). Counted here, not timed:
 * the createHash calls of the replay.
 * Input: the packets of a real Postfix session (12-unknown-commands: its unknown commands are
 * X'd), each as an EPB with 200 MD-5 and 200 SHA-1 options.
 */
import { createHash as realCreateHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';
import { loadPackets } from '../helpers/capture-packets.js';
import { replayToTemp } from '../replay/helpers.js';
import { epb, idb, option, shb } from '../capture/model.js';

const calls = vi.hoisted(() => ({ md5: 0, sha1: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:crypto')>();
  return {
    ...m,
    createHash: (name: string, ...rest: []) => {
      if (name === 'md5') calls.md5++;
      if (name === 'sha1') calls.sha1++;
      return m.createHash(name, ...rest);
    },
  };
});

const SRC = path.join(GENERATED_DIR, '12-unknown-commands.pcap');
const present = haveShared && existsSync(SRC);
if (!present) console.warn(`skipping epb-hash-flood: ${SRC} not present`);
const le = true;
const PER_ALG = 200;

describe.skipIf(!present)('epb_hash options of an edited packet: one digest per algorithm', () => {
  it(`${PER_ALG} MD-5 + ${PER_ALG} SHA-1 options per packet: each edited packet hashed once per output, every option right`, async () => {
    const packets = loadPackets(SRC);
    const dir = mkdtempSync(path.join(tmpdir(), 'hash-flood-'));
    const input = path.join(dir, 'in.pcapng');
    const parts = [shb(le), idb(le, packets[0]!.linkType, 262144)];
    for (const p of packets) {
      const md5 = Buffer.concat([Buffer.from([3]), realCreateHash('md5').update(p.data).digest()]);
      const sha1 = Buffer.concat([Buffer.from([4]), realCreateHash('sha1').update(p.data).digest()]);
      const opts = [...Array.from({ length: PER_ALG }, () => option(3, md5, le)), ...Array.from({ length: PER_ALG }, () => option(3, sha1, le))];
      parts.push(epb(le, 0, BigInt(p.tsSec) * 1_000_000n + BigInt(Math.floor(p.tsNsec / 1000)), p.data, p.data.length, opts));
    }
    writeFileSync(input, Buffer.concat(parts));
    calls.md5 = 0;
    calls.sha1 = 0;
    const r = await replayToTemp(input, {}, '.pcapng');
    const edited = r.summary.packets.modified;
    expect(edited).toBeGreaterThan(0);
    // Once per edited packet and output (OUT and the annotated capture), not once per option.
    expect(calls.md5).toBeGreaterThanOrEqual(edited);
    expect(calls.md5).toBeLessThanOrEqual(2 * edited);
    expect(calls.sha1).toBe(calls.md5);
    // Every hash option of OUT is the digest of the packet written.
    const out = readFileSync(r.out);
    let checked = 0;
    for (let p = 0; p + 12 <= out.length; p += out.readUInt32LE(p + 4)) {
      if (out.readUInt32LE(p) !== 6) continue;
      const cap = out.readUInt32LE(p + 20);
      const data = out.subarray(p + 28, p + 28 + cap);
      const want = { 3: realCreateHash('md5').update(data).digest(), 4: realCreateHash('sha1').update(data).digest() };
      const end = p + out.readUInt32LE(p + 4) - 4;
      for (let q = p + 28 + ((cap + 3) & ~3); q + 4 <= end; ) {
        const code = out.readUInt16LE(q);
        const len = out.readUInt16LE(q + 2);
        if (code === 0) break;
        if (code === 3) {
          const alg = out[q + 4] as 3 | 4;
          expect(out.subarray(q + 5, q + 4 + len)).toEqual(want[alg]);
          checked++;
        }
        q += 4 + ((len + 3) & ~3);
      }
    }
    expect(checked).toBe(packets.length * 2 * PER_ALG);
  });

  it('recomputeHashes: 300 MD-5 options over one buffer, one digest', async () => {
    const { recomputeHashes } = await import('../../src/capture/pcapng-hash.js');
    const data = Buffer.from('EHLO x\r\n');
    const opts = Buffer.concat(Array.from({ length: 300 }, () => option(3, Buffer.alloc(17, 3), le)));
    calls.md5 = 0;
    recomputeHashes(opts, 0, opts.length, le, data, 0, data.length);
    expect(calls.md5).toBe(1);
    expect(opts.subarray(5, 21)).toEqual(realCreateHash('md5').update(data).digest());
  });
});
