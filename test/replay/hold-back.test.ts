/**
 * The hold-back queue on a hand-made session: a command split over two segments waits for its
 * line to be judged (line-level judging), holds the packets behind it (OUT keeps input order),
 * and gets the X-ing in both segments; with a 1-packet bound the held packet is forwarded
 * undecided and a verdict says so. Checksums are built valid and stay valid.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openCapture } from '../../src/capture/open.js';
import { decodePacket } from '../../src/decode/decode.js';
import { tcpChecksumOk } from '../../src/decode/checksum.js';
import { DecodedPacket } from '../../src/decode/packet.js';
import { buildFrame, pcapFile, V4_CLIENT, V4_SERVER } from '../rewrite/build-packet.js';
import { readVerdicts, replayToTemp } from './helpers.js';

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x18;

function session(): Buffer[] {
  let cs = 1000;
  let ss = 5000;
  const c = (flags: number, text = '', port = 40000) => {
    const f = buildFrame({ ipVersion: 4, src: V4_CLIENT, dst: V4_SERVER, srcPort: port, dstPort: 25, seq: cs, ack: ss, flags, payload: Buffer.from(text) });
    cs += text.length + (flags & SYN ? 1 : 0);
    return f;
  };
  const s = (flags: number, text = '') => {
    const f = buildFrame({ ipVersion: 4, src: V4_SERVER, dst: V4_CLIENT, srcPort: 25, dstPort: 40000, seq: ss, ack: cs, flags, payload: Buffer.from(text) });
    ss += text.length + (flags & SYN ? 1 : 0);
    return f;
  };
  const frames: Buffer[] = [];
  frames.push(c(SYN));
  frames.push(s(SYN | ACK));
  frames.push(c(ACK));
  frames.push(s(PSH, '220 mx.example.test ESMTP\r\n'));
  frames.push(c(PSH, 'HELO a.example\r\n'));
  frames.push(s(PSH, '250 mx.example.test\r\n'));
  frames.push(c(PSH, 'XEXC')); // 7: first half of an unknown command
  frames.push(s(ACK)); // 8: a packet behind it in the input
  frames.push(c(PSH, 'H50 1\r\n')); // 9: the line ends
  frames.push(s(PSH, '500 5.5.2 Error\r\n'));
  frames.push(c(PSH, 'QUIT\r\n'));
  return frames;
}

function writeCapture(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hold-'));
  const file = path.join(dir, 'split.pcap');
  writeFileSync(file, pcapFile(session()));
  return file;
}

async function payloads(file: string): Promise<string[]> {
  const src = await openCapture(file);
  const out: string[] = [];
  await src.run((r) => {
    const p = decodePacket(r.linkType, r.data, new DecodedPacket());
    expect(tcpChecksumOk(p)).toBe(true);
    out.push(r.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength).toString('latin1'));
  });
  return out;
}

describe('hold-back queue', () => {
  it('line judging: the first half waits for its line, holds what follows, both halves X-ed, order kept', async () => {
    const file = writeCapture();
    const r = await replayToTemp(file, { set: ['judging=line'] });
    expect(r.summary.packets.maxHeld).toBeGreaterThanOrEqual(2);
    expect(r.summary.packets.forcedForward).toBe(0);
    const p = await payloads(r.out);
    expect(p.length).toBe(11);
    expect(p[6]).toBe('XXXX');
    expect(p[7]).toBe('');
    expect(p[8]).toMatch(/^X{5}/);
    expect(p[8]!.endsWith('\r\n')).toBe(true);
    expect(p[10]).toBe('QUIT\r\n');
  });

  it('a bound of one held packet forwards the oldest undecided, with a forward verdict', async () => {
    const file = writeCapture();
    const r = await replayToTemp(file, { set: ['judging=line'], maxHeld: '1' });
    expect(r.summary.packets.forcedForward).toBeGreaterThanOrEqual(1);
    const v = readVerdicts(r.verdicts).filter((x) => x.action === 'forward');
    expect(v.length).toBe(r.summary.packets.forcedForward);
    expect(v[0]!.packet).toBe(7);
    expect(r.summary.packets.in).toBe(r.summary.packets.forwarded + r.summary.packets.dropped);
  });
});
