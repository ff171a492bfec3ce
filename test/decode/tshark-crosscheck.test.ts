/**
 * Every packet of every capture in the shared corpus, decoded here and by tshark: TCP or not, ports,
 * TCP header length, TCP payload length (as claimed by the IP header), and the TCP checksum verdict
 * (tshark: 0 bad, 1 good, 2 unverified) against tcpChecksumOk (false, true, null).
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
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

describe.skipIf(!haveShared || !haveTool('tshark'))('decode agrees with tshark on every packet of the corpus', () => {
  const files = captures();

  it.each(files.map((f) => [path.basename(f), f]))('%s', async (_name, file) => {
    const [records, rows] = await Promise.all([readRecords(file), tsharkRows(file)]);
    expect(records.length).toBe(rows.size);
    const pkt = new DecodedPacket();
    let tcpPackets = 0;
    for (const rec of records) {
      const row = rows.get(rec.number);
      expect(row, `frame ${rec.number}`).toBeDefined();
      if (!row) continue;
      decodePacket(rec.linkType, rec.data, pkt);
      if (row.nested) continue;
      if (row.tcp) {
        const where = `${path.basename(file)} frame ${rec.number}`;
        expect(pkt.kind, where).toBe(PacketKind.TCP);
        expect([pkt.srcPort, pkt.dstPort, pkt.tcpHeaderLength], where).toEqual([row.srcPort, row.dstPort, row.hdrLen]);
        expect(pkt.payloadLength + pkt.payloadMissing, where).toBe(row.tcpLen);
        const ok = tcpChecksumOk(pkt);
        const ours = ok === null ? '2' : ok ? '1' : '0';
        expect(ours, `${where} tcp checksum`).toBe(row.checksum);
        if (row.ipChecksum !== '' && pkt.ipVersion === 4) {
          expect(ipv4HeaderChecksumOk(pkt) ? '1' : '0', `${where} ip checksum`).toBe(row.ipChecksum);
        }
        tcpPackets++;
      } else if (!row.tcp) {
        expect(pkt.kind, `${path.basename(file)} frame ${rec.number}`).not.toBe(PacketKind.TCP);
      }
    }
    // A capture in this corpus without TCP would mean the comparison above compared nothing.
    expect(tcpPackets).toBeGreaterThan(0);
  });
});
