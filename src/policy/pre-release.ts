/**
 * Running configs of older releases (the `ASA Version 8.2(1)` / `PIX Version 7.2(4)` line, or the
 * pre-8.3 NAT commands) read differently from 9.x ones in two places that decide which connections
 * an ESMTP class selects:
 * - before 9.0 an access-list is IPv4 only (IPv6 had separate `ipv6 access-list`s), so `any` is
 *   any4; the 9.0 upgrade rewrites it so (Cisco ASA 9.0 release notes, "Unified ACL for IPv4 and
 *   IPv6": "any" now means IPv4 and IPv6, existing ACLs are migrated to "any4"). The parser reads it
 *   as any4 and the note below says so;
 * - before 8.3, access-lists name the NAT *mapped* address of a translated host (Cisco "ASA 5500
 *   Migration to Version 8.3", "Real IP Addresses in Access List Migration": "you used to have to
 *   specify the mapped addresses and ports in an access list for all features that use access
 *   lists"). The capture's addresses are compared as they are, so a warning names the NAT line.
 * A PIX 6.x configuration enables SMTP inspection with `fixup protocol smtp 25` (not modelled):
 * a warning says how the 7.0 upgrade expresses it.
 */
import type { SourceLine } from './lexer.js';
import type { ParsedConfig, ParseWarning } from './model.js';

/** `ASA Version 8.2(1)`, `PIX Version 7.2(4)`: records the release (first one wins). */
export function noteRelease(cfg: ParsedConfig, sl: SourceLine): void {
  const [t0, t1, t2] = sl.tokens;
  if (cfg.release || !t0 || !t1 || !t2 || (t0.lower !== 'asa' && t0.lower !== 'pix') || t1.lower !== 'version') return;
  const m = /^(\d+)\.(\d+)/.exec(t2.text);
  if (!m) return;
  cfg.release = { text: `${t0.text} Version ${t2.text}`, major: Number(m[1]), minor: Number(m[2]), line: sl.line, anyAsAny4: 0 };
}

/** Pre-8.3 NAT commands: `static (in,out) …`, `global (out) N …`, `nat (in) N …` (8.3+ NAT never has the number). */
const OLD_NAT = /^(static\s*\(|global\s*\(|nat\s*\([^),]*\)\s+\d+\s)/i;

export function releaseWarnings(cfg: ParsedConfig): ParseWarning[] {
  const out: ParseWarning[] = [];
  const r = cfg.release;
  if (r && r.major < 9 && r.anyAsAny4 > 0) {
    out.push({
      line: r.line,
      level: 'note',
      message: `${r.text}: before 9.0 an access-list is IPv4 only, so "any" is read as "any4" (${r.anyAsAny4} time(s)), as the 9.0 upgrade rewrites it; IPv6 connections are not selected by these entries`,
    });
  }
  // a `static` translates servers (the mail host); `global`/`nat` only clients
  // PIX 6.x enabled SMTP inspection (Mailguard) with `fixup protocol smtp 25`, which we do not model
  const fixup = cfg.ignored.find((x) => /^(no\s+)?fixup\s+protocol\s+e?smtp\b/i.test(x.text));
  // `no fixup protocol smtp 25` turned Mailguard off: that PIX inspected no SMTP at all
  if (fixup && /^no\s/i.test(fixup.text))
    out.push({
      line: fixup.line,
      level: 'warning',
      message:
        `PIX 6.x "${fixup.text}": SMTP fixup (Mailguard) is disabled, so this PIX inspected no SMTP; fixups are not modelled, and where the ASA factory default service policy applies here it inspects esmtp; ` +
        'the 7.0 upgrade expresses a disabled SMTP fixup as "no inspect esmtp" under class inspection_default of policy-map global_policy: add those lines to emulate it',
    });
  else if (fixup)
    out.push({
      line: fixup.line,
      level: 'warning',
      message:
        `PIX 6.x "${fixup.text}": SMTP fixup (Mailguard) is not modelled and a PIX 6.x configuration has no service-policy, so this text inspects nothing of its own; ` +
        'the 7.0 upgrade turns an enabled SMTP fixup into "inspect esmtp" under class inspection_default of policy-map global_policy, with "service-policy global_policy global": add those lines to emulate it',
    });
  const nat = cfg.ignored.find((x) => /^static\s*\(/i.test(x.text)) ?? cfg.ignored.find((x) => OLD_NAT.test(x.text));
  if (!nat) return out;
  // class-maps selecting ESMTP by access-list: the addresses they name are compared with the capture's
  const esmtpClasses = new Set<string>();
  for (const pm of cfg.policyMaps.values()) for (const k of pm.classes) if (k.inspects.some((i) => i.protocol === 'esmtp')) esmtpClasses.add(k.className);
  const acls: string[] = [];
  for (const cm of cfg.classMaps.values()) {
    if (!esmtpClasses.has(cm.name)) continue;
    for (const m of cm.matches) if (m.kind === 'access-list') acls.push(`class-map ${cm.name}: match access-list ${m.name}`);
  }
  if (acls.length === 0) return out;
  out.push({
    line: nat.line,
    level: 'warning',
    message:
      `pre-8.3 NAT ("${nat.text}"): before ASA 8.3 an access-list names the NAT mapped address of a translated host, also in a class-map (${acls.join('; ')}); ` +
      `the capture's addresses are compared as they are, so a connection to a translated server is selected only where the capture carries the mapped address (the translated side); ` +
      'ASA 8.3 and later use the real addresses',
  });
  return out;
}
