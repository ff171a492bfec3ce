/**
 * Keyword abbreviations, as the ASA CLI takes them: "You can abbreviate most commands down to the
 * fewest unique characters for a command; for example, … conf t to start configuration mode"
 * (Cisco ASA configuration guides, "Command Line Interface Conventions"). A typed excerpt such as
 * `pol type insp esmtp MAP` / ` param` / `  no mask-ban` / ` match cmd RCPT count gt 500` /
 * `  drop-conn log` is what an admin pastes from the session that configured the device; before,
 * each abbreviated word was taken for an unmodelled command and its whole block silently ignored.
 *
 * Only keyword positions are expanded (names, addresses and values never are). A token that is a
 * keyword itself is kept; one that is the start of exactly one keyword expected there is rewritten
 * to it (the token keeps its column); the start of several is an ambiguous-command error, as on the
 * ASA ("% Ambiguous command").
 */
import { PolicyError } from '../errors.js';
import { CRITERIA } from './criteria.js';
import type { Token } from './lexer.js';

export type Resolution = { word: string } | { ambiguous: string[] } | null;

/** `t` against the keywords expected at its position: exact (case-insensitive), unique prefix, ambiguous or none. */
export function resolvePrefix(lower: string, options: readonly string[]): Resolution {
  const exact = options.find((o) => o.toLowerCase() === lower);
  if (exact !== undefined) return { word: exact };
  const hits = options.filter((o) => o.toLowerCase().startsWith(lower));
  if (hits.length === 1) return { word: hits[0] as string };
  if (hits.length > 1) return { ambiguous: hits };
  return null;
}

function ambiguousError(t: Token, hits: readonly string[], file: string, line: number): PolicyError {
  return new PolicyError('E_POLICY_SYNTAX', `ambiguous abbreviation "${t.text}": it starts ${hits.map((h) => `"${h}"`).join(', ')}; type more of the word`, {
    file,
    line,
    column: t.col,
  });
}

/** Rewrites `t` to the keyword it abbreviates (kept as written when it is one already, or none). Returns the resolved lower-case word. */
export function expandToken(t: Token | undefined, options: readonly string[], file: string, line: number): string | null {
  if (!t) return null;
  const r = resolvePrefix(t.lower, options);
  if (r === null) return null;
  if ('ambiguous' in r) throw ambiguousError(t, r.ambiguous, file, line);
  if (r.word.toLowerCase() !== t.lower) {
    t.text = r.word;
    t.lower = r.word.toLowerCase();
  }
  return t.lower;
}

const INSPECT_PROTOCOLS = [
  'ctiqbe', 'dcerpc', 'diameter', 'dns', 'esmtp', 'ftp', 'gtp', 'h323', 'http', 'icmp', 'ils', 'im', 'ip-options', 'ipsec-pass-thru',
  'ipv6', 'lisp', 'm3ua', 'mgcp', 'mmp', 'netbios', 'pptp', 'radius-accounting', 'rsh', 'rtsp', 'scansafe', 'sctp', 'sip', 'skinny',
  'smtp', 'snmp', 'sqlnet', 'stun', 'sunrpc', 'tftp', 'vxlan', 'waas', 'xdmcp',
];
/** After `access-list NAME [line N]`: `permit`/`deny` directly is an extended entry (the keyword is optional). */
const ACL_KINDS = ['extended', 'standard', 'remark', 'webtype', 'ethertype', 'line', 'advanced', 'permit', 'deny'];
const CLASS_MAP_MATCHES = ['access-list', 'any', 'default-inspection-traffic', 'dscp', 'flow', 'port', 'precedence', 'rtp', 'tunnel-group'];
const SET_CONNECTION = ['conn-max', 'embryonic-conn-max', 'per-client-max', 'per-client-embryonic-max', 'random-sequence-number', 'timeout', 'advanced-options', 'decrement-ttl'];

/**
 * Expands the keywords after the command word of one line. `command` is the resolved command word
 * (`policy-map`, `match`, `no inspect` …) and `mode` the mode that takes it ('global' or a mode kind).
 */
export function expandArguments(mode: string, tokens: Token[], file: string, line: number): void {
  let i = tokens[0]?.lower === 'no' ? 2 : 1;
  const cmd = tokens[i - 1]?.lower ?? '';
  const x = (k: number, options: readonly string[]) => expandToken(tokens[k], options, file, line);
  if (mode === 'global') {
    switch (cmd) {
      case 'policy-map':
        // `policy-map type inspect PROTO NAME`; a map called "t…" stays a name when no type follows
        if (tokens.length > i + 2 && x(i, ['type']) === 'type' && x(i + 1, ['inspect']) === 'inspect') x(i + 2, INSPECT_PROTOCOLS);
        return;
      case 'class-map':
        if (tokens.length > i + 2 && x(i, ['type']) === 'type' && x(i + 1, ['regex', 'inspect', 'management']) === 'regex') x(i + 2, ['match-any']);
        return;
      case 'access-list': {
        if (x(i + 1, ACL_KINDS) === 'line') i += 2;
        const kind = x(i + 1, ACL_KINDS);
        if (kind === 'extended') x(i + 2, ['permit', 'deny']);
        return;
      }
      case 'object-group':
        x(i, ['network', 'service', 'protocol', 'icmp-type', 'user', 'security']);
        return;
      case 'object':
        x(i, ['network', 'service']);
        return;
      case 'service-policy':
        x(i + 1, ['global', 'interface']);
        return;
      default:
        return;
    }
  }
  switch (mode) {
    case 'class-map':
      if (cmd === 'match' && x(i, CLASS_MAP_MATCHES) === 'port' && x(i + 1, ['tcp', 'udp', 'sctp']) !== null) x(i + 2, ['eq', 'range']);
      return;
    case 'class-map-regex':
      if (cmd === 'match') x(i, ['regex']);
      return;
    case 'pmap-esmtp':
      if (cmd === 'match') esmtpCriterion(tokens, i, file, line);
      return;
    case 'pmap-esmtp-params':
      if (cmd === 'mail-relay') {
        if (x(i + 1, ['action']) === 'action') x(i + 2, ['drop-connection', 'log']);
      } else if (cmd === 'special-character') {
        if (x(i, ['action']) === 'action' && x(i + 1, ['drop-connection', 'log']) === 'drop-connection') x(i + 2, ['log']);
      } else if (cmd === 'allow-tls') {
        if (x(i, ['action']) === 'action') x(i + 1, ['log']);
      }
      return;
    case 'pmap-esmtp-match':
      if (cmd === 'drop-connection' || cmd === 'reset' || cmd === 'mask') x(i, ['log']);
      return;
    case 'pmap-class':
      if (cmd === 'inspect') x(i, INSPECT_PROTOCOLS);
      else if (cmd === 'set' && x(i, ['connection', 'advanced-options', 'ip', 'nat-rewrite']) === 'connection')
        for (let k = i + 1; k < tokens.length; k++) if (!/^\d/.test(tokens[k]?.text ?? '')) x(k, [...SET_CONNECTION, 'enable', 'disable']);
      return;
    case 'og-network':
      if (cmd === 'network-object') x(i, ['host', 'object']);
      return;
    case 'og-service':
      if (cmd === 'port-object') x(i, ['eq', 'range']);
      return;
    default:
      return;
  }
}

/** `match [not] CRITERION…` of an ESMTP map: each keyword of the criterion table, then `regex`/`class`. */
function esmtpCriterion(tokens: Token[], start: number, file: string, line: number): void {
  let i = start;
  const t = tokens[i];
  if (t && t.lower !== 'not' && 'not'.startsWith(t.lower) && t.lower.length > 1) expandToken(t, ['not'], file, line);
  if (tokens[i]?.lower === 'not') i++;
  let specs = [...CRITERIA];
  for (let k = 0; ; k++) {
    const options = [...new Set(specs.map((s) => s.keywords[k]).filter((w): w is string => w !== undefined))];
    if (options.length === 0) break;
    const w = expandToken(tokens[i + k], options, file, line);
    if (w === null) return;
    const next = specs.filter((s) => s.keywords[k]?.toLowerCase() === w);
    // 'sender-address' alone is complete when no 'length' follows
    if (next.some((s) => s.keywords.length === k + 1) && tokens[i + k + 1] !== undefined && !next.some((s) => s.keywords.length > k + 1 && resolvePrefix((tokens[i + k + 1] as Token).lower, [s.keywords[k + 1] as string]) !== null)) {
      specs = next.filter((s) => s.keywords.length === k + 1);
      i += k + 1;
      break;
    }
    specs = next;
    if (specs.every((s) => s.keywords.length === k + 1)) {
      i += k + 1;
      break;
    }
  }
  const spec = specs.length === 1 ? specs[0] : undefined;
  if (spec?.value.type === 'matcher' && expandToken(tokens[i], ['regex', 'class'], file, line) === 'regex') {
    const n = tokens[i + 1];
    // `regex class NAME` versus a regex called "c…": only with a name after it
    if (n && tokens[i + 2] !== undefined) expandToken(n, ['class'], file, line);
  }
}
