/**
 * `show service-policy inspect esmtp` counters: per (scope, policy-map, class) the aggregate
 * packet/drop/reset-drop counts (the replay calls countPacket/countDrop/countResetDrop), per
 * enabled parameter a `count`, per match line a `packet` count (the session calls countMatch /
 * countParameter, at most once per packet). formatServicePolicy prints ADDENDUM B-15's layout.
 */
import type { EsmtpMap, EsmtpMatch } from '../policy/types.js';

export type ParameterName = 'mask-banner' | 'mail-relay' | 'special-character' | 'allow-tls';

export interface InspectCounters {
  scope: string;
  policyMap: string;
  className: string;
  map: EsmtpMap;
  packet: number;
  lockFail: number;
  drop: number;
  resetDrop: number;
  /** Set by the caller when it measures it (capture time); printed as `5-min-pkt-rate N pkts/sec`. */
  fiveMinPktRate: number;
  parameters: Record<ParameterName, number>;
  /** Indexed by classId (1-based). */
  matchPackets: number[];
  /** `rate-limit N` token buckets, indexed by classId: tokens left and the capture time of the last refill. */
  rateTokens: number[];
  rateLast: number[];
}

function key(policyMap: string, className: string): string {
  return `${policyMap}\u0000${className}`;
}

export class EsmtpCounters {
  private readonly entries = new Map<string, InspectCounters>();

  /** Register a class before traffic so it prints with zero counts; idempotent. */
  register(scope: string, policyMap: string, className: string, map: EsmtpMap): InspectCounters {
    const k = key(policyMap, className);
    let e = this.entries.get(k);
    if (!e) {
      e = {
        scope,
        policyMap,
        className,
        map,
        packet: 0,
        lockFail: 0,
        drop: 0,
        resetDrop: 0,
        fiveMinPktRate: 0,
        parameters: { 'mask-banner': 0, 'mail-relay': 0, 'special-character': 0, 'allow-tls': 0 },
        matchPackets: new Array<number>(map.matches.length + 1).fill(0),
        rateTokens: new Array<number>(map.matches.length + 1).fill(-1),
        rateLast: new Array<number>(map.matches.length + 1).fill(0),
      };
      this.entries.set(k, e);
    }
    return e;
  }

  /** The last entry looked up (sessions of one class ask for the same one over and over). */
  private last: InspectCounters | null = null;

  /** The entry for a class; registered in the global scope if the caller did not register it. */
  entry(policyMap: string, className: string, map: EsmtpMap): InspectCounters {
    const l = this.last;
    // Same class as last time: no key string built, no map lookup.
    if (l !== null && l.policyMap === policyMap && l.className === className) return l;
    const e = this.entries.get(key(policyMap, className)) ?? this.register('global', policyMap, className, map);
    this.last = e;
    return e;
  }

  get(policyMap: string, className: string): InspectCounters | undefined {
    return this.entries.get(key(policyMap, className));
  }

  countPacket(policyMap: string, className: string, map: EsmtpMap, n = 1): void {
    this.entry(policyMap, className, map).packet += n;
  }

  countDrop(policyMap: string, className: string, map: EsmtpMap, n = 1): void {
    this.entry(policyMap, className, map).drop += n;
  }

  countResetDrop(policyMap: string, className: string, map: EsmtpMap, n = 1): void {
    this.entry(policyMap, className, map).resetDrop += n;
  }

  countMatch(policyMap: string, className: string, map: EsmtpMap, classId: number): void {
    const e = this.entry(policyMap, className, map);
    e.matchPackets[classId] = (e.matchPackets[classId] ?? 0) + 1;
  }

  /**
   * One event of a `rate-limit N` match line at capture time `now` (seconds): a token bucket shared
   * by every connection of the class (ASA policing is per class), burst N, refilled at N per second.
   * Returns true when the event is within the rate.
   */
  takeRateToken(policyMap: string, className: string, map: EsmtpMap, classId: number, rate: number, now: number): boolean {
    const e = this.entry(policyMap, className, map);
    let tokens = e.rateTokens[classId] ?? -1;
    const last = e.rateLast[classId] ?? 0;
    if (tokens < 0) tokens = rate; // first event: a full bucket
    else if (now > last) tokens = Math.min(rate, tokens + (now - last) * rate);
    e.rateLast[classId] = Math.max(now, last);
    if (tokens >= 1) {
      e.rateTokens[classId] = tokens - 1;
      return true;
    }
    e.rateTokens[classId] = tokens;
    return false;
  }

  countParameter(policyMap: string, className: string, map: EsmtpMap, name: ParameterName): void {
    this.entry(policyMap, className, map).parameters[name] += 1;
  }

  all(): InspectCounters[] {
    return [...this.entries.values()];
  }
}

export function actionText(m: EsmtpMatch): string {
  const parts: string[] = [];
  if (m.actions.primary) parts.push(m.actions.primary);
  if (m.actions.log) parts.push('log');
  if (m.actions.rateLimit !== null) parts.push(`rate-limit ${m.actions.rateLimit}`);
  return parts.join(' ');
}

function parameterLines(e: InspectCounters): string[] {
  const p = e.map.parameters;
  const out: string[] = [];
  if (p.maskBanner) out.push(`mask-banner, count ${e.parameters['mask-banner']}`);
  if (p.mailRelay) out.push(`mail-relay ${p.mailRelay.domain} action ${p.mailRelay.action}, count ${e.parameters['mail-relay']}`);
  if (p.specialCharacter) {
    const a = p.specialCharacter.action + (p.specialCharacter.log && p.specialCharacter.action !== 'log' ? ' log' : '');
    out.push(`special-character action ${a}, count ${e.parameters['special-character']}`);
  }
  if (p.allowTls) out.push(`allow-tls${p.allowTls.log ? ' action log' : ''}, count ${e.parameters['allow-tls']}`);
  return out;
}

export interface ServicePolicyFormat {
  /** '9x' adds lock fail, 5-min-pkt-rate, v6-fail-close, sctp-drop-override; 'short' is the older line. */
  style?: '9x' | 'short';
}

/** The `show service-policy inspect esmtp` text (ADDENDUM B-15), global scope first. */
export function formatServicePolicy(counters: EsmtpCounters, fmt: ServicePolicyFormat = {}): string {
  const style = fmt.style ?? '9x';
  const entries = counters.all();
  const scopes = [...new Set(entries.map((e) => e.scope))].sort((a, b) => (a === 'global' ? -1 : b === 'global' ? 1 : a.localeCompare(b)));
  const lines: string[] = [];
  for (const scope of scopes) {
    lines.push(scope === 'global' ? 'Global policy:' : `Interface ${scope}:`);
    const inScope = entries.filter((e) => e.scope === scope);
    for (const pm of [...new Set(inScope.map((e) => e.policyMap))]) {
      lines.push(`  Service-policy: ${pm}`);
      for (const e of inScope.filter((x) => x.policyMap === pm)) {
        lines.push(`    Class-map: ${e.className}`);
        const head =
          style === '9x'
            ? `Inspect: esmtp ${e.map.name}, packet ${e.packet}, lock fail ${e.lockFail}, drop ${e.drop}, reset-drop ${e.resetDrop}, 5-min-pkt-rate ${e.fiveMinPktRate} pkts/sec, v6-fail-close 0 sctp-drop-override 0`
            : `Inspect: esmtp ${e.map.name}, packet ${e.packet}, drop ${e.drop}, reset-drop ${e.resetDrop}`;
        lines.push(`      ${head}`);
        for (const p of parameterLines(e)) lines.push(`        ${p}`);
        for (const m of e.map.matches) {
          lines.push(`        ${m.text}`);
          lines.push(`          ${actionText(m)}, packet ${e.matchPackets[m.classId] ?? 0}`);
        }
      }
    }
  }
  return lines.join('\n') + '\n';
}
