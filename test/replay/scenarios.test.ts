/**
 * The generated scenarios (real Postfix/swaks sessions) replayed with the default policy: the
 * bytes on the wire in OUT, as tshark reassembles them, are what the ASA would forward per
 * MANIFEST.tsv, and the verdicts say which rule cut which session at which packet.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';
import { follow, frameComments, readVerdicts, replayToTemp } from './helpers.js';

const ok = haveShared && haveTool('tshark');
const cap = (name: string) => path.join(GENERATED_DIR, name);

function count(hay: Buffer, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

function firstLine(b: Buffer): string {
  const i = b.indexOf('\r\n');
  return b.subarray(0, i < 0 ? b.length : i).toString('latin1');
}

describe.skipIf(!ok)('generated scenarios: what the ASA forwards', { concurrent: true }, () => {
  const masked = ['02-ehlo-basic.pcap', '03-ehlo-pipelining.pcap', '05a-auth-plain.pcap', '05b-auth-login.pcap', '17-ipv6-loopback.pcap', '18a-any-linux-sll2.pcap', '18c-dumpcap-pcapng.pcapng', '18d-nanosecond.pcap'];
  it.each(masked)('%s: banner masked, STARTTLS offered as XXXXXXXA, client bytes untouched, nothing dropped', async (name) => {
    const r = await replayToTemp(cap(name));
    const [inp, out] = await Promise.all([follow(cap(name)), follow(r.out)]);
    expect(firstLine(inp.node1)).toMatch(/[A-Za-z]/);
    expect(firstLine(out.node1)).toMatch(/^220[ *]/);
    expect(firstLine(out.node1)).not.toMatch(/[A-Za-z]/);
    expect(out.node1.length).toBe(inp.node1.length);
    expect(count(inp.node1, 'STARTTLS')).toBeGreaterThan(0);
    expect(count(out.node1, 'STARTTLS')).toBe(0);
    expect(count(out.node1, 'XXXXXXXA')).toBe(count(inp.node1, 'STARTTLS'));
    expect(out.node0.equals(inp.node0)).toBe(true);
    expect(readVerdicts(r.verdicts).filter((v) => v.action === 'drop')).toEqual([]);
  });

  it('12-unknown-commands: unknown verbs X-ed with their length kept, NOOP passes', async () => {
    const r = await replayToTemp(cap('12-unknown-commands.pcap'));
    const [inp, out] = await Promise.all([follow(cap('12-unknown-commands.pcap')), follow(r.out)]);
    expect(out.node0.length).toBe(inp.node0.length);
    const lines = out.node0.toString('latin1').split('\r\n');
    const inLines = inp.node0.toString('latin1').split('\r\n');
    expect(lines.length).toBe(inLines.length);
    let xd = 0;
    inLines.forEach((l, i) => {
      const verb = l.split(' ')[0]!.toUpperCase();
      if (['XEXCH50', 'VERB', 'ONEX', 'ATRN', 'TURN', 'XUSR', 'XAUTH', 'WIZ', 'DEBUG', 'X-UNKNOWN-VERB', 'XCLIENT', 'XFORWARD'].includes(verb)) {
        // The command is overwritten with X, its length (and the CR LF) kept.
        expect(lines[i]).toMatch(/^X+/);
        expect(lines[i]!.length).toBe(l.length);
        expect(lines[i]!.toUpperCase().startsWith(verb)).toBe(false);
        xd++;
      }
      if (verb === 'NOOP') expect(lines[i]).toBe(l);
    });
    expect(xd).toBe(12);
    const xs = readVerdicts(r.verdicts).filter((v) => v.action === 'x-substitute');
    expect(xs.length).toBeGreaterThanOrEqual(12);
  });

  const cuts: [string, string, (c2s: Buffer) => void][] = [
    ['07a-rcpt-120.pcap', 'match cmd RCPT count gt 100', (c) => expect(count(c, 'RCPT TO')).toBe(100)],
    ['07c-rcpt-101.pcap', 'match cmd RCPT count gt 100', (c) => expect(count(c, 'RCPT TO')).toBe(100)],
    ['08a-header-line-1500.pcap', 'match header line length gt 998', (c) => expect(count(c, 'X-Long-Header')).toBe(0)],
    ['10a-sender-340.pcap', 'match sender-address length gt 320', (c) => expect(count(c, 'MAIL FROM')).toBe(0)],
    ['11a-mime-filename-300.pcap', 'match MIME filename length gt 255', (c) => expect(c.toString('latin1')).not.toMatch(/filename="[^"]{256,}"/)],
    ['13a-cmdline-ehlo-600.pcap', 'match cmd line length gt 512', (c) => expect(count(c, 'EHLO')).toBe(0)],
  ];
  it.each(cuts)('%s: session cut at the offending packet by %s', async (name, rule, check) => {
    const r = await replayToTemp(cap(name));
    const [inp, out] = await Promise.all([follow(cap(name)), follow(r.out)]);
    check(out.node0);
    // Everything before the cut went through: OUT's client stream is a prefix of the input's.
    expect(inp.node0.subarray(0, out.node0.length).equals(out.node0)).toBe(true);
    const v = readVerdicts(r.verdicts);
    const trigger = v.find((x) => x.action === 'drop-connection');
    expect(trigger?.rule).toBe(rule);
    expect(trigger?.syslog).toContain('%ASA-4-108004: ESMTP Classification: Dropped connection for ESMTP Request from outside:');
    const drops = v.filter((x) => x.action === 'drop');
    expect(drops[0]?.packet).toBe(trigger?.packet);
    // Every packet of the connection from the trigger on is dropped.
    expect(drops.map((d) => d.packet)).toEqual(drops.map((_, i) => (trigger?.packet ?? 0) + i));
    expect(r.summary.packets.in).toBe(trigger!.packet - 1 + drops.length);
    expect(v.some((x) => x.syslog?.includes('Flow closed by inspection'))).toBe(true);
  });

  const boundaries = ['07b-rcpt-100.pcap', '08b-header-line-998.pcap', '09b-body-line-998.pcap', '10b-sender-320.pcap', '11b-mime-filename-255.pcap', '13b-cmdline-ehlo-510.pcap'];
  it.each(boundaries)('%s: boundary value passes: client bytes identical, nothing dropped', async (name) => {
    const r = await replayToTemp(cap(name));
    const [inp, out] = await Promise.all([follow(cap(name)), follow(r.out)]);
    expect(out.node0.equals(inp.node0)).toBe(true);
    expect(firstLine(out.node1)).not.toMatch(/[A-Za-z]/);
    expect(readVerdicts(r.verdicts).filter((v) => v.action === 'drop' || v.action === 'drop-connection')).toEqual([]);
  });

  it('07c-rcpt-101 --annotate: tshark shows the masking, the X-ing and the drops as frame comments', async () => {
    const r = await replayToTemp(cap('07c-rcpt-101.pcap'));
    const c = await frameComments(r.annotate);
    const all = [...c.values()];
    expect(all.some((x) => x.includes('mask-banner: masked'))).toBe(true);
    expect(all.some((x) => x.includes('XXXXXXXA'))).toBe(true);
    const trigger = readVerdicts(r.verdicts).find((x) => x.action === 'drop-connection')!;
    expect(c.get(trigger.packet)).toContain('dropped: connection dropped by match cmd RCPT count gt 100');
    expect(c.get(r.summary.packets.in)).toContain('dropped');
  });
});
