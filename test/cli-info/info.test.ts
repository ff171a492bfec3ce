/**
 * `info` checked against capinfos and tshark on every capture available (packet counts, data
 * size, link types, first/last time, TCP connections = tshark's tcp.stream count), and the built
 * CLI run as a child process: text, --json, stdin ('-'), gzip, and the exit code of a cut file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { collectInfo, formatInfo } from '../../src/cli/info.js';
import { EXTERNAL_PCAPS, GENERATED_DIR, REPO_ROOT, haveShared, haveTool } from '../helpers/shared.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'si-info-'));
const captures = haveShared
  ? [GENERATED_DIR, EXTERNAL_PCAPS].flatMap((d) => readdirSync(d).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => path.join(d, f)))
  : [];
const haveOracles = haveTool('capinfos') && haveTool('tshark');

/** capinfos' encapsulation names for the link types in the corpus. */
const ENCAP: Record<string, number> = { ether: 1, null: 0, 'linux-sll': 113, 'linux-sll2': 276, rawip: 101, rawip4: 228, rawip6: 229 };

/** "2026-11-28T08:24:20.376946272Z" -> "1795854260.376946272" (capinfos -S prints the file's precision). */
function isoToEpoch(iso: string): string {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(iso)!;
  const sec = Date.parse(m[1] + 'Z') / 1000;
  return m[2] ? `${sec}.${m[2]}` : String(sec);
}

const execFileAsync = promisify(execFile);
const ORACLE_ENV = { ...process.env, LC_ALL: 'C', TZ: 'UTC', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' };

describe.skipIf(!haveShared || !haveOracles)('info agrees with capinfos and tshark', () => {
  /** capinfos row per file (one run for all) and tshark's tcp.stream count per file (runs overlap: tshark mostly waits). */
  const capinfos = new Map<string, string[]>();
  const streams = new Map<string, number>();
  beforeAll(async () => {
    const out = execFileSync('capinfos', ['-T', '-r', '-M', '-c', '-d', '-a', '-e', '-S', '-E', ...captures], { encoding: 'utf8', env: ORACLE_ENV });
    for (const line of out.trim().split('\n')) {
      const cols = line.split('\t');
      capinfos.set(cols[0]!, cols);
    }
    const queue = [...captures];
    const worker = async (): Promise<void> => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
        const { stdout } = await execFileAsync('tshark', ['-n', '-r', f, '-T', 'fields', '-e', 'tcp.stream'], { env: ORACLE_ENV, maxBuffer: 64 << 20 });
        streams.set(f, new Set(stdout.split('\n').filter((s) => s !== '' && !s.includes(','))).size);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  });

  it.each(captures.map((f) => [path.basename(f), f]))('%s', async (_name, file) => {
    const info = await collectInfo(file);
    const [, encap, packets, dataSize, start, end] = capinfos.get(file)!;
    expect(info.packets).toBe(Number(packets));
    expect(info.bytes).toBe(Number(dataSize));
    expect(info.linkTypes).toEqual([ENCAP[encap!]]);
    expect(isoToEpoch(info.firstTime!)).toBe(start);
    expect(isoToEpoch(info.lastTime!)).toBe(end);
    expect(info.tcpConnections).toBe(streams.get(file));
  });
});

describe.skipIf(!haveShared)('info on known captures', () => {
  it('counts SMTP connections per port, 465 apart as implicit TLS', async () => {
    const smtps = await collectInfo(path.join(EXTERNAL_PCAPS, 'sv-tls-protodetect-465.pcap'));
    expect(smtps).toMatchObject({ smtpConnections: 1, implicitTlsConnections: 1, smtpConnectionsByPort: { '25': 0, '465': 1, '587': 0, '2525': 0 } });
    const alt = await collectInfo(path.join(GENERATED_DIR, '19-port2525-control.pcap'));
    expect(alt.smtpConnectionsByPort).toMatchObject({ '2525': 1 });
    const sub = await collectInfo(path.join(EXTERNAL_PCAPS, 'ndpi-emotet-587.pcap'));
    expect(sub.smtpConnectionsByPort['587']).toBeGreaterThan(0);
  });

  it('says which SMTP connections the ASA default policy inspects (TCP/25 only)', async () => {
    const smtps = await collectInfo(path.join(EXTERNAL_PCAPS, 'sv-tls-protodetect-465.pcap'));
    expect(smtps).toMatchObject({ defaultInspectedPorts: [25], smtpConnectionsInspectedByDefault: 0, smtpConnectionsNotInspectedByDefault: 1 });
    const plain = await collectInfo(path.join(GENERATED_DIR, '02-ehlo-basic.pcap'));
    expect(plain).toMatchObject({ smtpConnections: 1, smtpConnectionsInspectedByDefault: 1, smtpConnectionsNotInspectedByDefault: 0 });
    const alt = await collectInfo(path.join(GENERATED_DIR, '19-port2525-control.pcap'));
    expect(alt).toMatchObject({ smtpConnectionsInspectedByDefault: 0, smtpConnectionsNotInspectedByDefault: 1 });
    const text = formatInfo(smtps);
    expect(text).toMatch(/SMTP connections:\s+1 by server port: 25: 0, 587: 0, 2525: 0, 465: 1 \(SMTPS, implicit TLS\)\n/);
    expect(text).toMatch(/Default inspection:\s+0 of 1 inspected: the ASA default policy applies inspect esmtp to TCP\/25 only \(class inspection_default\)\n/);
    expect(text).toMatch(/\n\s+1 not inspected by default \(587: 0, 2525: 0, 465: 1\); inspecting 587 or 2525 needs a class that matches the port\n/);
    expect(text).toMatch(/465 is SMTPS \(implicit TLS\): encrypted from the first byte/);
    expect(text).not.toMatch(/not inspectable/);
    // no 465 connection: no SMTPS explanation line
    expect(formatInfo(alt)).not.toMatch(/465 is SMTPS/);
  });

  it('reports truncated records and nanosecond precision', async () => {
    const cut = await collectInfo(path.join(GENERATED_DIR, '16c-large-8mib-snaplen96.pcap'));
    expect(cut.truncatedRecords).toBe(172);
    expect(cut.capturedBytes).toBeLessThan(cut.bytes);
    const ns = await collectInfo(path.join(GENERATED_DIR, '18d-nanosecond.pcap'));
    expect(ns.firstTime).toBe('2026-11-28T08:24:22.090918999Z');
    expect(ns.timePrecisionDigits).toBe(9);
    const us = await collectInfo(path.join(GENERATED_DIR, '01-plain-helo.pcap'));
    expect(us.firstTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(us.packetsByKind).toEqual({ tcp: 21 });
  });
});

const MAIN = path.join(REPO_ROOT, 'dist/cli/main.js');

describe.skipIf(!haveShared)('the built CLI', () => {
  beforeAll(() => {
    // `npm ci` builds dist (prepare); rebuild only when a source is newer than the build.
    const built = existsSync(MAIN) ? statSync(MAIN).mtimeMs : 0;
    const newest = (dir: string): number =>
      readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs), 0);
    if (newest(path.join(REPO_ROOT, 'src')) > built) {
      // Other modules' type errors do not stop emit; this test needs only info's output.
      spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(REPO_ROOT, 'tsconfig.build.json')], { stdio: 'ignore' });
    }
  });
  const run = (args: string[], input?: Buffer) => spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });

  it('reads a capture from stdin with `info -` and prints the same JSON as for the file', () => {
    expect(existsSync(MAIN)).toBe(true);
    const file = path.join(GENERATED_DIR, '03-ehlo-pipelining.pcap');
    const viaFile = run(['info', '--json', file]);
    const viaStdin = run(['info', '--json', '-'], readFileSync(file));
    expect(viaStdin.status).toBe(0);
    const a = JSON.parse(viaFile.stdout);
    const b = JSON.parse(viaStdin.stdout);
    expect({ ...b, file: a.file }).toEqual(a);
    expect(b.file).toBe('-');
  });

  it('reads gzip from stdin and prints readable text', () => {
    const file = path.join(GENERATED_DIR, '18c-dumpcap-pcapng.pcapng');
    const r = run(['info', '-'], gzipSync(readFileSync(file)));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('pcapng (gzip-compressed)');
    expect(r.stdout).toMatch(/Packets:\s+21\n/);
    expect(r.stdout).toMatch(/SMTP connections:\s+1 by server port: 25: 1,/);
    expect(r.stdout).toMatch(/Default inspection:\s+1 of 1 inspected/);
  });

  it('a cut capture exits 2 with file, offset and code on one line', () => {
    const cut = path.join(tmp, 'cut.pcap');
    writeFileSync(cut, readFileSync(path.join(GENERATED_DIR, '02-ehlo-basic.pcap')).subarray(0, 24 + 16 + 5));
    const r = run(['info', cut]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^smtp-inspect: ${cut}: byte offset 24: input ends inside a pcap record .*\\[E_CAPTURE_TRUNCATED\\]\\n$`));
  });

  it('a missing file exits 2 with E_CAPTURE_OPEN', () => {
    const r = run(['info', path.join(tmp, 'nope.pcap')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[E_CAPTURE_OPEN]');
  });
});
