/** `smtp-inspect flows` end to end through the built CLI: output formats, port selection, --dump, errors. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tcpflowName } from '../../src/flow/flows-report.js';
import { EXTERNAL_PCAPS, EXTERNAL_TRUTH, REPO_ROOT, haveShared } from '../helpers/shared.js';

const MAIN = path.join(REPO_ROOT, 'dist/cli/main.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'flows-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pcap = (name: string) => {
  const f = existsSync(EXTERNAL_PCAPS) ? readdirSync(EXTERNAL_PCAPS).find((x) => x.startsWith(name + '.pcap')) : undefined;
  return f ? path.join(EXTERNAL_PCAPS, f) : path.join(EXTERNAL_PCAPS, name + '.pcap');
};
const run = (args: string[]) => spawnSync(process.execPath, [MAIN, 'flows', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('tcpflow file names', () => {
  it('zero-pads IPv4 fields and spells IPv6 groups in full', () => {
    expect(tcpflowName('10.0.0.1', 25, '192.168.1.100', 40000)).toBe('010.000.000.001.00025-192.168.001.100.40000');
    expect(tcpflowName('2001:db8::1', 587, '::1', 5)).toBe('2001:0db8:0000:0000:0000:0000:0000:0001.00587-0000:0000:0000:0000:0000:0000:0000:0001.00005');
  });
});

describe.skipIf(!haveShared || !existsSync(pcap('sv-bug-5989')))('the flows command', () => {
  beforeAll(() => {
    // Rebuild only when a source is newer than the build (other modules' type errors do not stop emit).
    const built = existsSync(MAIN) ? statSync(MAIN).mtimeMs : 0;
    const newest = (dir: string): number =>
      readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs), 0);
    if (newest(path.join(REPO_ROOT, 'src')) > built) {
      spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(REPO_ROOT, 'tsconfig.build.json')], { stdio: 'ignore' });
    }
  });

  it('--json: one object per line, fixed key order, IPv6 as [addr]:port', () => {
    const r = run(['--json', pcap('zeek-attachment-msg-ipv6')]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const o = JSON.parse(lines[0]!);
    expect(Object.keys(o)).toEqual(['id', 'client', 'server', 'clientBy', 'packets', 'firstTime', 'lastTime', 'close', 'c2s', 's2c']);
    expect(Object.keys(o.c2s)).toEqual(['bytes', 'sha256', 'gaps', 'gapBytes', 'retransmittedBytes', 'overlapDifferentBytes', 'outOfOrderPackets']);
    expect(o.client).toBe('[::1]:56660');
    expect(o.server).toBe('[::1]:25');
    expect(o.firstTime).toBe('2021-01-13T17:12:05.999672Z');
  });

  it('text output reports overlap-different-data and the close reason', () => {
    const r = run([pcap('sv-bug-5989')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('#1 192.168.1.4:3326 -> 217.12.11.66:587 (client by syn)');
    expect(r.stdout).toContain('closed: rst');
    expect(r.stdout).toContain('overlap-different-data 3008 B');
    expect(r.stdout).toMatch(/^1 connection \(rst 1\); 47 packets/m);
  });

  it('port selection: default SMTP ports, --ports LIST, --all-ports', () => {
    const f = pcap('sv-tls-protodetect-465');
    const count = (args: string[]) => run(['--json', ...args, f]).stdout.trim().split('\n').filter(Boolean).length;
    expect(count([])).toBe(0);
    expect(count(['--ports', '465'])).toBe(1);
    expect(count(['--all-ports'])).toBeGreaterThanOrEqual(1);
  });

  it('--dump writes each direction as tcpflow names it, equal to tshark follow', () => {
    const dir = path.join(tmp, 'dump');
    const r = run(['--dump', dir, pcap('zeek-smtp')]);
    expect(r.status).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toContain('010.010.001.004.01470-074.053.140.153.00025');
    expect(files).toContain('074.053.140.153.00025-010.010.001.004.01470');
    const c2s = readFileSync(path.join(dir, '010.010.001.004.01470-074.053.140.153.00025'));
    const s2c = readFileSync(path.join(dir, '074.053.140.153.00025-010.010.001.004.01470'));
    expect(c2s.equals(readFileSync(path.join(EXTERNAL_TRUTH, 'zeek-smtp', 'stream0.c2s.bin')))).toBe(true);
    expect(sha(s2c)).toBe('98461ef726d83f1d20df85088e5d006f984c0352494a1b750364742225953ae3');
  });

  it('usage and input errors exit 2 with one line', () => {
    const bad = run(['--ports', '25,http', pcap('zeek-smtp')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("not a port number: 'http'");
    const both = run(['--ports', '25', '--all-ports', pcap('zeek-smtp')]);
    expect(both.status).toBe(2);
    const missing = run([path.join(tmp, 'nope.pcap')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a truncated capture: the connections before the fault are listed, then the error (exit 2)', () => {
    const whole = readFileSync(pcap('zeek-smtp'));
    const cut = path.join(tmp, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6) + 3));
    const r = run(['--json', cut]);
    expect(r.status).toBe(2);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(1);
    expect(r.stderr).toMatch(/byte offset \d+/);
  });
});
