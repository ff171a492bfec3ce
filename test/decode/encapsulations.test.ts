/**
 * Encapsulations seen in captures taken off DSL lines, provider cores and routed IPv6/IPv4 paths,
 * made with scapy from real Postfix/swaks sessions (fixtures/make-encapsulations.py): PPPoE session
 * (PPP protocol plain and compressed), MPLS label stacks, 802.1ad QinQ, an IPv6 extension-header
 * chain, and source-routed datagrams whose TCP checksum covers the final destination (RFC 8200
 * §8.1, RFC 9293 §3.1). Every packet is a valid TCP segment (tshark agrees, checked below); the
 * decoder must see it as one, with the same ports and payload as the plain session, and verify its
 * checksum. Also: an RST built from a PPPoE packet's headers carries a PPPoE length that fits it.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveTool } from '../helpers/shared.js';
import { readRecords } from './pcap-records.js';
import { decodePacket, updateLinkLengths } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { computeTcpChecksum, tcpChecksumOk } from '../../src/decode/checksum.js';
import { buildRst, captureTemplate } from '../../src/rewrite/rst.js';

const run = promisify(execFile);
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): string => path.join(FIXTURES, name);

/** What every variant of 12-unknown-commands must decode to: per packet, ports and payload. */
async function plainSession(file: string): Promise<{ ports: string[]; payloads: string[] }> {
  const pkt = new DecodedPacket();
  const ports: string[] = [];
  const payloads: string[] = [];
  for (const r of await readRecords(file)) {
    decodePacket(r.linkType, r.data, pkt);
    ports.push(`${pkt.srcPort}>${pkt.dstPort}`);
    payloads.push(pkt.data.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength).toString('hex'));
  }
  return { ports, payloads };
}

const VARIANTS = [
  'pppoe.pcap',
  'pppoe-pfc.pcap',
  'mpls.pcap',
  'qinq-88a8.pcap',
  'ipv6-ext-chain.pcap',
  'ipv6-routing-segleft.pcap',
  'ipv4-lsrr.pcap',
];

describe('encapsulated SMTP sessions decode as the plain one', () => {
  it.each(VARIANTS)('%s: every packet TCP, same ports and payload, checksum verifies', async (name) => {
    // The IPv4 original of all variants; its payload is what each must deliver.
    const reference = await plainSession(fixture('qinq-88a8.pcap'));
    expect(reference.ports).toHaveLength(46);
    const pkt = new DecodedPacket();
    const records = await readRecords(fixture(name));
    expect(records).toHaveLength(46);
    const bad: string[] = [];
    records.forEach((r, i) => {
      decodePacket(r.linkType, r.data, pkt);
      const where = `packet ${r.number}`;
      if (pkt.kind !== PacketKind.TCP) return void bad.push(`${where}: kind ${pkt.kind}`);
      if (`${pkt.srcPort}>${pkt.dstPort}` !== reference.ports[i]) bad.push(`${where}: ports`);
      const payload = pkt.data.subarray(pkt.payloadOffset, pkt.payloadOffset + pkt.payloadLength).toString('hex');
      if (payload !== reference.payloads[i]) bad.push(`${where}: payload`);
      if (tcpChecksumOk(pkt) !== true) bad.push(`${where}: checksum not verified`);
      // A recompute over the same pseudo-header gives the stored value (what --checksum fix writes).
      if (computeTcpChecksum(pkt) !== pkt.tcpChecksum) bad.push(`${where}: recomputed checksum differs`);
    });
    expect(bad).toEqual([]);
  });

  it('records the MPLS labels and the PPPoE length field', async () => {
    const pkt = new DecodedPacket();
    const [mpls] = await readRecords(fixture('mpls.pcap'));
    decodePacket(mpls!.linkType, mpls!.data, pkt);
    expect([pkt.mplsLabels, pkt.l3Offset, pkt.pppoeLengthOffset]).toEqual([2, 22, -1]);
    const [pppoe] = await readRecords(fixture('pppoe.pcap'));
    decodePacket(pppoe!.linkType, pppoe!.data, pkt);
    expect([pkt.l3Offset, pkt.pppoeLengthOffset]).toEqual([22, 18]);
    const [pfc] = await readRecords(fixture('pppoe-pfc.pcap'));
    decodePacket(pfc!.linkType, pfc!.data, pkt);
    expect([pkt.l3Offset, pkt.pppoeLengthOffset]).toEqual([21, 18]);
  });

  it('a PPPoE frame cut inside its PPP protocol field is malformed and truncated, LCP is non-ip', () => {
    const pkt = new DecodedPacket();
    const head = Buffer.from('0200000000020200000000018864110012340028', 'hex');
    decodePacket(1, Buffer.concat([head, Buffer.from([0x00])]), pkt);
    expect([pkt.kind, pkt.truncated]).toEqual([PacketKind.MALFORMED, true]);
    decodePacket(1, Buffer.concat([head, Buffer.from('c0210101000a', 'hex')]), pkt);
    expect(pkt.kind).toBe(PacketKind.NON_IP);
  });
});

describe('RSTs built from PPPoE headers', () => {
  it('carry a PPPoE length that counts the PPP protocol and the RST datagram only', async () => {
    const records = await readRecords(fixture('pppoe-sender-340.pcap'));
    const pkt = new DecodedPacket();
    // A data packet: its PPPoE length counts its own payload, much longer than an RST's.
    const data = records.find((r) => decodePacket(r.linkType, r.data, pkt).payloadLength > 300)!;
    decodePacket(data.linkType, data.data, pkt);
    const rst = buildRst(captureTemplate(pkt, data.linkType), { srcPort: pkt.srcPort, dstPort: pkt.dstPort, seq: pkt.seq, ack: pkt.ack });
    const out = decodePacket(1, rst, new DecodedPacket());
    expect(out.kind).toBe(PacketKind.TCP);
    expect(rst.readUInt16BE(out.pppoeLengthOffset)).toBe(out.ipEnd - out.l3Offset + 2);
    expect(tcpChecksumOk(out)).toBe(true);
    // updateLinkLengths leaves a frame without PPPoE alone.
    const [plain] = await readRecords(fixture('qinq-88a8.pcap'));
    const copy = Buffer.from(plain!.data);
    updateLinkLengths(decodePacket(plain!.linkType, copy, pkt));
    expect(copy.equals(plain!.data)).toBe(true);
  });
});

describe.skipIf(!haveTool('tshark'))('tshark agrees the fixtures are valid TCP over these encapsulations', () => {
  it('every packet of every fixture is TCP with a good checksum for tshark', async () => {
    const files = [...VARIANTS, 'pppoe-sender-340.pcap'].map(fixture);
    const counts: string[] = [];
    for (const f of files) {
      const { stdout } = await run('tshark', ['-r', f, '-n', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-e', 'tcp.checksum.status'], {
        env: { ...process.env, LC_ALL: 'C', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' },
      });
      const rows = stdout.trim().split('\n');
      counts.push(`${path.basename(f)} ${rows.filter((s) => s === '1').length}/${rows.length}`);
    }
    const expected = files.map((f) => path.basename(f)).map((b) => (b === 'pppoe-sender-340.pcap' ? `${b} 21/21` : `${b} 46/46`));
    expect(counts).toEqual(expected);
  });
});
