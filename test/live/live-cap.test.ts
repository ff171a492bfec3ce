/** The cap wrapper's pure parts: link-type mapping, the default BPF filter, original length behind the snaplen. */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { haveTool, REPO_ROOT } from '../helpers/shared.js';
import { CAP_SNAPLEN, defaultFilter, deviceMtu, linkTypeFromCap, MAX_PORT_TERMS, portTerms } from '../../src/capture/live-cap.js';
import { originalLength } from '../../src/capture/live-source.js';
import { parseHostPort } from '../../src/cli/proxy.js';

describe('live capture helpers', () => {
  it('maps cap link-type names and "Unknown linktype N" to LINKTYPE numbers', () => {
    expect(linkTypeFromCap('ETHERNET')).toBe(1);
    expect(linkTypeFromCap('LINKTYPE_LINUX_SLL')).toBe(113);
    expect(linkTypeFromCap('RAW')).toBe(101);
    expect(linkTypeFromCap('NULL')).toBe(0);
    expect(linkTypeFromCap('Unknown linktype 276')).toBe(276);
    expect(linkTypeFromCap('Unknown linktype 12')).toBe(101);
    expect(linkTypeFromCap('something else')).toBeNull();
  });

  it('builds the default BPF filter from the policy ports', () => {
    const frags = '(ip[6:2] & 0x1fff != 0 and ip[9] == 6) or (ip6 and ip6[6] == 44)';
    const tagged = (b: string) => `${b} or (vlan and (${b} or (vlan and (${b}))))`;
    expect(defaultFilter([25])).toBe(tagged(`tcp port 25 or ${frags}`));
    expect(defaultFilter([2525, 25, 25])).toBe(tagged(`tcp port 25 or tcp port 2525 or ${frags}`));
    expect(defaultFilter(null)).toBe(tagged(`tcp or ${frags}`));
  });

  it('recovers the wire length of a record cut at the 65535-byte snaplen from the IPv4 header', () => {
    const rec = Buffer.alloc(65535);
    rec.writeUInt16BE(0x0800, 12);
    rec[14] = 0x45;
    rec.writeUInt16BE(65535, 16); // IP total length: 14 + 65535 bytes on the wire
    expect(originalLength(rec, 65535, 1)).toBe(14 + 65535);
    expect(originalLength(rec.subarray(0, 100), 100, 1)).toBe(100);
  });

  it('parses --listen/--upstream addresses', () => {
    expect(parseHostPort('127.0.0.1:2525', '--listen', '0.0.0.0')).toEqual({ host: '127.0.0.1', port: 2525 });
    expect(parseHostPort('[::1]:25', '--listen', '0.0.0.0')).toEqual({ host: '::1', port: 25 });
    expect(parseHostPort(':25', '--listen', '0.0.0.0')).toEqual({ host: '0.0.0.0', port: 25 });
    expect(() => parseHostPort('mail.example.net', '--upstream', '')).toThrow(/HOST:PORT/);
  });

  it.skipIf(!existsSync('/sys/class/net/lo/mtu'))('reads a device MTU from sysfs (loopback exceeds the binding snaplen, so live warns)', () => {
    const lo = deviceMtu('lo');
    expect(lo).toBe(Number(readFileSync('/sys/class/net/lo/mtu', 'utf8').trim()));
    expect(lo! + 14).toBeGreaterThan(CAP_SNAPLEN);
    expect(deviceMtu('no-such-device0')).toBeNull();
    expect(deviceMtu('../../etc/passwd')).toBeNull();
  });
});

describe.skipIf(!haveTool('tcpdump'))('the default filter takes IP fragments of TCP (libpcap compiles it)', () => {
  // With `tcp port 25` alone, 46 of 101 (IPv4) and 18 of 29 (IPv6) packets were kept: no fragment
  // set could complete, so fragmented SMTP went uninspected live.
  it.each(['frag-v4-12-unknown-commands.pcap', 'frag-v6-17-ipv6-loopback.pcap'])('%s: every packet passes', (name) => {
    const file = path.join(REPO_ROOT, 'test', 'pipeline', 'fixtures', name);
    const kept = execFileSync('tcpdump', ['-nr', file, defaultFilter([25])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').length;
    const all = execFileSync('tcpdump', ['-nr', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').length;
    expect(kept).toBe(all);
  });

  // On a trunk or SPAN port every frame carries a tag; before, the default filter kept none of them.
  it.each([
    ['one 802.1Q tag', [0x8100]],
    ['802.1ad QinQ (two tags)', [0x88a8, 0x8100]],
  ])('tagged frames (%s) pass, and untagged non-SMTP traffic still does not', (_name, tpids) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vlan-filter-'));
    try {
      for (const name of ['frag-v4-12-unknown-commands.pcap', 'frag-v6-17-ipv6-loopback.pcap']) {
        const file = path.join(dir, name);
        writeFileSync(file, withVlanTags(readFileSync(path.join(REPO_ROOT, 'test', 'pipeline', 'fixtures', name)), tpids));
        const all = execFileSync('tcpdump', ['-nr', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').length;
        expect(all).toBeGreaterThan(20);
        const kept = execFileSync('tcpdump', ['-nr', file, defaultFilter([25])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').length;
        expect(kept).toBe(all);
        // The filter is not "everything": another port's traffic behind the same tags is left out.
        const other = execFileSync('tcpdump', ['-nr', file, defaultFilter([2525])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        const keptOther = other === '' ? 0 : other.split('\n').length;
        expect(keptOther).toBeLessThan(all);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the default filter stays within the kernel\'s 4096 BPF instructions', () => {
  it('writes a run of consecutive ports as one portrange, and more than MAX_PORT_TERMS terms as all TCP', () => {
    expect(portTerms([25, 2500, 2501, 2502, 587, 465, 466, 25])).toEqual(['tcp port 25', 'tcp portrange 465-466', 'tcp port 587', 'tcp portrange 2500-2502']);
    const frags = '(ip[6:2] & 0x1fff != 0 and ip[9] == 6) or (ip6 and ip6[6] == 44)';
    const range = Array.from({ length: 101 }, (_, i) => 2500 + i);
    expect(defaultFilter(range).startsWith(`tcp portrange 2500-2600 or ${frags} or (vlan and (`)).toBe(true);
    const spread = (n: number) => Array.from({ length: n }, (_, i) => 3000 + 3 * i);
    expect(defaultFilter(spread(MAX_PORT_TERMS)).startsWith('tcp port 3000 or tcp port 3003 or ')).toBe(true);
    expect(defaultFilter(spread(MAX_PORT_TERMS + 1)).startsWith(`tcp or ${frags} or (vlan and (`)).toBe(true);
  });

  // Before, each port was its own term: `match port tcp range 2500 2600` compiled to 5,313
  // instructions, Linux refused it and libpcap filtered in userland (every packet on the device
  // through the ring) after printing "Warning: Kernel filter failed: Invalid argument".
  it.skipIf(!haveTool('tcpdump'))('compiles (libpcap, optimised) to at most 4096 instructions for a range, the most terms allowed, and beyond', () => {
    const file = path.join(REPO_ROOT, 'test', 'pipeline', 'fixtures', 'frag-v4-12-unknown-commands.pcap');
    const insns = (f: string) => execFileSync('tcpdump', ['-d', '-r', file, f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').length;
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => [4000 + 3 * i, 4001 + 3 * i]).flat();
    for (const ports of [Array.from({ length: 101 }, (_, i) => 2500 + i), pairs(MAX_PORT_TERMS), pairs(MAX_PORT_TERMS + 1), Array.from({ length: 4096 }, (_, i) => 1 + 2 * i)]) {
      const n = insns(defaultFilter(ports));
      expect(n).toBeGreaterThan(50);
      expect(n).toBeLessThanOrEqual(4096);
    }
  });
});

/** A little-endian classic pcap of Ethernet frames with 802.1Q/802.1ad tags inserted after the MACs (outermost first). */
function withVlanTags(pcap: Buffer, tpids: number[]): Buffer {
  const parts: Buffer[] = [pcap.subarray(0, 24)];
  for (let off = 24; off + 16 <= pcap.length; ) {
    const incl = pcap.readUInt32LE(off + 8);
    const hdr = Buffer.from(pcap.subarray(off, off + 16));
    const frame = pcap.subarray(off + 16, off + 16 + incl);
    const tags = Buffer.alloc(4 * tpids.length);
    tpids.forEach((tpid, i) => {
      tags.writeUInt16BE(tpid, 4 * i);
      tags.writeUInt16BE(100 + i, 4 * i + 2); // VLAN ids 100, 101
    });
    hdr.writeUInt32LE(incl + tags.length, 8);
    hdr.writeUInt32LE(hdr.readUInt32LE(12) + tags.length, 12);
    parts.push(hdr, frame.subarray(0, 12), tags, frame.subarray(12));
    off += 16 + incl;
  }
  return Buffer.concat(parts);
}
