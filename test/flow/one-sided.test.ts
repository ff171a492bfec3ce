/**
 * One-sided captures (asymmetric routing, a tap on one direction): the server's packets are never
 * seen, but the client's ACKs say how many server bytes it received. Those bytes must become gap
 * events before the client's next data is delivered, so the engine knows it lost the replies
 * (a missed 354 would otherwise make the message body look like commands).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Recorder } from './recorder.js';
import { FlowTable, PacketFlowResult } from '../../src/flow/flow-table.js';
import { F, SyntheticConnection } from '../../src/flow/synthetic.js';
import { executeReplay } from '../../src/cli/replay.js';
import { EXTERNAL_PCAPS, haveShared } from '../helpers/shared.js';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

describe('one-sided capture: the silent side is placed by the ACKs', () => {
  for (const isn of [0, 1, 4294967295, 4294967285]) {
    it(`server bytes acknowledged but never seen are a gap before the client's next data (server ISN ${isn})`, () => {
      const rec = new Recorder();
      const table = new FlowTable(rec);
      const c = new SyntheticConnection('192.0.2.1', 50000, '192.0.2.25', 25);
      const r = new PacketFlowResult();
      const srv = (isn + 1) >>> 0;
      let n = 0;
      table.process(c.segment(0, 1000, '', { flags: F.SYN }), ++n, 1, 0, r);
      table.process(c.segment(0, 1001, '', { ack: srv }), ++n, 1, 0, r); // handshake ACK: server stream starts here
      table.process(c.segment(0, 1001, '', { ack: (srv + 30) >>> 0 }), ++n, 1, 0, r); // a bare ACK of the banner: no gap yet
      expect(rec.gaps(1, 1)).toEqual([]);
      table.process(c.segment(0, 1001, 'EHLO a\r\n', { ack: (srv + 30) >>> 0 }), ++n, 1, 0, r);
      table.process(c.segment(0, 1009, 'DATA\r\n', { ack: (srv + 80) >>> 0 }), ++n, 1, 0, r);
      expect(rec.gaps(1, 1)).toEqual([
        [0, 30],
        [30, 50],
      ]);
      // Causal order: the 30-byte gap (the banner) comes before the EHLO, the next before DATA.
      const kinds = rec.events.filter((e) => e.kind === 'gap' || e.kind === 'data').map((e) => (e.kind === 'gap' ? `gap${e.dir}` : `data${e.dir}`));
      expect(kinds).toEqual(['gap1', 'data0', 'gap1', 'data0']);
      table.finish(2, 0);
    });
  }

  it.skipIf(!haveShared)('zeek-attachment-msg-ipv6 (client side only): the message body is not judged as commands', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'one-sided-'));
    const verdicts = path.join(dir, 'v.jsonl');
    await executeReplay(path.join(EXTERNAL_PCAPS, 'zeek-attachment-msg-ipv6.pcap'), { output: path.join(dir, 'out.pcap'), verdicts, checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true });
    const records = readFileSync(verdicts, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rule: string; action: string; detail: string });
    expect(records.filter((v) => v.action === 'x-substitute')).toEqual([]);
    expect(records.some((v) => v.rule === 'gap' && /never captured/.test(v.detail))).toBe(true);
  });
});
