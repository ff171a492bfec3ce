/**
 * The 302014 record's detail names the teardown reason as its syslog line prints it, also with
 * reset-reason-spacing=spaced ('TCP Reset - O', the guide's table). Before, the detail always said
 * 'TCP Reset-O' while the line beside it said 'TCP Reset - O'. Real capture: 12-unknown-commands
 * ends with the client's RST.
 */
import path from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { executeReplay } from '../../src/cli/replay.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';

interface Verdict {
  rule: string;
  syslog: string | null;
  detail: string;
}

describe.skipIf(!haveShared)('302014 detail and line agree on the reset reason spelling', () => {
  it.each([
    ['compact', 'TCP Reset-O'],
    ['spaced', 'TCP Reset - O'],
  ])('reset-reason-spacing=%s', async (spacing, text) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'teardown-spacing-'));
    const verdicts = path.join(dir, 'v.jsonl');
    await executeReplay(path.join(GENERATED_DIR, '12-unknown-commands.pcap'), { verdicts, checksum: 'incremental', set: [`reset-reason-spacing=${spacing}`], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true });
    const rs = readFileSync(verdicts, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Verdict);
    const td = rs.find((r) => r.syslog?.includes('302014'));
    expect(td?.syslog).toMatch(new RegExp(`${text.replace(/ /g, ' ')}$`));
    expect(td?.detail).toBe(`teardown: ${text}`);
  });
});
