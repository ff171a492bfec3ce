/**
 * A `show running-config` copied from a terminal that hard-wraps long lines: an access-list entry
 * with object-groups is often longer than 80 columns, and its tail (`eq smtp`, `6 interval 300`)
 * lands on a line of its own. Read alone, the entry lost its port (permit or deny ALL TCP) and the
 * tail was ignored as an unknown command, with exit 0 and no word to the admin.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicyText } from '../../src/policy/load.js';
import type { FlowTuple } from '../../src/policy/types.js';
import { GENERATED_DIR, REPO_ROOT, haveShared } from '../helpers/shared.js';
import { replayToTemp } from '../replay/helpers.js';

const FIXTURE = path.join(REPO_ROOT, 'test/policy/fixtures/wrapped-acl-running-config.txt');
const flow = (serverPort: number): FlowTuple => ({ ipVersion: 4, clientIp: '198.51.100.7', clientPort: 40000, serverIp: '10.10.5.20', serverPort, ingressInterface: 'outside' });

describe('access-list lines wrapped where they were copied', () => {
  const p = compilePolicyText(readFileSync(FIXTURE, 'utf8'), 'wrapped.txt');

  it('joins the tail to its entry and says so, naming both lines', () => {
    const out = p.normalized();
    expect(out).toContain('access-list ESMTP_INSPECT extended deny tcp object-group ESA-CLUSTER any eq smtp\n');
    expect(out).toContain('access-list ESMTP_INSPECT extended permit tcp any4 any4 eq smtp\n');
    const w = p.warnings.filter((x) => x.level === 'warning').map((x) => `${x.line}: ${x.message}`);
    expect(w).toEqual([
      expect.stringMatching(/^74: line 75 "6 interval 300" is read as the end of this access-list line/),
      expect.stringMatching(/^76: line 77 "eq smtp" is read as the end of this access-list line/),
    ]);
    expect(p.ignored.some((i) => i.text === 'eq smtp' || i.text.startsWith('6 interval'))).toBe(false);
  });

  it('the class selects port 25 only, as the entry on the device does', () => {
    expect(p.classify(flow(25)).esmtp?.name).toBe('ESMTP_STRICT');
    expect(p.classify(flow(2525)).esmtp).toBeNull();
    expect(p.esmtpPorts()).toEqual([25]);
  });

  it('a column-1 command after an access-list is not a tail (object-group, access-group, time-range)', () => {
    const q = compilePolicyText(
      'access-list A extended permit tcp any any eq smtp\nobject-group network G\n network-object host 10.0.0.1\naccess-list B extended permit tcp any object-group G eq smtp\naccess-group A in interface outside\n',
      'x.txt',
    );
    expect(q.warnings.filter((x) => x.level === 'warning')).toEqual([]);
  });
});

describe('an error in a wrapped tail', () => {
  const G = 'object-group network ESA-CLUSTER\n network-object host 10.0.0.1\n';
  const USE = 'class-map C\n match access-list ESMTP-INSPECT\n';
  it('points at the tail\'s own line and column, not past the end of the line it was joined to', () => {
    expect(() => compilePolicyText(`${G}access-list ESMTP-INSPECT extended deny tcp object-group ESA-CLUSTER any4\n eq smpt\n${USE}`, 'x.txt')).toThrow(
      expect.objectContaining({ code: 'E_POLICY_VALUE', line: 4, column: 5 }),
    );
  });

  it('"end of line" after a tail points just past the tail', () => {
    expect(() => compilePolicyText(`${G}access-list ESMTP-INSPECT extended deny tcp object-group ESA-CLUSTER any4\n eq\n${USE}`, 'x.txt')).toThrow(
      expect.objectContaining({ code: 'E_POLICY_SYNTAX', line: 4, column: 4, message: expect.stringMatching(/got end of line/) }),
    );
  });
});

describe.skipIf(!haveShared)('wrapped access-list on a real capture', () => {
  it('19 (SMTP on tcp/2525) passes untouched: the joined entry selects tcp/25 only', async () => {
    const r = await replayToTemp(path.join(GENERATED_DIR, '19-port2525-control.pcap'), { policy: FIXTURE });
    expect(r.summary.connections.inspected).toBe(0);
  });
});
