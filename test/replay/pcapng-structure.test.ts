/**
 * A pcapng OUT (and the annotated capture of a pcapng IN) keeps the input's structure: sections in
 * their own byte order with their SHB options, IDBs with their options, NRB/ISB/DSB/custom blocks in
 * place, unmodified packet blocks byte for byte (EPB with options, SPB, obsolete PB), edited packets
 * as their input block with the new bytes. Checked on every corpus pcapng (byte-identical round trip
 * when nothing is inspected) and on a hand-built two-section, mixed-endian file replayed with edits,
 * judged by our reader, by the classic-pcap replay of the same packets, and by tshark/capinfos.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTERNAL_PCAPS, GENERATED_DIR, PROJECT_CAPTURES, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { block, epb, idb, option, options, readFile, shb, w16, w32, w64 } from '../capture/model.js';
import { replayToTemp } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pcapng-structure-'));
const NO_INSPECTION = path.join(tmp, 'no-inspection.cfg');
fs.writeFileSync(NO_INSPECTION, 'policy-map global_policy\n class inspection_default\n  no inspect esmtp\n');

function pcapngsIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...pcapngsIn(p));
    else if (e.name.endsWith('.pcapng')) out.push(p);
  }
  return out.sort();
}

interface Blk {
  type: number;
  bytes: Buffer;
  le: boolean;
}

/** An independent block walker: every block with its byte order. */
function blocks(file: Buffer): Blk[] {
  const out: Blk[] = [];
  let p = 0;
  let le = true;
  while (p + 12 <= file.length) {
    if (file.readUInt32LE(p) === 0x0a0d0d0a) le = file.readUInt32LE(p + 8) === 0x1a2b3c4d;
    const type = le ? file.readUInt32LE(p) : file.readUInt32BE(p);
    const len = le ? file.readUInt32LE(p + 4) : file.readUInt32BE(p + 4);
    out.push({ type, bytes: file.subarray(p, p + len), le });
    p += len;
  }
  expect(p).toBe(file.length);
  return out;
}

const PACKET_TYPES = new Set([2, 3, 6]);

/** epb_hash value: MD-5 (algorithm 3) of the packet. */
const md5Hash = (data: Buffer): Buffer => Buffer.concat([Buffer.from([3]), createHash('md5').update(data).digest()]);

/**
 * An input EPB as an edited packet's block is expected to be: its MD-5 epb_hash recomputed over the
 * bytes written (`data`), since a hash left unchanged would no longer describe them.
 */
function rehashed(x: Blk, data: Buffer): Buffer {
  const b = Buffer.from(x.bytes);
  const caplen = x.le ? b.readUInt32LE(20) : b.readUInt32BE(20);
  for (let p = 28 + ((caplen + 3) & ~3); p + 4 <= b.length - 4; ) {
    const code = x.le ? b.readUInt16LE(p) : b.readUInt16BE(p);
    const len = x.le ? b.readUInt16LE(p + 2) : b.readUInt16BE(p + 2);
    if (code === 0) break;
    if (code === 3 && len === 17 && b[p + 4] === 3) md5Hash(data).copy(b, p + 4);
    p += 4 + ((len + 3) & ~3);
  }
  return b;
}

describe.skipIf(!haveShared)('every corpus pcapng round-trips byte-identical', () => {
  const files = [...pcapngsIn(PROJECT_CAPTURES), ...pcapngsIn(GENERATED_DIR), ...pcapngsIn(EXTERNAL_PCAPS)];

  it('the corpus has pcapng files (dumpcap, Wireshark, external tools)', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  for (const f of files) {
    it(`${path.basename(f)}: OUT and the annotated capture are the input, byte for byte, when nothing is inspected`, async () => {
      const r = await replayToTemp(f, { policy: NO_INSPECTION }, '.pcapng');
      const input = fs.readFileSync(f);
      expect(fs.readFileSync(r.out).equals(input)).toBe(true);
      expect(fs.readFileSync(r.annotate).equals(input)).toBe(true);
    });
  }

  it('with the default policy, every block that carries no packet is copied in place and edited packets keep their block', async () => {
    let edited = 0;
    for (const f of files) {
      const r = await replayToTemp(f, {}, '.pcapng');
      const a = blocks(fs.readFileSync(f));
      const b = blocks(fs.readFileSync(r.out));
      if (r.summary.packets.dropped > 0 || r.summary.packets.synthesized > 0) continue; // sequence differs by design
      expect(b.map((x) => x.type)).toEqual(a.map((x) => x.type));
      for (let i = 0; i < a.length; i++) {
        const x = a[i]!;
        const y = b[i]!;
        if (!PACKET_TYPES.has(x.type)) expect(y.bytes.equals(x.bytes), `${f} block ${i}`).toBe(true);
        else {
          // Same length, same header (id, timestamp, lengths), same options: only packet bytes may differ.
          expect(y.bytes.length).toBe(x.bytes.length);
          expect(y.bytes.subarray(0, 28).equals(x.bytes.subarray(0, 28))).toBe(true);
          const caplen = x.bytes.readUInt32LE(20);
          const optStart = 28 + ((caplen + 3) & ~3);
          expect(y.bytes.subarray(optStart).equals(x.bytes.subarray(optStart))).toBe(true);
          if (!y.bytes.equals(x.bytes)) edited++;
        }
      }
    }
    expect(edited).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- a hand-built mixed-endian file

const str = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Packets of a real Postfix/swaks session (02-ehlo-basic: the default policy masks the banner and EHLO keywords). */
async function sessionPackets(): Promise<{ data: Buffer; tsSec: number; tsUsec: number; orig: number }[]> {
  const r = await readFile(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
  return r.records.map((x) => ({ data: x.data, tsSec: x.tsSec, tsUsec: Math.floor(x.tsNsec / 1000), orig: x.originalLength }));
}

const ARP = Buffer.from('ffffffffffff020000000001080600010800060400010200000000017f0000010000000000007f000002', 'hex');

function nrb(le: boolean): Buffer {
  const rec = (type: number, v: Buffer) => Buffer.concat([w16(type, le), w16(v.length, le), v, Buffer.alloc((4 - (v.length % 4)) % 4)]);
  return block(4, Buffer.concat([rec(1, Buffer.concat([Buffer.from([127, 0, 0, 1]), str('mail.example.test\0')])), w32(0, le), options([option(1, str('nrb note'), le)], le)]), le);
}
function isb(le: boolean, ifId: number, ts: bigint): Buffer {
  return block(5, Buffer.concat([w32(ifId, le), w32(Number(ts >> 32n), le), w32(Number(ts & 0xffffffffn), le), options([option(4, w64(21n, le), le), option(1, str('stats'), le)], le)]), le);
}
function pb(le: boolean, ifId: number, ts: bigint, data: Buffer, opts: Buffer[]): Buffer {
  const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
  return block(2, Buffer.concat([w16(ifId, le), w16(0xffff, le), w32(Number(ts >> 32n), le), w32(Number(ts & 0xffffffffn), le), w32(data.length, le), w32(data.length, le), padded, options(opts, le)]), le);
}
function spb(le: boolean, data: Buffer): Buffer {
  return block(3, Buffer.concat([w32(data.length, le), data]), le);
}
function custom(le: boolean): Buffer {
  return block(0x00000bad, Buffer.concat([w32(32473, le), str('custom payload\0\0')]), le);
}
function dsb(le: boolean): Buffer {
  const secret = str(`CLIENT_RANDOM ${'00'.repeat(32)} ${'11'.repeat(48)}\n`);
  return block(10, Buffer.concat([w32(0x544c534b, le), w32(secret.length, le), secret, Buffer.alloc((4 - (secret.length % 4)) % 4)]), le);
}

/**
 * Section 0 big-endian (SHB with hardware/os/userappl/comment; IDB "be-client" in ns with if_filter,
 * if_os, if_fcslen; IDB "be-server" in µs with if_tsoffset; NRB; custom block; the first 10 packets
 * as EPBs with comments, flags, hash and drop count; ISB). Section 1 little-endian (IDB "le0"; an
 * ARP frame as SPB; DSB; the rest as EPB and obsolete PB; NRB; ISB).
 */
async function buildMixed(): Promise<{ bytes: Buffer; packets: number; names: string[]; comments: Map<number, string> }> {
  const pk = await sessionPackets();
  const parts: Buffer[] = [];
  const names: string[] = [];
  const comments = new Map<number, string>();
  let be = false;
  parts.push(
    shb(be, [option(2, str('test hardware'), be), option(3, str('Linux 6.1'), be), option(4, str('hand-built by the test'), be), option(1, str('section zero'), be)]),
    idb(be, 1, 262144, [option(2, str('be-client'), be), option(3, str('client side'), be), option(9, Buffer.from([9]), be), option(11, Buffer.concat([Buffer.from([0]), str('tcp port 25')]), be), option(12, str('Linux'), be), option(13, Buffer.from([0]), be)]),
    idb(be, 1, 262144, [option(2, str('be-server'), be), option(14, w64(1000n, be), be)]),
    nrb(be),
    custom(be),
  );
  let n = 0;
  for (let i = 0; i < 10; i++) {
    const p = pk[i]!;
    const toServer = p.data.readUInt16BE(36) === 25; // Ethernet + IPv4 (20) + TCP dst port
    const opts = [option(2, w32(toServer ? 2 : 1, be), be), option(3, md5Hash(p.data), be), option(4, w64(BigInt(i), be), be)];
    if (i % 3 === 0) {
      opts.unshift(option(1, str(`input comment ${i}`), be));
      comments.set(n + 1, `input comment ${i}`);
    }
    const ts = toServer ? BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsUsec) * 1000n : BigInt(p.tsSec - 1000) * 1_000_000n + BigInt(p.tsUsec);
    parts.push(epb(be, toServer ? 0 : 1, ts, p.data, p.orig, opts));
    names.push(toServer ? 'be-client' : 'be-server');
    n++;
  }
  parts.push(isb(be, 0, BigInt(pk[9]!.tsSec) * 1_000_000_000n));
  be = true; // section 1: little-endian
  const le = be;
  parts.push(shb(le, [option(4, str('second section'), le)]), idb(le, 1, 262144, [option(2, str('le0'), le)]), spb(le, ARP), dsb(le));
  names.push('le0');
  n++;
  for (let i = 10; i < pk.length; i++) {
    const p = pk[i]!;
    const ts = BigInt(p.tsSec) * 1_000_000n + BigInt(p.tsUsec);
    if (i % 2 === 0) parts.push(pb(le, 0, ts, p.data, [option(2, w32(0, le), le)]));
    else parts.push(epb(le, 0, ts, p.data, p.orig, i === 11 ? [option(1, str('input comment le'), le)] : []));
    if (i === 11) comments.set(n + 1, 'input comment le');
    names.push('le0');
    n++;
  }
  parts.push(nrb(le), isb(le, 0, BigInt(pk[pk.length - 1]!.tsSec) * 1_000_000n));
  return { bytes: Buffer.concat(parts), packets: n, names, comments };
}

describe.skipIf(!haveShared)('a two-section, mixed-endian pcapng replayed with edits', () => {
  it('keeps sections, byte orders, interfaces, options and blocks; edits equal the classic-pcap replay of the same packets', async () => {
    const built = await buildMixed();
    const input = path.join(tmp, 'mixed.pcapng');
    fs.writeFileSync(input, built.bytes);
    const r = await replayToTemp(input, {}, '.pcapng');
    expect(r.inputError).toBeNull();
    expect(r.summary.packets.modified).toBeGreaterThan(0);
    expect(r.summary.packets.dropped).toBe(0);

    const a = blocks(built.bytes);
    const b = blocks(fs.readFileSync(r.out));
    expect(b.map((x) => [x.type, x.le])).toEqual(a.map((x) => [x.type, x.le]));
    let edited = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (!PACKET_TYPES.has(x.type)) {
        expect(y.bytes.equals(x.bytes), `block ${i} (type ${x.type})`).toBe(true);
      } else if (!y.bytes.equals(x.bytes)) {
        edited++;
        expect(y.bytes.length).toBe(x.bytes.length);
        expect(x.type).not.toBe(3); // the SPB is ARP: never edited
        const caplen = x.le ? x.bytes.readUInt32LE(20) : x.bytes.readUInt32BE(20);
        const optStart = 28 + ((caplen + 3) & ~3);
        expect(y.bytes.subarray(0, 28).equals(x.bytes.subarray(0, 28))).toBe(true);
        expect(y.bytes.subarray(optStart).equals(rehashed(x, y.bytes.subarray(28, 28 + caplen)).subarray(optStart))).toBe(true);
      }
    }
    expect(edited).toBe(r.summary.packets.modified);

    // The same edits as replaying the session as the classic pcap it came from.
    const classic = await replayToTemp(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
    const want = (await readFile(classic.out)).records.map((x) => x.data.toString('hex'));
    const got = (await readFile(r.out)).records.map((x) => x.data.toString('hex')).filter((h) => h !== ARP.toString('hex'));
    expect(got).toEqual(want);
  });

  it.skipIf(!haveTool('tshark') || !haveTool('capinfos'))('tshark reads OUT and the annotated capture cleanly: interfaces, names, comments', async () => {
    const built = await buildMixed();
    const input = path.join(tmp, 'mixed-tshark.pcapng');
    fs.writeFileSync(input, built.bytes);
    const r = await replayToTemp(input, {}, '.pcapng');
    for (const f of [input, r.out, r.annotate]) {
      const run = spawnSync('tshark', ['-r', f], { encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent', LC_ALL: 'C' } });
      expect(run.status, `${f}: ${run.stderr}`).toBe(0);
      expect(run.stderr).not.toMatch(/damaged|corrupt|cut short|isn't|invalid/i);
    }
    const info = execFileSync('capinfos', ['-I', r.out], { encoding: 'utf8' });
    expect(info).toMatch(/Number of interfaces in file: 3/);
    for (const name of ['be-client', 'be-server', 'le0']) expect(info).toContain(name);
    expect(info).toMatch(/tcp port 25/);
    const fields = (f: string) =>
      tshark(['-r', f, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'frame.interface_name', '-e', 'frame.comment', '-e', 'frame.time_epoch', '-e', 'frame.protocols'])
        .trim()
        .split('\n')
        .map((l) => l.split('|'));
    const inF = fields(input);
    const outF = fields(r.out);
    // tshark 4.0 shows the custom block as a frame of its own (protocols "data", no interface).
    expect(outF.filter((x) => x[4] !== 'data').length).toBe(built.packets);
    // Interface names, timestamps (ns; µs with if_tsoffset) and comments read as in IN. (tshark 4.0
    // names section 1's interface 0 after section 0's: IN reads the same; our reader below is exact.)
    expect(outF.map((x) => [x[1], x[3], x[2]])).toEqual(inF.map((x) => [x[1], x[3], x[2]]));
    const outComments = outF.map((x) => x[2]).filter((c) => c !== '');
    expect(outComments).toEqual([...built.comments.values()]); // OUT adds no comment
    // Our reader: each packet on the interface it was captured on, by name.
    const back = await readFile(r.out);
    expect(back.records.map((x) => back.interfacesSeen[x.interfaceIndex]!.name)).toEqual(built.names);
    expect(back.interfacesSeen.map((i) => [i.section, i.littleEndian])).toEqual([
      [0, false],
      [0, false],
      [1, true],
    ]);
    // The annotated capture: input comments first, then what the inspection did.
    const ann = fields(r.annotate);
    expect(ann.map((x) => [x[1], x[3]])).toEqual(inF.map((x) => [x[1], x[3]]));
    const first = ann.find((x) => x[2]!.includes('input comment 0'))!;
    expect(first[2]!.startsWith('input comment 0')).toBe(true);
    expect(ann.filter((x) => /mask/.test(x[2]!)).length).toBeGreaterThanOrEqual(r.summary.packets.modified);
  });
});

describe.skipIf(!haveShared)('held-back and dropped packets keep their input block', () => {
  /** The capture as pcapng in byte order `le`: every EPB carries epb_packetid (its number), a hash and, for every 4th, a comment. */
  async function toPcapng(file: string, le: boolean): Promise<Buffer> {
    const r = await readFile(file);
    const parts = [shb(le, [option(4, str('converted by the test'), le)]), idb(le, r.records[0]!.linkType, 262144, [option(2, str('if0'), le), option(9, Buffer.from([9]), le)])];
    for (const x of r.records) {
      const opts = [option(5, w64(BigInt(x.packetNumber), le), le), option(3, md5Hash(x.data), le)];
      if (x.packetNumber % 4 === 0) opts.push(option(1, str(`packet ${x.packetNumber}`), le));
      parts.push(epb(le, 0, BigInt(x.tsSec) * 1_000_000_000n + BigInt(x.tsNsec), x.data, x.originalLength, opts));
    }
    return Buffer.concat(parts);
  }

  const packetId = (b: Blk): bigint => {
    const caplen = b.le ? b.bytes.readUInt32LE(20) : b.bytes.readUInt32BE(20);
    let p = 28 + ((caplen + 3) & ~3);
    while (p + 4 <= b.bytes.length - 4) {
      const code = b.le ? b.bytes.readUInt16LE(p) : b.bytes.readUInt16BE(p);
      const len = b.le ? b.bytes.readUInt16LE(p + 2) : b.bytes.readUInt16BE(p + 2);
      if (code === 5) return b.le ? b.bytes.readBigUInt64LE(p + 4) : b.bytes.readBigUInt64BE(p + 4);
      if (code === 0) break;
      p += 4 + ((len + 3) & ~3);
    }
    return -1n;
  };

  for (const le of [true, false]) {
    it(`every OUT and annotated packet is its input block with only the packet bytes changed (${le ? 'little' : 'big'}-endian)`, async () => {
      let held = 0;
      let dropped = 0;
      const sources = [
        ...['sv-rfc2231.pcap', 'zeek-mail-transactions-invalid.pcap', 'sv-bug-6207-1.pcap'].map((n) => path.join(EXTERNAL_PCAPS, n)),
        ...['10a-sender-340.pcap', '08a-header-line-1500.pcap', '07c-rcpt-101.pcap'].map((n) => path.join(GENERATED_DIR, n)),
      ];
      for (const src of sources) {
        const name = path.basename(src);
        if (!fs.existsSync(src)) continue;
        const input = path.join(tmp, `${name}-${le}.pcapng`);
        fs.writeFileSync(input, await toPcapng(src, le));
        const r = await replayToTemp(input, {}, '.pcapng');
        held += r.summary.packets.maxHeld;
        dropped += r.summary.packets.dropped;
        const inBlocks = new Map<bigint, Blk>();
        for (const b of blocks(fs.readFileSync(input))) if (b.type === 6) inBlocks.set(packetId(b), b);
        for (const f of [r.out, r.annotate]) {
          let synthesised = 0;
          for (const b of blocks(fs.readFileSync(f))) {
            expect(b.le).toBe(le);
            if (b.type !== 6) continue;
            const id = packetId(b);
            if (id === -1n) {
              synthesised++; // an RST the replay made: no input block
              continue;
            }
            const read = inBlocks.get(id)!;
            const caplen = le ? read.bytes.readUInt32LE(20) : read.bytes.readUInt32BE(20);
            const a = { ...read, bytes: rehashed(read, b.bytes.subarray(28, 28 + caplen)) };
            const optStart = 28 + ((caplen + 3) & ~3);
            // Type, interface, timestamp and lengths as read (the block length grows by added comments).
            expect(Buffer.concat([b.bytes.subarray(0, 4), b.bytes.subarray(8, 28)]).equals(Buffer.concat([a.bytes.subarray(0, 4), a.bytes.subarray(8, 28)])), `${name} packet ${id}`).toBe(true);
            if (f === r.out) expect(b.bytes.length).toBe(a.bytes.length);
            if (f === r.out) expect(b.bytes.subarray(optStart).equals(a.bytes.subarray(optStart)), `${name} packet ${id}`).toBe(true);
            // The annotated capture may add comments after the block's own options.
            else expect(b.bytes.subarray(optStart, a.bytes.length - 8).equals(a.bytes.subarray(optStart, a.bytes.length - 8)), `${name} packet ${id}`).toBe(true);
          }
          // Synthesised RSTs are in OUT only: the annotated capture holds exactly the input packets.
          expect(synthesised, `${name} ${f}`).toBe(f === r.out ? r.summary.packets.synthesized : 0);
        }
      }
      expect(held).toBeGreaterThan(0);
      expect(dropped).toBeGreaterThan(0);
    });
  }
});
