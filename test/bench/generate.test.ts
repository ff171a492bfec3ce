/**
 * The bench capture generator: deterministic, readable by tshark with every IPv4 and TCP checksum
 * valid, and real SMTP dialogues (tshark's SMTP dissector sees the commands we claim to have made).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateBulkCapture, type GenerateStats } from '../../src/bench/generate.js';
import { readRecords } from '../decode/pcap-records.js';
import { decodePacket } from '../../src/decode/decode.js';
import { DecodedPacket, PacketKind } from '../../src/decode/packet.js';
import { tcpChecksumOk, ipv4HeaderChecksumOk } from '../../src/decode/checksum.js';
import { haveTool, tshark } from '../helpers/shared.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gen-'));
const a = path.join(dir, 'a.pcap');
const b = path.join(dir, 'b.pcap');
const c = path.join(dir, 'c.pcap');
const sha = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
let stats: GenerateStats;

beforeAll(() => {
  // Seed 7 at 6 MB includes sessions with an unknown command (checked below).
  stats = generateBulkCapture(a, { size: 6_000_000, seed: 7, concurrency: 50 });
  generateBulkCapture(b, { size: 6_000_000, seed: 7, concurrency: 50 });
  generateBulkCapture(c, { size: 6_000_000, seed: 8, concurrency: 50 });
});

describe('bench capture generator', () => {
  it('is deterministic: same seed, same bytes; another seed, other bytes', () => {
    expect(sha(a)).toBe(sha(b));
    expect(sha(a)).not.toBe(sha(c));
    expect(fs.statSync(a).size).toBe(stats.bytes);
    expect(stats.bytes).toBeGreaterThanOrEqual(6_000_000);
  });

  it('every packet decodes as TCP with valid IPv4 and TCP checksums', async () => {
    const recs = await readRecords(a);
    expect(recs.length).toBe(stats.packets);
    const p = new DecodedPacket();
    for (const r of recs) {
      decodePacket(r.linkType, r.data, p);
      expect(p.kind).toBe(PacketKind.TCP);
      expect(tcpChecksumOk(p)).toBe(true);
      expect(ipv4HeaderChecksumOk(p)).toBe(true);
    }
  });

  it.skipIf(!haveTool('tshark'))('tshark agrees: checksums good, SMTP commands and STARTTLS/CHUNKING offered', () => {
    const status = tshark(['-r', a, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-e', 'tcp.checksum.status', '-e', 'ip.checksum.status']);
    const lines = status.trim().split('\n');
    expect(lines.length).toBe(stats.packets);
    expect(lines.every((l) => l === '1\t1')).toBe(true);
    const cmds = tshark(['-r', a, '-Y', 'smtp.req', '-T', 'fields', '-e', 'smtp.req.command']).trim().split('\n').join(',').split(',');
    const count = (v: string): number => cmds.filter((x) => x === v).length;
    expect(count('EHLO')).toBe(stats.sessions);
    expect(count('QUIT')).toBe(stats.sessions);
    expect(count('XFOO')).toBe(stats.unknownCommandSessions);
    expect(count('XFOO')).toBeGreaterThan(0);
    expect(count('RCPT')).toBeGreaterThan(count('MAIL'));
    const params = tshark(['-r', a, '-Y', 'smtp.rsp', '-T', 'fields', '-e', 'smtp.rsp.parameter']);
    expect(params).toContain('STARTTLS');
    expect(params).toContain('CHUNKING');
  });
});
