/**
 * The fix for a fragment discard (catalogue.ts 'ip-fragment'): the ASA's `fragment` limit that
 * bit, raised on the interface the fragments arrive on (Cisco ASA command reference, `fragment`:
 * `fragment chain N [interface]` up to 8200, `fragment timeout N [interface]` up to 30 s,
 * `fragment size N [interface]`). The better fix, stopping the fragmentation (MSS clamp, path
 * MTU), is in the finding's summary: it is not configuration diagnose can write for the path.
 */
import type { VerdictRecord } from '../output/verdicts.js';
import { fragmentLimitOf, type FixKind } from './catalogue.js';
import type { Finding } from './model.js';
import { isFragmentDiscard } from './notes.js';

export interface FragmentFix {
  key: string;
  kind: FixKind;
  summary: string;
  config: string[];
  verification: string;
}

/** The interfaces diagnose's replays put the two sides on (analyze.ts DIAGNOSE_INTERFACES). */
export interface SideInterfaces {
  client: string;
  server: string;
}

const VERIFICATION = 'the ASA\'s fragment settings are not part of the ESMTP policy diagnose replays; after the change, `show fragment` on the ASA should count no new Fail or Overflow while this mail goes through';

/**
 * Fragments one datagram needs, from the session's chain discards: "data bytes A-B of the
 * datagram" gives each fragment's size and the datagram's extent (0: not readable).
 */
export function fragmentsNeeded(verdicts: readonly VerdictRecord[]): number {
  let end = 0;
  let size = 0;
  for (const v of verdicts) {
    if (!isFragmentDiscard(v) || fragmentLimitOf(v.detail) !== 'chain') continue;
    const m = /data bytes (\d+)-(\d+) of the datagram/.exec(v.detail);
    if (!m) continue;
    const from = Number(m[1]);
    const to = Number(m[2]) + 1;
    end = Math.max(end, to);
    // every fragment but the last has the fragment size: the largest seen
    size = Math.max(size, to - from);
  }
  return size > 0 ? Math.ceil(end / size) : 0;
}

/**
 * `inCapture`: the most fragments one datagram of the session came in, counted in the capture
 * (the discards alone may undercount: fragments after the limit tripped can pass as a new set).
 */
export function fragmentFix(f: Finding, verdicts: readonly VerdictRecord[], sides: SideInterfaces, inCapture = 0): FragmentFix {
  const limit = fragmentLimitOf(f.detail);
  const iface = f.direction === 'client-to-server' ? sides.client : f.direction === 'server-to-client' ? sides.server : '';
  const on = iface ? ` ${iface}` : '';
  const where = iface ? `on ${iface}, where the fragments arrive` : 'on every interface (the side the fragments came from is not known)';
  const stop = 'first try to stop the fragmentation (TCP MSS clamp `sysopt connection tcpmss`, MTUs along the path, a sender that sets DF)';
  if (limit === 'chain') {
    const now = Number(/fragment chain (\d+)/.exec(f.detail)?.[1] ?? 24);
    const seen = Math.max(fragmentsNeeded(verdicts), inCapture);
    const n = Math.min(8200, Math.max(now + 1, seen));
    return {
      key: `fragment:chain:${iface}:${n}`,
      kind: 'fragment-limits',
      summary: `allow ${n} fragments per datagram ${where} (fragment chain, now ${now}${seen > 0 ? `; this capture's datagram came in ${seen}` : ''}); ${stop}`,
      config: [`fragment chain ${n}${on}`],
      verification: VERIFICATION,
    };
  }
  if (limit === 'timeout') {
    const now = Number(/fragment timeout (\d+)/.exec(f.detail)?.[1] ?? 5);
    return {
      key: `fragment:timeout:${iface}`,
      kind: 'fragment-limits',
      summary: `wait up to 30 s (the ASA's maximum) for a datagram's fragments ${where} (fragment timeout, now ${now} s); this helps only if the missing fragments arrive late — if they never arrive they are lost before the ASA; ${stop}`,
      config: [`fragment timeout 30${on}`],
      verification: VERIFICATION,
    };
  }
  const now = Number(/\((\d+) fragments awaiting reassembly\)/.exec(f.detail)?.[1] ?? 200);
  const discarded = verdicts.filter((v) => isFragmentDiscard(v) && fragmentLimitOf(v.detail) === 'size').length;
  const n = Math.ceil(Math.max(2 * now, now + discarded) / 100) * 100;
  return {
    key: `fragment:size:${iface}:${n}`,
    kind: 'fragment-limits',
    summary: `let the fragment database hold ${n} fragments ${where} (fragment size, now ${now}; ${discarded} fragment(s) of this session found it full); check \`show fragment\` first: a full database is often other fragmented traffic or a fragment flood; ${stop}`,
    config: [`fragment size ${n}${on}`],
    verification: VERIFICATION,
  };
}
