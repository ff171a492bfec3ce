/**
 * A capture of the server's side only (a SPAN of one direction, asymmetric routing): the client's
 * commands are never seen, but the ASA in the path saw them, so the server's bytes must come out as
 * the ASA sends them — banner masked and, in the multi-line 250 that answered the lost EHLO, the
 * EHLO keywords masked. Before, the reply paired with no command and STARTTLS passed unmasked.
 * tshark judges: the server stream of OUT equals the server stream of OUT for the whole capture.
 */
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, haveShared, haveTool, tshark } from '../helpers/shared.js';
import { follow, readVerdicts, replayToTemp } from './helpers.js';

describe.skipIf(!haveShared || !haveTool('tshark'))('a capture of the server side only', () => {
  it.each(['02-ehlo-basic.pcap', '03-ehlo-pipelining.pcap', '04-starttls.pcap', '17-ipv6-loopback.pcap'])('%s: the server stream is what the ASA sends', async (name) => {
    const full = path.join(GENERATED_DIR, name);
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'one-dir-'));
    const serverOnly = path.join(dir, `s2c-${name}`);
    tshark(['-r', full, '-Y', 'tcp.srcport==25', '-w', serverOnly]);
    const whole = await replayToTemp(full);
    const half = await replayToTemp(serverOnly);
    const want = (await follow(whole.out)).node1;
    const got = (await follow(half.out)).node0;
    expect(got.toString('latin1')).toContain('XXXXXXXA');
    expect(got.toString('latin1')).toBe(want.toString('latin1'));
    const masks = (f: string) => readVerdicts(f).filter((v) => v.direction === 's2c' && v.action === 'mask').map((v) => v.detail);
    expect(masks(half.verdicts)).toEqual(masks(whole.verdicts));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
