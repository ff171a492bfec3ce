/**
 * Numeric command-line options are decimal notation only. `Number()` read `--max-connections 0x10`
 * as 16, `1e1` as 10, `""` and `" "` as 0 and `Infinity` as a number; every numeric option of
 * every command now goes through src/cli/numbers.ts: proxy --max-connections, --max-held, --grace,
 * --idle-timeout; replay --max-held; live --count (flows --ports was already strict).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SmtpInspectError } from '../../src/errors.js';
import { runLive, type LiveCliOptions } from '../../src/cli/live.js';
import { MAX_TIMER_SECONDS, positiveIntegerOption, secondsOption } from '../../src/cli/numbers.js';
import { connectionCap, runProxy, type ProxyCliOptions } from '../../src/cli/proxy.js';
import { executeReplay, type ReplayCliOptions } from '../../src/cli/replay.js';
import { CLI_MAIN, ensureBuiltCli } from '../helpers/built-cli.js';
import { GENERATED_DIR, haveShared } from '../helpers/shared.js';

/** What Number() accepts but a user does not mean (or a typo): each must be refused. */
const LOOSE = ['0x10', '0X10', '1e1', '1E1', '0b11', '0o7', '', ' ', ' 5', '5 ', '\t5', '5\n', 'Infinity', '-Infinity', 'NaN', '+5', '-1', '-0', '1_000', '1,5', '٣'];

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SmtpInspectError);
    expect((e as SmtpInspectError).code).toBe('E_USAGE');
    return (e as Error).message;
  }
  throw new Error('expected an E_USAGE error');
}

async function usageErrorAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(SmtpInspectError);
    expect((e as SmtpInspectError).code).toBe('E_USAGE');
    return (e as Error).message;
  }
  throw new Error('expected an E_USAGE error');
}

describe('positiveIntegerOption', () => {
  it.each([...LOOSE, '0', '00', '5.5', '5.', '.5'])('refuses %j', (text) => {
    expect(usageError(() => positiveIntegerOption(text, '--n'))).toBe(`--n must be a positive integer, got "${text}"`);
  });

  it('accepts decimal digits (leading zeros are still decimal) and enforces the maximum', () => {
    expect(positiveIntegerOption('1', '--n')).toBe(1);
    expect(positiveIntegerOption('16', '--n')).toBe(16);
    expect(positiveIntegerOption('010', '--n')).toBe(10);
    expect(positiveIntegerOption(String(Number.MAX_SAFE_INTEGER), '--n')).toBe(Number.MAX_SAFE_INTEGER);
    expect(usageError(() => positiveIntegerOption('9007199254740993', '--n'))).toBe('--n must be at most 9007199254740991, got "9007199254740993"');
    expect(usageError(() => positiveIntegerOption('11', '--n', 10))).toBe('--n must be at most 10, got "11"');
  });

  it('property: a value is accepted exactly when it is all ASCII digits with a value 1..max, and then it is that value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9]{1,20}$/), fc.nat().map(String)), (text) => {
        const ok = /^[0-9]+$/.test(text) && BigInt(text) >= 1n && BigInt(text) <= BigInt(Number.MAX_SAFE_INTEGER);
        if (ok) expect(positiveIntegerOption(text, '--n')).toBe(Number(text));
        else expect(() => positiveIntegerOption(text, '--n')).toThrow(SmtpInspectError);
      }),
    );
  });
});

describe('secondsOption', () => {
  it.each([...LOOSE, '1.2.3', '.', '1e-3'])('refuses %j', (text) => {
    expect(usageError(() => secondsOption(text, '--s'))).toBe(`--s must be a non-negative number of seconds, got "${text}"`);
  });

  it('accepts decimal notation with a fraction, 0 included, up to what Node timers hold', () => {
    expect(secondsOption('0', '--s')).toBe(0);
    expect(secondsOption('10', '--s')).toBe(10);
    expect(secondsOption('0.5', '--s')).toBe(0.5);
    expect(secondsOption('.5', '--s')).toBe(0.5);
    expect(secondsOption('2.', '--s')).toBe(2);
    expect(secondsOption(String(MAX_TIMER_SECONDS), '--s')).toBe(MAX_TIMER_SECONDS);
    // past 2^31-1 ms Node's setTimeout / socket.setTimeout fire after 1 ms instead
    expect(MAX_TIMER_SECONDS * 1000).toBeLessThanOrEqual(0x7fffffff);
    expect(usageError(() => secondsOption(String(MAX_TIMER_SECONDS + 1), '--s'))).toBe(`--s must be at most ${MAX_TIMER_SECONDS} seconds, got "${MAX_TIMER_SECONDS + 1}"`);
    expect(usageError(() => secondsOption('99999999999', '--s'))).toMatch(/must be at most/);
  });
});

const proxyOpts = (over: Partial<ProxyCliOptions>): ProxyCliOptions => ({
  listen: '127.0.0.1:0',
  upstream: '127.0.0.1:25',
  print: 'none',
  set: [],
  clientInterface: 'outside',
  serverInterface: 'inside',
  grace: '10',
  dropMode: 'close',
  idleTimeout: '3600',
  maxHeld: '1048576',
  ...over,
});

describe('the commands refuse loose numbers before opening anything', () => {
  it('proxy --max-connections: 0x10 and 1e1 were 16 and 10; now the same error as 5.5', () => {
    const fivePointFive = usageError(() => connectionCap({ maxConnections: '5.5' }));
    expect(fivePointFive).toBe('--max-connections must be a positive integer, got "5.5"');
    for (const text of ['0x10', '1e1', '', ' ', 'Infinity', ' 4', '0']) {
      expect(usageError(() => connectionCap({ maxConnections: text }))).toBe(`--max-connections must be a positive integer, got "${text}"`);
    }
    expect(connectionCap({ maxConnections: '10' })).toMatchObject({ max: 10 });
  });

  it.each([
    ['maxConnections', '--max-connections', '0x10', 'must be a positive integer'],
    ['maxHeld', '--max-held', '1e3', 'must be a positive integer'],
    ['maxHeld', '--max-held', '0', 'must be a positive integer'],
    ['maxHeld', '--max-held', '5.5', 'must be a positive integer'],
    ['grace', '--grace', '0x10', 'must be a non-negative number of seconds'],
    ['grace', '--grace', '', 'must be a non-negative number of seconds'],
    ['idleTimeout', '--idle-timeout', '1e3', 'must be a non-negative number of seconds'],
    ['idleTimeout', '--idle-timeout', 'Infinity', 'must be a non-negative number of seconds'],
    ['idleTimeout', '--idle-timeout', '3000000', 'must be at most 2147483 seconds'],
  ] as const)('proxy %s: %s %j', async (key, option, text, message) => {
    const msg = await usageErrorAsync(() => runProxy(proxyOpts({ [key]: text })));
    expect(msg).toBe(`${option} ${message}, got "${text}"`);
  });

  it.each(['0x10', '1e1', '', ' ', 'Infinity', '5.5', '0'])('live --count %j', async (text) => {
    const opts: LiveCliOptions = { interface: 'lo', set: [], clientInterface: 'outside', serverInterface: 'inside', print: 'none', count: text };
    expect(await usageErrorAsync(() => runLive(opts))).toBe(`--count must be a positive integer, got "${text}"`);
  });

  it.each(['0x10', '1e1', '', ' ', 'Infinity', '5.5', '0'])('replay --max-held %j', async (text) => {
    const opts: ReplayCliOptions = { checksum: 'incremental', set: [], clientInterface: 'outside', serverInterface: 'inside', asaOoo: true, maxHeld: text };
    expect(await usageErrorAsync(() => executeReplay('/nonexistent/in.pcap', opts))).toBe(`--max-held must be a positive integer, got "${text}"`);
  });
});

describe('as a user runs it', () => {
  beforeAll(() => {
    expect(ensureBuiltCli()).toBe(true);
  });
  const run = (args: string[]) => spawnSync(process.execPath, [CLI_MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });

  it('proxy --max-connections 0x10: one error line, exit 2, nothing listened on', () => {
    const r = run(['proxy', '--listen', '127.0.0.1:0', '--upstream', '127.0.0.1:25', '--max-connections', '0x10']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--max-connections must be a positive integer, got "0x10"/);
  });

  it.skipIf(!haveShared)('replay --max-held 1e1: exit 2; --max-held 10 replays', () => {
    const cap = path.join(GENERATED_DIR, '02-ehlo-basic.pcap');
    const bad = run(['replay', cap, '--max-held', '1e1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--max-held must be a positive integer, got "1e1"/);
    const good = run(['replay', cap, '--max-held', '10']);
    expect(good.status, good.stderr).toBe(0);
  });
});
