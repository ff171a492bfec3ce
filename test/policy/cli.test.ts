import path from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { registerPolicy } from '../../src/cli/policy.js';
import { DEFAULT_POLICY_TEXT } from '../../src/policy/default-policy.js';
import { REPO_ROOT } from '../helpers/shared.js';

const FIXTURE = path.join(REPO_ROOT, 'test/policy/fixtures/asa-running-config.txt');

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = 0;
  try {
    const program = new Command().exitOverride();
    registerPolicy(program);
    await program.parseAsync(['node', 'smtp-inspect', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

describe('smtp-inspect policy', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'policy-cli-'));
  });
  afterEach(() => {
    process.exitCode = 0;
  });

  it('check prints the normalised policy and a count of ignored lines', async () => {
    const r = await run('policy', 'check', FIXTURE);
    expect(r.code).toBe(0);
    expect(r.out).toContain('policy-map type inspect esmtp strict_esmtp_map\n');
    expect(r.out).toContain('! 92 line(s) not modelled were ignored (list them with --verbose)\n');
  });

  it('--verbose lists the ignored lines with file:line', async () => {
    const r = await run('policy', 'check', FIXTURE, '--verbose');
    expect(r.out).toContain(`!   ${FIXTURE}:8: hostname fw-edge-01   [global command not modelled]\n`);
  });

  it('--json gives maps, ports and ignored lines', async () => {
    const r = await run('policy', 'check', FIXTURE, '--json');
    const j = JSON.parse(r.out) as { esmtpPorts: number[]; esmtpMaps: Array<{ name: string }>; ignored: unknown[] };
    expect(j.esmtpPorts).toEqual([25]);
    expect(j.esmtpMaps.map((m) => m.name)).toEqual(['_default_esmtp_map', 'strict_esmtp_map']);
    expect(j.ignored).toHaveLength(92);
  });

  it('check says which layering mode was used and why; --policy-mode overrides auto', async () => {
    const f = path.join(REPO_ROOT, 'test/policy/fixtures/running-config-no-header.txt');
    const auto = await run('policy', 'check', f);
    expect(auto.out).toMatch(/^! layering: snapshot \(auto\): a show running-config printout, line 43: "Cryptochecksum:" line$/m);
    expect(auto.out).not.toMatch(/^ {2}inspect esmtp/m);
    const merged = await run('policy', 'check', f, '--policy-mode', 'merge');
    expect(merged.out).toMatch(/^! layering: merge \(--policy-mode merge\)/m);
    expect(merged.out).toMatch(/^ {2}inspect esmtp _default_esmtp_map$/m);
    expect(merged.err).toMatch(/running-config-no-header\.txt:22: warning: class inspection_default .* --policy-mode snapshot/);
    const j = JSON.parse((await run('policy', 'check', f, '--json')).out) as { layering: { requested: string; mode: string } };
    expect(j.layering).toMatchObject({ requested: 'auto', mode: 'snapshot' });
    await expect(run('policy', 'check', f, '--policy-mode', 'replace')).rejects.toThrow(/Allowed choices are auto, merge, snapshot/);
  });

  it('--json lists the clock and every time-range: absolute window as ISO local times with the zone, periodic lines as text, the entries using it', async () => {
    const f = path.join(dir, 'timed.cfg');
    writeFileSync(
      f,
      [
        'clock timezone EST -5',
        'clock summer-time EDT recurring',
        'time-range office',
        ' absolute start 8:00 1 March 2024 end 24:00 31 december 2024',
        ' periodic weekdays 8:00 to 18:00',
        ' periodic saturday 9:00 to 12:30',
        'time-range spare',
        'access-list MAIL extended permit tcp any any eq smtp time-range office',
        'access-list MAIL extended deny tcp host 10.0.0.9 any eq smtp',
        'access-list OTHER extended permit tcp any any eq 587 time-range office',
        'class-map M',
        ' match access-list MAIL',
        'policy-map global_policy',
        ' class M',
        '  inspect esmtp',
        '',
      ].join('\n'),
    );
    const j = JSON.parse((await run('policy', 'check', f, '--json')).out) as { clock: unknown; timeRanges: unknown };
    expect(j.clock).toEqual({ timezone: 'EST', utcOffset: '-05:00', summerTime: { zone: 'EDT', kind: 'recurring', offsetMinutes: 60, text: 'clock summer-time EDT recurring' } });
    expect(j.timeRanges).toEqual([
      {
        name: 'office',
        line: 3,
        absolute: { start: '2024-03-01T08:00', end: '2024-12-31T24:00', zone: 'EST/EDT' },
        periodic: ['periodic weekdays 08:00 to 18:00', 'periodic saturday 09:00 to 12:30'],
        usedBy: [
          // line: the file's line; position: the ASA's "access-list NAME line N"
          { accessList: 'MAIL', line: 8, position: 1, entry: 'permit tcp any any eq smtp time-range office' },
          { accessList: 'OTHER', line: 10, position: 1, entry: 'permit tcp any any eq 587 time-range office' },
        ],
      },
      { name: 'spare', line: 7, absolute: null, periodic: [], usedBy: [] },
    ]);
    // the default clock: UTC, no summer time, and a half-hour zone west of UTC keeps its sign
    writeFileSync(f, 'access-list A extended permit tcp any any eq smtp\n');
    const plain = JSON.parse((await run('policy', 'check', f, '--json')).out) as { clock: unknown; timeRanges: unknown[] };
    expect(plain.clock).toEqual({ timezone: 'UTC', utcOffset: '+00:00', summerTime: null });
    expect(plain.timeRanges).toEqual([]);
    // a pasted running-config's clock line (the fixture has 'clock timezone CET 1')
    expect((JSON.parse((await run('policy', 'check', FIXTURE, '--json')).out) as { clock: unknown }).clock).toEqual({ timezone: 'CET', utcOffset: '+01:00', summerTime: null });
    writeFileSync(f, 'clock timezone NST -3 30\ntime-range R\n absolute end 0:00 1 January 2030\n');
    const nst = JSON.parse((await run('policy', 'check', f, '--json')).out) as { clock: { utcOffset: string }; timeRanges: Array<{ absolute: unknown }> };
    expect(nst.clock.utcOffset).toBe('-03:30');
    expect(nst.timeRanges[0]?.absolute).toEqual({ start: null, end: '2030-01-01T00:00', zone: 'NST' });
  });

  it('errors: one line file:line:col, exit 2', async () => {
    const f = path.join(dir, 'bad.cfg');
    writeFileSync(f, 'policy-map type inspect esmtp m\n match cmd line length lt 5\n');
    const r = await run('policy', 'check', f);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`smtp-inspect: ${f}:2:24: expected "gt", got "lt" [E_POLICY_SYNTAX]\n`);
    expect(r.out).toBe('');
  });

  it('default prints the factory-default policy text; criteria lists the table', async () => {
    expect((await run('policy', 'default')).out).toBe(DEFAULT_POLICY_TEXT);
    const c = await run('policy', 'criteria');
    expect(c.out).toContain('  cmd RCPT count gt N (N 0-2147483647)\n');
    expect(c.out).toContain('  cmd verb WORD [WORD ...] (WORD: AUTH DATA EHLO');
  });
});
