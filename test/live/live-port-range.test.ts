/**
 * `live` with a policy that inspects a port range (`match port tcp range A B`), on a real SMTP
 * session over loopback: the default filter must stay within the kernel's 4096 classic BPF
 * instructions. Before, each of the range's 101 ports was its own `tcp port N` term (three times,
 * for the VLAN alternatives): 5,313 instructions, Linux refused the socket filter, libpcap printed
 * "Warning: Kernel filter failed: Invalid argument" and filtered in userland, i.e. copied every
 * packet on the device through the capture ring (drops on a busy NIC).
 * Needs root (or CAP_NET_RAW) and the cap binding: skipped with a printed reason otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtpClient, startSmtpServer, type RecordingServer } from '../proxy/smtp-harness.js';
import { CLI, liveSkipReason } from './live-prereqs.js';

let skipReason: string | null = null;
let tmp = '';
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'smtp-inspect-live-range-'));
  skipReason = await liveSkipReason();
  if (skipReason) console.warn(`[skip] live port-range tests: ${skipReason}`);
}, 120_000);

describe('live with a policy inspecting a port range', () => {
  let srv: RecordingServer | null = null;
  let child: ChildProcess | null = null;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await srv?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('captures through a kernel filter (one portrange term, no libpcap warning) and inspects the session on a port in the range', async (ctx) => {
    if (skipReason) return ctx.skip();
    srv = await startSmtpServer({ banner: 'ESMTP range 2020' });
    // 101 ports around the server's (random) port, inside 1..65535
    const lo = Math.max(1, Math.min(srv.port - 50, 65535 - 100));
    const hi = lo + 100;
    const policyFile = path.join(tmp, 'policy.txt');
    writeFileSync(
      policyFile,
      `class-map smtp-range\n match port tcp range ${lo} ${hi}\npolicy-map global_policy\n class smtp-range\n  inspect esmtp\n!\nservice-policy global_policy global\n`,
    );
    child = spawn(process.execPath, [CLI, 'live', '-i', 'lo', '--policy', policyFile, '--print', 'syslog'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child?.on('exit', (code) => r(code)));
    for (let i = 0; i < 200 && !stderr.includes('capturing on lo'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(stderr).toContain(`tcp portrange ${lo}-${hi} or `);

    const c = await RawSmtpClient.connect(srv.port);
    await c.reply();
    await c.cmd('EHLO client.example.org');
    await c.cmd('QUIT');
    c.destroy();
    for (let i = 0; i < 200 && !stdout.includes('302014'); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).not.toContain('Kernel filter failed');
    expect(stdout).toMatch(new RegExp(`%ASA-6-302013: Built inbound TCP connection 1 for outside:127\\.0\\.0\\.1/\\d+ \\S+ to inside:127\\.0\\.0\\.1/${srv.port} `));
    expect(stdout).toMatch(/%ASA-6-302014: Teardown TCP connection 1 .* TCP FINs/);
    expect(stderr).toMatch(/connections: 1 on inspected ports, 1 inspected/);
  }, 30_000);
});
