/**
 * tshark "follow TCP stream" (raw) as an oracle, parsed the way the truth README describes:
 * Node 1's hex lines start with a TAB; a chunk reading `[N bytes missing in capture file]` is a gap.
 */
import { tshark } from '../helpers/shared.js';

export interface FollowResult {
  node0: string;
  node1: string;
  /** Bytes sent by each node (gaps left out) and the gaps as [offset in those bytes, length]. */
  bytes: [Buffer, Buffer];
  gaps: [[number, number][], [number, number][]];
}

const GAP = /^\[(\d+) bytes missing in capture file\]\0?$/;

export function tsharkFollow(file: string, stream: number): FollowResult {
  const text = tshark(['-n', '-r', file, '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tcp.reassemble_out_of_order:TRUE', '-o', 'tcp.check_checksum:FALSE', '-q', '-z', `follow,tcp,raw,${stream}`]);
  const res: FollowResult = { node0: '', node1: '', bytes: [Buffer.alloc(0), Buffer.alloc(0)], gaps: [[], []] };
  const parts: [Buffer[], Buffer[]] = [[], []];
  const lens = [0, 0];
  for (const line of text.split('\n')) {
    const m = /^Node ([01]): (.*)$/.exec(line);
    if (m) {
      if (m[1] === '0') res.node0 = m[2]!;
      else res.node1 = m[2]!;
      continue;
    }
    const node = line.startsWith('\t') ? 1 : 0;
    const hex = line.trim();
    if (!/^([0-9a-f]{2})+$/.test(hex)) continue;
    const chunk = Buffer.from(hex, 'hex');
    const g = GAP.exec(chunk.toString('latin1'));
    if (g) {
      res.gaps[node].push([lens[node]!, Number(g[1])]);
      continue;
    }
    parts[node].push(chunk);
    lens[node]! += chunk.length;
  }
  res.bytes = [Buffer.concat(parts[0]), Buffer.concat(parts[1])];
  return res;
}
