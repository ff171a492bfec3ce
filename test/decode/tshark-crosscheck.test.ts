/**
 * Every packet of every capture in the shared corpus, decoded here and by tshark: TCP or not, ports,
 * TCP header length, TCP payload length (as claimed by the IP header), and the TCP checksum verdict
 * (tshark: 0 bad, 1 good, 2 unverified) against tcpChecksumOk (false, true, null).
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, EXTERNAL_PCAPS, haveShared, haveTool } from '../helpers/shared.js';
import { readRecords } from './pcap-records.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { tcpChecksumOk, ipv4HeaderChecksumOk } from '../../src/decode/checksum.js';

const run = promisify(execFile);

function captures(): string[] {
  if (!haveShared) return [];
  const list: string[] = [];
  for (const dir of [GENERATED_DIR, EXTERNAL_PCAPS]) {
    for (const name of readdirSync(dir).sort()) {
      if (!/\.pcap(ng)?$/.test(name)) continue;
      // The 8 MiB transfer is covered by its snaplen-96 twin (16c); keep this file fast.
      if (statSync(path.join(dir, name)).size > 4_000_000) continue;
      list.push(path.join(dir, name));
    }
  }
  return list;
}

interface TsharkRow {
  tcp: boolean;
  srcPort: number;
  dstPort: number;
  tcpLen: number;
  hdrLen: number;
  checksum: string;
  ipChecksum: string;
  nested: boolean;
}

async function tsharkRows(file: string): Promise<Map<number, TsharkRow>> {
  const { stdout } = await run(
    'tshark',
    ['-r', file, '-n', '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t',
      '-e', 'frame.number', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.len', '-e', 'tcp.hdr_len',
      '-e', 'tcp.checksum.status', '-e', 'ip.checksum.status', '-e', 'ip.proto', '-e', 'ipv6.nxt'],
    { maxBuffer: 512 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' } },
  );
  const rows = new Map<number, TsharkRow>();
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const [num, sp, dp, len, hl, cs, ipcs, proto, nxt] = line.split('\t');
    // TCP inside ICMP errors or tunnels: tshark shows the inner header, we stop at the outer one.
    const nested = `${proto ?? ''}${nxt ?? ''}`.includes(',');
    rows.set(Number(num), {
      tcp: sp !== undefined && sp !== '',
      nested,
      srcPort: Number(sp),
      dstPort: Number(dp),
      tcpLen: Number(len),
      hdrLen: Number(hl),
      checksum: cs ?? '',
      ipChecksum: ipcs ?? '',
    });
  }
  return rows;
}

describe.skipIf(!haveShared || !haveTool('tshark') || !haveTool('mergecap'))('decode agrees with tshark on every packet of the corpus', () => {
  // One tshark run per folder (the captures concatenated with `mergecap -a`, one interface per
  // input) instead of one per capture: tshark's start-up dominates on small files.
  it.each([
    ['generated', GENERATED_DIR],
    ['external', EXTERNAL_PCAPS],
  ])('%s captures', async (_name, dir) => {
    const files = captures().filter((f) => path.dirname(f) === dir);
    expect(files.length).toBeGreaterThan(5);
    const merged = path.join(mkdtempSync(path.join(tmpdir(), 'decode-xcheck-')), 'all.pcapng');
    await run('mergecap', ['-a', '-F', 'pcapng', '-w', merged, ...files]);
    // Which input file each merged frame came from, for readable differences.
    const origin: string[] = [];
    for (const f of files) for (const _r of await readRecords(f)) origin.push(path.basename(f));
    const [records, rows] = await Promise.all([readRecords(merged), tsharkRows(merged)]);
    expect(records.length).toBe(origin.length);
    expect(records.length).toBe(rows.size);
    const pkt = new DecodedPacket();
    const tcpPerFile = new Map<string, number>();
    // Differences are collected and compared once: an expect() per field per packet is slow.
    const diffs: string[] = [];
    const differ = (where: string, what: string, ours: unknown, theirs: unknown): void => {
      if (ours !== theirs && diffs.length < 20) diffs.push(`${where}: ${what} ours=${String(ours)} tshark=${String(theirs)}`);
    };
    let index = 0;
    for (const rec of records) {
      const src = origin[index++]!;
      const row = rows.get(rec.number);
      const where = `${src} (merged frame ${rec.number})`;
      if (!row) {
        diffs.push(`${where}: missing in tshark output`);
        continue;
      }
      decodePacket(rec.linkType, rec.data, pkt);
      if (row.nested) continue;
      if (row.tcp) {
        differ(where, 'kind', pkt.kind, PacketKind.TCP);
        differ(where, 'ports', `${pkt.srcPort}>${pkt.dstPort}`, `${row.srcPort}>${row.dstPort}`);
        differ(where, 'tcp header length', pkt.tcpHeaderLength, row.hdrLen);
        differ(where, 'tcp payload length', pkt.payloadLength + pkt.payloadMissing, row.tcpLen);
        const ok = tcpChecksumOk(pkt);
        differ(where, 'tcp checksum status', ok === null ? '2' : ok ? '1' : '0', row.checksum);
        if (row.ipChecksum !== '' && pkt.ipVersion === 4) differ(where, 'ip checksum status', ipv4HeaderChecksumOk(pkt) ? '1' : '0', row.ipChecksum);
        tcpPerFile.set(src, (tcpPerFile.get(src) ?? 0) + 1);
      } else if (pkt.kind === PacketKind.TCP) {
        diffs.push(`${where}: TCP here, not for tshark`);
      }
    }
    expect(diffs).toEqual([]);
    // Every capture in this corpus carries TCP: a file with none compared would mean nothing was checked.
    for (const f of files) expect(tcpPerFile.get(path.basename(f)) ?? 0, path.basename(f)).toBeGreaterThan(0);
  });
});
