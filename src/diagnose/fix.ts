/**
 * Builds the ASA configuration lines of a proposed fix. Each builder returns lines to append to
 * the running configuration (the current policy text + these lines is what diagnose compiles and
 * replays to verify the fix).
 *
 * - exempt-gateway: ASA-ESMTP.md §4.3. Only one class per feature may inspect a flow, so the
 *   gateway is exempted by an ACL (deny gateway, then what the inspecting class selected) in a new
 *   class that carries `inspect esmtp`, and `no inspect esmtp` in the class that inspected it so far.
 * - raise-limit / allow-tls / no-mask-banner: a copy of the inspecting map with the one line
 *   changed, and the class switched to the copy (`no inspect esmtp` + `inspect esmtp COPY`: an
 *   in-use map is replaced by removing and re-adding the inspect, §3.3 [S61]).
 */
import type { EsmtpMap, EsmtpMatch, MatchActions } from '../policy/types.js';

export interface InspectingClass {
  policyMap: string;
  className: string;
  /** Map name as `inspect esmtp` names it; null when the class uses plain `inspect esmtp`. */
  mapName: string | null;
}

/** A name not already used in the policy text (ASA names are case-sensitive). */
export function freshName(base: string, policyText: string): string {
  let name = base;
  for (let i = 2; new RegExp(`(^|\\s)${escapeRe(name)}(\\s|$)`, 'm').test(policyText); i++) name = `${base}-${i}`;
  return name;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function portWord(port: number): string {
  return port === 25 ? 'smtp' : String(port);
}

function inspectLine(mapName: string | null): string {
  return mapName && mapName !== '_default_esmtp_map' ? `inspect esmtp ${mapName}` : 'inspect esmtp';
}

export function exemptGatewayLines(
  gateways: readonly string[],
  ports: readonly number[],
  cls: InspectingClass,
  policyText: string,
  selected: readonly string[] | null = null,
): string[] {
  return exemptGatewayInClasses(gateways, ports, [cls], policyText, selected).lines;
}

/**
 * What the exempted classes selected, as access-list entry bodies (the text after `access-list
 * NAME `), read from the effective policy's normalised text: a class that matches by `match
 * access-list X` alone selected X's entries, in order. Null when any class matches otherwise
 * (`default-inspection-traffic`, `port`, `any`, several matches): it selected every connection to
 * its port(s). The exempting ACL keeps the classes' own selection after the gateway denies; with
 * `permit tcp any any eq smtp` instead, a class that inspected only some servers (say an `any6 host
 * 2001:db8::25` ACL) would, once exempted, start inspecting every other SMTP connection.
 */
export function selectedEntries(normalized: string, classNames: readonly string[]): string[] | null {
  const lines = normalized.split('\n');
  const bodies: string[] = [];
  for (const name of classNames) {
    const at = lines.indexOf(`class-map ${name}`);
    if (at < 0) return null;
    const matches: string[] = [];
    for (let i = at + 1; i < lines.length && /^\s/.test(lines[i] as string); i++) {
      const m = (lines[i] as string).trim();
      if (m.startsWith('match ')) matches.push(m);
    }
    const acl = matches.length === 1 ? /^match access-list (\S+)$/.exec(matches[0] as string)?.[1] : undefined;
    if (acl === undefined) return null;
    const prefix = `access-list ${acl} `;
    const entries = lines.filter((l) => l.startsWith(prefix) && !/^remark\b/.test(l.slice(prefix.length))).map((l) => l.slice(prefix.length));
    if (entries.length === 0) return null;
    for (const e of entries) if (!bodies.includes(e)) bodies.push(e);
  }
  return bodies.length > 0 ? bodies : null;
}

/**
 * The exemption for every class that inspects the gateway's sessions: one ACL and one class-map
 * (a class-map may serve several policy-maps), then per inspecting class `no inspect esmtp` and the
 * new class carrying its inspect. Several classes take part when an interface service-policy
 * inspects the sessions and the global one would inspect them too once the interface policy no
 * longer does (per-flow precedence: ASA-ESMTP.md §4.2, native-notes/policy-language.md).
 */
export function exemptGatewayInClasses(
  gateways: readonly string[],
  ports: readonly number[],
  classes: readonly InspectingClass[],
  policyText: string,
  selected: readonly string[] | null = null,
): { lines: string[]; className: string } {
  const acl = freshName('ESMTP-INSPECT', policyText);
  const klass = freshName('ESMTP-CLASS', policyText);
  const lines: string[] = [];
  const ps = ports.length > 0 ? [...new Set(ports)].sort((a, b) => a - b) : [25];
  for (const g of gateways) {
    for (const p of ps) {
      lines.push(`access-list ${acl} extended deny tcp any host ${g} eq ${portWord(p)}`);
      lines.push(`access-list ${acl} extended deny tcp host ${g} any eq ${portWord(p)}`);
    }
  }
  if (selected !== null) for (const e of selected) lines.push(`access-list ${acl} ${e}`);
  else for (const p of ps) lines.push(`access-list ${acl} extended permit tcp any any eq ${portWord(p)}`);
  lines.push(`class-map ${klass}`, ` match access-list ${acl}`);
  const placed = new Set<string>();
  for (const cls of classes) lines.push(...classExemptLines(cls, klass, placed));
  return { lines, className: klass };
}

/**
 * In the inspecting class's policy-map: stop its ESMTP inspection and inspect in the exempting
 * class instead. `placed` holds the policy-maps that already carry the exempting class: a second
 * inspecting class there only loses its inspect (a class takes one `inspect esmtp`).
 */
export function classExemptLines(cls: InspectingClass, exemptingClass: string, placed: Set<string>): string[] {
  const lines = [`policy-map ${cls.policyMap}`, ` class ${cls.className}`, `  no inspect esmtp`];
  if (placed.has(cls.policyMap)) return lines;
  placed.add(cls.policyMap);
  return [...lines, ` class ${exemptingClass}`, `  ${inspectLine(cls.mapName)}`];
}

export function actionLine(a: MatchActions): string | null {
  if (a.rateLimit !== null) return `rate-limit ${a.rateLimit}`;
  if (a.primary) return a.log ? `${a.primary} log` : a.primary;
  return a.log ? 'log' : null;
}

export interface MapChange {
  /** Replace the value after `gt` of this match line (classId). */
  raise?: { classId: number; gt: number };
  allowTls?: boolean;
  noMaskBanner?: boolean;
}

/** The text of a copy of `map` named `name` with `change` applied. */
export function mapCopyLines(map: EsmtpMap, name: string, change: MapChange): string[] {
  const p = map.parameters;
  const lines = [`policy-map type inspect esmtp ${name}`];
  lines.push(` description copy of ${map.name} made by smtp-inspect diagnose`);
  lines.push(' parameters');
  lines.push(p.maskBanner && !change.noMaskBanner ? '  mask-banner' : '  no mask-banner');
  lines.push(p.mailRelay ? `  mail-relay ${p.mailRelay.domain} action ${p.mailRelay.action}` : '  no mail-relay');
  if (p.specialCharacter) {
    const sc = p.specialCharacter;
    lines.push(`  special-character action ${sc.action}${sc.action === 'drop-connection' && sc.log ? ' log' : ''}`);
  } else lines.push('  no special-character');
  if (p.allowTls || change.allowTls) lines.push(p.allowTls?.log || change.allowTls ? '  allow-tls action log' : '  allow-tls');
  else lines.push('  no allow-tls');
  for (const m of map.matches) {
    lines.push(` ${matchText(m, change)}`);
    const a = actionLine(m.actions);
    if (a) lines.push(`  ${a}`);
  }
  return lines;
}

function matchText(m: EsmtpMatch, change: MapChange): string {
  if (change.raise && change.raise.classId === m.classId) {
    return m.text.replace(/\bgt\s+\d+\s*$/i, `gt ${change.raise.gt}`);
  }
  return m.text;
}

export function switchMapLines(cls: InspectingClass, newMap: string): string[] {
  return [`policy-map ${cls.policyMap}`, ` class ${cls.className}`, `  no inspect esmtp`, `  inspect esmtp ${newMap}`];
}

/** Smallest of 1, 2, 5 x 10^k that is at least `x` (a limit an admin would type). */
export function niceAbove(x: number): number {
  let base = 1;
  for (;;) {
    for (const m of [1, 2, 5]) if (m * base >= x) return m * base;
    base *= 10;
  }
}

/** The limit to propose: above what the capture needs (observed) and above the current one. */
export function raisedLimit(current: number, observed: number): number {
  return niceAbove(Math.max(observed, current + 1) * 2);
}
