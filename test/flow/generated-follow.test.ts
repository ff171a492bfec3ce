/**
 * The generated captures (real Postfix/swaks sessions, ../shared/captures/generated) against tshark
 * follow, one connection each: bytes and gaps per direction. tshark runs overlap (2 at a time);
 * the two 8 MiB captures are covered by cut-captures.test.ts instead.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runFlows, type FlowRecord } from '../../src/flow/flows-report.js';
import { GENERATED_DIR, haveShared, haveTool } from '../helpers/shared.js';

const execFileAsync = promisify(execFile);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const ENV = { ...process.env, LC_ALL: 'C', TZ: 'UTC', HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent' };

const files =
  haveShared && existsSync(GENERATED_DIR) ? readdirSync(GENERATED_DIR).filter((f) => /\.pcap(ng)?$/.test(f) && !f.startsWith('16')).sort() : [];

/** tshark follow (raw) of stream 0: bytes per node, and the node names. */
async function follow(file: string): Promise<{ nodes: [string, string]; bytes: [Buffer, Buffer] }> {
  const { stdout } = await execFileAsync('tshark', ['-n', '-r', file, '-o', 'tcp.reassemble_out_of_order:TRUE', '-o', 'tcp.check_checksum:FALSE', '-q', '-z', 'follow,tcp,raw,0'], { env: ENV, maxBuffer: 64 << 20 });
  const nodes: [string, string] = ['', ''];
  const parts: [Buffer[], Buffer[]] = [[], []];
  for (const line of stdout.split('\n')) {
    const m = /^Node ([01]): (.*)$/.exec(line);
    if (m) nodes[Number(m[1]) as 0 | 1] = m[2]!;
    else if (/^\t?([0-9a-f]{2})+$/.test(line)) parts[line.startsWith('\t') ? 1 : 0].push(Buffer.from(line.trim(), 'hex'));
  }
  return { nodes, bytes: [Buffer.concat(parts[0]), Buffer.concat(parts[1])] };
}

describe.skipIf(files.length === 0 || !haveTool('tshark'))('generated captures: reassembly equals tshark follow', () => {
  it(`all ${files.length} captures`, async () => {
    const pending = new Map<string, Promise<{ nodes: [string, string]; bytes: [Buffer, Buffer] }>>();
    const queue = [...files];
    const next = () => {
      const f = queue.shift();
      if (f) pending.set(f, follow(path.join(GENERATED_DIR, f)));
    };
    next();
    next();
    for (const f of files) {
      const records: FlowRecord[] = [];
      await runFlows(path.join(GENERATED_DIR, f), { flow: { serverPorts: null }, onRecord: (r) => records.push(r) });
      const t = await pending.get(f)!;
      next();
      expect(records.length, f).toBe(1);
      const r = records[0]!;
      const clientNode = t.nodes[0] === r.client ? 0 : 1;
      expect(t.nodes[clientNode], f).toBe(r.client);
      expect(t.nodes[1 - clientNode], f).toBe(r.server);
      expect({ f, c2s: [r.c2s.bytes, r.c2s.sha256, r.c2s.gaps], s2c: [r.s2c.bytes, r.s2c.sha256, r.s2c.gaps] }).toEqual({
        f,
        c2s: [t.bytes[clientNode]!.length, sha(t.bytes[clientNode]!), 0],
        s2c: [t.bytes[1 - clientNode]!.length, sha(t.bytes[1 - clientNode]!), 0],
      });
    }
  }, 60_000);
});
