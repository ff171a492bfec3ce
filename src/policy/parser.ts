/**
 * The ASA CLI subset → ParsedConfig. Modes work as on the ASA: a line is tried in the current
 * sub-mode, then in each enclosing mode up to global configuration (so indentation does not
 * matter). Unmodelled global commands open an ignored block whose sub-mode lines are ignored too;
 * every ignored line is recorded with its number. A modelled line that is wrong throws a
 * PolicyError at its line:column saying what was expected.
 */
import { PolicyError } from '../errors.js';
import { maskToPrefix, parseIp, type IpAddr } from './address.js';
import { CRITERIA, RATE_LIMIT_MAX, criterionSyntax, type ActionName, type CriterionSpec } from './criteria.js';
import { expandArguments, expandToken, resolvePrefix } from './abbrev.js';
import { clearCommand } from './clear.js';
import { Cursor } from './cursor.js';
import { formatAce } from './format.js';
import { noteRelease, releaseWarnings } from './pre-release.js';
import { PAGER_PROMPT, isIndented, lexPolicyText, rest, type SourceLine, type Token } from './lexer.js';
import {
  emptyConfig,
  type AccessList,
  type Ace,
  type ClassMatch,
  type AddrSpec,
  type ClassMapDef,
  type EsmtpMapDef,
  type EsmtpMatchDraft,
  type NetworkObject,
  type ObjectGroup,
  type ParsedConfig,
  type ParseWarning,
  type PolicyClassDef,
  type PolicyMapDef,
  type PortSpec,
  type ProtoSpec,
  type RegexClassDef,
  type ServiceEntry,
  type ServiceObject,
  esmtpMatchKey,
} from './model.js';
import { portValue, type PortProto } from './ports.js';
import { CompiledRegex, REGEX_LIMITS, RegexSyntaxError } from './regex.js';
import { formatPeriodic, parseAbsolute, parsePeriodic, parseSummerTime, parseTimezone, samePeriodic, type TimeRangeDef } from './time-range.js';

/** Global commands we model. */
const MODELLED_GLOBAL = new Set(['access-list', 'object', 'object-group', 'regex', 'class-map', 'policy-map', 'service-policy', 'name', 'clear', 'time-range', 'clock']);

/**
 * Global commands we know but do not model: they close any open sub-mode (an unknown word at
 * column 1 does too). Listed so that an indented global command still leaves a modelled mode.
 */
const KNOWN_GLOBAL = new Set([
  'aaa', 'aaa-server', 'arp', 'asdm', 'asp', 'auth-prompt', 'banner', 'boot', 'call-home', 'clock', 'command-alias',
  'compression', 'console', 'crashinfo', 'crypto', 'ddns', 'dhcp-client', 'dhcpd', 'dhcprelay', 'dns', 'dns-guard',
  'domain-name', 'dynamic-access-policy-record', 'dynamic-filter', 'enable', 'established', 'failover', 'file-bandwidth',
  'firewall', 'fragment', 'ftp', 'group-policy', 'hostname', 'http', 'icmp', 'interface', 'ip', 'ipsec', 'ipv6',
  'jumbo-frame', 'ldap', 'license', 'logging', 'mac-address', 'management-access', 'monitor-interface', 'mtu',
  'multicast-routing', 'names', 'nat', 'no', 'ntp', 'pager', 'passwd', 'prompt', 'privilege', 'quit', 'route',
  'route-map', 'router', 'same-security-traffic', 'service', 'snmp-server', 'ssh', 'ssl', 'sysopt', 'telnet',
  'terminal', 'tftp-server', 'threat-detection', 'time-range', 'timeout', 'tls-proxy', 'tunnel-group',
  'tunnel-group-map', 'user-identity', 'username', 'vpdn', 'vpn-addr-assign', 'vpnclient', 'webvpn', 'wccp',
  'zone', 'cryptochecksum:', 'end', 'xlate', 'flow-export', 'access-group', 'global', 'static', 'fixup',
  'anyconnect', 'ciscoasa', 'firewall-mode', 'object-group-search', 'packet-tracer', 'pbr', 'scansafe', 'sla',
  'track', 'virtual', 'vpn', 'vpn-sessiondb', 'cluster', 'mode', 'context', 'changeto', 'allocate-interface',
  'config-url', 'dynamic-filter', 'eigrp', 'bgp', 'ospf', 'prefix-list', 'ipv6-router', 'service-module',
  'sfr', 'umbrella-global', 'smart-licensing', 'license-server', 'feature', 'coredump', 'account', 'memory',
]);

/**
 * Exec-level commands a typed excerpt carries around its configuration (`conf t` … `end`, `wr mem`,
 * `copy run start`): not configuration, and no sub-mode follows them.
 */
const EXEC_WORDS = ['configure', 'write', 'copy', 'show', 'enable', 'disable', 'terminal'];

type ModeKind =
  | 'global'
  | 'ignored'
  | 'object-network'
  | 'object-service'
  | 'og-network'
  | 'og-service'
  | 'og-protocol'
  | 'class-map'
  | 'class-map-regex'
  | 'pmap-esmtp'
  | 'pmap-esmtp-params'
  | 'pmap-esmtp-match'
  | 'pmap'
  | 'pmap-class'
  | 'time-range';

interface Mode {
  kind: ModeKind;
  /** The object this mode edits. */
  target?: unknown;
  /** An ignored block opened by a word that is no ASA command we know (a typo, a pager prompt, ...). */
  unknownOpener?: { line: number; text: string; interrupted: string | null; flatWarning?: ParseWarning };
}

/** Sub-mode command words accepted by each mode (`no` forms listed as 'no WORD'). */
const MODE_WORDS: Record<Exclude<ModeKind, 'global' | 'ignored'>, readonly string[]> = {
  'object-network': ['host', 'subnet', 'range', 'fqdn', 'description', 'nat'],
  'object-service': ['service', 'description'],
  'og-network': ['network-object', 'group-object', 'description', 'no network-object', 'no group-object', 'no description'],
  'og-service': ['port-object', 'service-object', 'group-object', 'description', 'no port-object', 'no service-object', 'no group-object', 'no description'],
  'og-protocol': ['protocol-object', 'group-object', 'description', 'no protocol-object', 'no group-object', 'no description'],
  'class-map': ['match', 'description', 'no match', 'no description'],
  'class-map-regex': ['match', 'description', 'no match', 'no description'],
  'pmap-esmtp': ['description', 'parameters', 'match', 'class', 'no match', 'no description'],
  'pmap-esmtp-params': ['mask-banner', 'mail-relay', 'special-character', 'allow-tls', 'no mask-banner', 'no mail-relay', 'no special-character', 'no allow-tls'],
  'pmap-esmtp-match': ['drop-connection', 'reset', 'log', 'mask', 'rate-limit', 'no drop-connection', 'no reset', 'no log', 'no mask', 'no rate-limit'],
  pmap: ['class', 'description', 'no class', 'no description'],
  'time-range': ['absolute', 'periodic', 'no absolute', 'no periodic'],
  'pmap-class': [
    'inspect',
    'no inspect',
    'set',
    'no set',
    'user-statistics',
    'police',
    'priority',
    'shape',
    'ips',
    'csc',
    'sfr',
    'cxsc',
    'flow-export',
    'description',
  ],
};

function commandWord(sl: SourceLine): string {
  const t0 = sl.tokens[0];
  if (!t0) return '';
  if (t0.lower === 'no' && sl.tokens[1]) return `no ${sl.tokens[1].lower}`;
  return t0.lower;
}

/**
 * Words that start the tail of an access-list entry and are no ASA command: a column-1 line that
 * starts with one of them right after an `access-list` line is that line wrapped by the terminal
 * it was copied from (`... object-group ESA-CLUSTER` / `eq smtp`). Parsed alone, the entry would
 * silently lose its port (deny or permit ALL TCP) and the tail be ignored as an unknown command.
 */
const ACE_TAIL_WORDS = new Set(['eq', 'lt', 'gt', 'neq', 'range', 'log', 'inactive', 'interval', 'any', 'any4', 'any6', 'host']);

/** A token that can only be the wrapped tail of an entry: a keyword above, a number or an address. */
const isAceTail = (t: Token) => ACE_TAIL_WORDS.has(t.lower) || /^[0-9]/.test(t.text);

/** Joins each wrapped access-list tail to its line, with a warning naming both lines. */
function joinWrappedAces(lines: SourceLine[], cfg: ParsedConfig): void {
  let prev: SourceLine | null = null;
  for (const sl of lines) {
    const t0 = sl.tokens[0];
    if (!t0) continue;
    // an access-list has no sub-mode: an indented tail is the wrap too (the break left the blank)
    if (prev && isAceTail(t0) && sl.prompt === undefined) {
      const sep = prev.raw.endsWith(' ') || prev.raw.endsWith('\t') ? '' : ' ';
      const offset = prev.raw.length + sep.length;
      prev.raw = `${prev.raw}${sep}${sl.raw}`;
      prev.tokens.push(...sl.tokens.map((t) => ({ ...t, col: t.col + offset, at: { line: sl.line, col: t.col } })));
      cfg.warnings.push({
        line: prev.line,
        level: 'warning',
        message: `line ${sl.line} "${sl.raw.trim()}" is read as the end of this access-list line, wrapped where the configuration was copied (no ASA command starts with "${t0.text}"); join the two lines in the file`,
      });
      sl.raw = '';
      sl.tokens = [];
      continue;
    }
    prev = t0.lower === 'access-list' || (t0.lower === 'no' && sl.tokens[1]?.lower === 'access-list') ? sl : null;
  }
}

/** The innermost mode on the stack that takes the command word as written; -1 for global. */
function findMode(stack: readonly Mode[], word: string, first: string, isGlobal: boolean): number {
  for (let k = stack.length - 1; k >= 1; k--) {
    const m = stack[k] as Mode;
    if (m.kind === 'ignored') return isGlobal ? -1 : k;
    if (accepts(m, word) || accepts(m, first)) return k;
  }
  return -1;
}

/**
 * Resolves an abbreviated command word (ASA CLI: the fewest unique characters) against the modes
 * on the stack, innermost first, then, for an unindented line, the global commands; rewrites the
 * token(s) to the full word. Returns the depth of the mode that takes it (-1: global), or null.
 * An ignored block keeps its indented lines whatever they start with.
 */
function expandCommandWord(stack: readonly Mode[], sl: SourceLine, file: string, indented: boolean): { depth: number } | null {
  const neg = sl.tokens[0]?.lower === 'no' && sl.tokens.length > 1;
  const t = sl.tokens[neg ? 1 : 0] as Token;
  for (let k = stack.length - 1; k >= 1; k--) {
    const m = stack[k] as Mode;
    if (m.kind === 'ignored' || m.kind === 'global') {
      if (indented && m.kind === 'ignored') return null;
      break;
    }
    const words = MODE_WORDS[m.kind].filter((w) => w.startsWith('no ') === neg).map((w) => (neg ? w.slice(3) : w));
    if (expandToken(t, words, file, sl.line) !== null) return { depth: k };
  }
  if (indented && stack.length > 1) return null;
  // global: a prefix of one modelled command (a known unmodelled one is no abbreviation of ours)
  const r = resolvePrefix(t.lower, [...MODELLED_GLOBAL, ...KNOWN_GLOBAL, ...EXEC_WORDS]);
  if (r === null) return null;
  if ('ambiguous' in r) {
    if (!r.ambiguous.some((w) => MODELLED_GLOBAL.has(w))) return null;
    expandToken(t, r.ambiguous, file, sl.line); // throws the ambiguity error
  }
  if (!('word' in r) || !MODELLED_GLOBAL.has(r.word)) return null;
  expandToken(t, [r.word], file, sl.line);
  return { depth: -1 };
}

function accepts(mode: Mode, word: string): boolean {
  if (mode.kind === 'global') return false;
  if (mode.kind === 'ignored') return true;
  return MODE_WORDS[mode.kind].includes(word);
}

/**
 * Command words that matter for ESMTP inspection: when one of them lands in a block opened by an
 * unknown word, the admin is told (a policy line silently lost would silently change inspection).
 */
const POLICY_WORDS = new Set(['inspect', 'match', 'parameters', 'class', 'set', 'mask-banner', 'mail-relay', 'special-character', 'allow-tls', 'drop-connection', 'reset', 'mask', 'rate-limit']);

const MODE_TITLES: Partial<Record<ModeKind, (t: unknown) => string>> = {
  'class-map': (t) => `class-map ${(t as ClassMapDef).name}`,
  'class-map-regex': (t) => `class-map type regex match-any ${(t as RegexClassDef).name}`,
  'pmap-esmtp': (t) => `policy-map type inspect esmtp ${(t as EsmtpMapDef).name}`,
  'pmap-esmtp-params': (t) => `the parameters of policy-map type inspect esmtp ${(t as EsmtpMapDef).name}`,
  'pmap-esmtp-match': (t) => `"${(t as EsmtpMatchDraft).text}"`,
  pmap: (t) => `policy-map ${(t as PolicyMapDef).name}`,
  'pmap-class': (t) => `class ${(t as PolicyClassDef).className}`,
  'time-range': (t) => `time-range ${(t as TimeRangeDef).name}`,
};

/** A copy of `base` that a further text edits as config mode would (see native-notes "layering"). */
function inherit(base: ParsedConfig): ParsedConfig {
  const cfg = structuredClone(base);
  for (const m of cfg.esmtpMaps.values()) for (const x of m.matches) x.inherited = true;
  for (const sp of cfg.servicePolicies) sp.inherited = true;
  for (const pm of cfg.policyMaps.values()) for (const k of pm.classes) for (const i of k.inspects) i.inherited = true;
  cfg.touchedServicePolicies = false;
  cfg.ignored = [];
  cfg.warnings = [];
  return cfg;
}

/**
 * Parses one policy text. Throws PolicyError on the first modelled line that is wrong. With
 * `base`, the text is applied on top of it as configuration commands are on a device: entering
 * an existing object's mode adds to it and `no` lines remove.
 */
export function parseConfig(text: string, file: string, base?: ParsedConfig): ParsedConfig {
  const cfg = base ? inherit(base) : emptyConfig();
  const { lines, pagerLines, unicodeBlankLines } = lexPolicyText(text, file);
  joinWrappedAces(lines, cfg);
  if (pagerLines.length > 0) {
    const shown = pagerLines.slice(0, 5).join(', ') + (pagerLines.length > 5 ? ', ...' : '');
    cfg.warnings.push({
      line: pagerLines[0] as number,
      level: 'note',
      message: `${pagerLines.length} pager prompt(s) "${PAGER_PROMPT}" removed (line ${shown}): the configuration was copied with "pager lines" in effect; "terminal pager 0" before "show running-config" avoids them`,
    });
  }
  if (unicodeBlankLines.length > 0) {
    const shown = unicodeBlankLines.slice(0, 5).join(', ') + (unicodeBlankLines.length > 5 ? ', ...' : '');
    cfg.warnings.push({
      line: unicodeBlankLines[0] as number,
      level: 'note',
      message: `${unicodeBlankLines.length} line(s) hold non-breaking or other Unicode spaces (U+00A0 …), read as blanks, or invisible zero-width characters (U+200B, U+FEFF, soft hyphen …), removed (line ${shown}): the text was copied from a web page, PDF or e-mail; typed into the ASA CLI as they are, such lines are refused`,
    });
  }
  const prompted = lines.filter((l) => l.prompt !== undefined);
  if (prompted.length > 0) dropSessionMessages(lines, cfg);
  if (prompted.length > 0) {
    const exec = prompted.filter((l) => l.prompt === 'exec').length;
    cfg.warnings.push({
      line: (prompted[0] as SourceLine).line,
      level: 'note',
      message:
        `${prompted.length} line(s) start with an ASA CLI prompt ("asa(config-pmap)# "): read as a pasted terminal session, each command as typed after its prompt` +
        (exec > 0 ? `; ${exec} line(s) at an exec prompt ("asa# ") ignored as exec commands` : ''),
    });
  }
  // a text without any indentation (copied from a PDF, or flattened): a column-1 word cannot be
  // told from a sub-command by its layout, so an unknown one inside a modelled mode is reported
  const flat = !lines.some((l) => l.tokens.length > 0 && isIndented(l));
  let stack: Mode[] = [{ kind: 'global' }];
  /** Policy lines lost to the ignored block opened by an unknown word, reported when it closes. */
  let lost: { opener: NonNullable<Mode['unknownOpener']>; lines: Array<{ line: number; text: string }> } | null = null;
  const reportLost = () => {
    if (lost && lost.lines.length > 0) {
      const o = lost.opener;
      // the lost-lines warning below says it all: the no-indentation one for the same line goes
      if (o.flatWarning) cfg.warnings.splice(cfg.warnings.indexOf(o.flatWarning), 1);
      const first = lost.lines[0] as { line: number; text: string };
      cfg.warnings.push({
        line: o.line,
        level: 'warning',
        message:
          `"${o.text}" is not an ASA command we know${o.interrupted ? `; it ended ${o.interrupted}` : ''}, and ${lost.lines.length} policy line(s) after it were ignored ` +
          `as its sub-commands, from line ${first.line} "${first.text}": remove or fix line ${o.line} (see --verbose)`,
      });
    }
    lost = null;
  };

  for (const sl of lines) {
    const t0 = sl.tokens[0];
    // blank lines, `!` and `:` comment lines of a running config
    if (!t0 || t0.text.startsWith('!') || t0.text.startsWith(':')) continue;
    // a pasted session: the prompt says the mode the line was typed in
    if (sl.prompt === 'exec') {
      // `asa# show running-config`, `asa# write memory`: never configuration, whatever the command
      cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason: 'exec command (typed at an exec prompt, not configuration)' });
      reportLost();
      stack = [stack[0] as Mode];
      continue;
    }
    if (sl.prompt !== undefined && isPromptExec(sl)) {
      // `asa(config-pmap)# show run policy-map …`, `do show …`, `match cmd ?`: the ASA runs or answers
      // them in configuration mode too; the mode stays
      cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason: 'exec command or help request at a configuration prompt (not configuration)' });
      continue;
    }
    if (sl.prompt === 'config' && stack.length > 1) {
      reportLost();
      stack = [stack[0] as Mode];
    }
    if (!isIndented(sl)) noteRelease(cfg, sl);
    let word = commandWord(sl);
    // `exit` leaves one sub-mode, as on the ASA
    if (word === 'exit' && sl.tokens.length === 1) {
      if (stack.length > 1) stack.pop();
      continue;
    }
    let first = word.split(' ')[0] ?? '';
    // `service-policy NAME` alone under a class is a nested (hierarchical QoS) policy, not the
    // global `service-policy NAME global | interface IF`
    if (word === 'service-policy' && sl.tokens.length === 2 && stack[stack.length - 1]?.kind === 'pmap-class') {
      cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason: 'nested service-policy (hierarchical QoS) not modelled' });
      continue;
    }
    let isGlobal = MODELLED_GLOBAL.has(first) || KNOWN_GLOBAL.has(first) || word === 'no service-policy';
    // `conf t`, `wr mem`, `copy run start`: exec commands around a typed excerpt, no block after them
    const exec = sl.tokens.length <= 3 && t0.lower.length >= 2 ? resolvePrefix(first, EXEC_WORDS) : null;
    if (exec !== null && 'word' in exec && !MODELLED_GLOBAL.has(first) && !(stack.length > 1 && findMode(stack, word, first, false) >= 1)) {
      cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason: `exec command ${exec.word} (not configuration)` });
      reportLost();
      stack = [stack[0] as Mode];
      continue;
    }

    // find the innermost mode that accepts the command
    let depth = findMode(stack, word, first, isGlobal);
    if (depth < 0 && (!isGlobal || (first === 'no' && sl.tokens.length > 1 && !KNOWN_GLOBAL.has(sl.tokens[1]?.lower ?? '')))) {
      // an abbreviated command word (`pol`, `insp`, `param`, `drop-conn`): innermost mode first, as the ASA
      const indented = isIndented(sl);
      const r = expandCommandWord(stack, sl, file, indented);
      if (r) {
        word = commandWord(sl);
        first = word.split(' ')[0] ?? '';
        isGlobal = r.depth < 0;
        depth = r.depth;
      }
    }
    if (depth >= 1) {
      stack = stack.slice(0, depth + 1);
      const mode = stack[depth] as Mode;
      if (mode.kind === 'ignored') {
        cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason: 'inside an ignored block' });
        if (lost && mode.unknownOpener && (POLICY_WORDS.has(first) || POLICY_WORDS.has(word.split(' ')[1] ?? ''))) lost.lines.push({ line: sl.line, text: sl.raw.trim() });
        continue;
      }
      expandArguments(mode.kind, sl.tokens, file, sl.line);
      const opened = subCommand(cfg, mode, sl, file);
      if (opened) stack.push(opened);
      continue;
    }
    // not a sub-mode command: an indented unknown word inside a modelled mode is a typo, and so is
    // one typed at a sub-mode prompt (`asa(config-pmap-c)# drop-conection log`: the ASA refused it)
    const inner = stack[stack.length - 1] as Mode;
    const indented = isIndented(sl) || sl.prompt === 'sub';
    if (!isGlobal && indented && inner.kind !== 'global' && inner.kind !== 'ignored') {
      const words = MODE_WORDS[inner.kind];
      throw new PolicyError('E_POLICY_SYNTAX', `expected one of ${words.map((w) => `"${w}"`).join(', ')} in this mode, got "${t0.text}"`, {
        file,
        line: sl.line,
        column: t0.col,
      });
    }
    reportLost();
    const interrupted = [...stack].reverse().find((m) => MODE_TITLES[m.kind] !== undefined);
    stack = [stack[0] as Mode];
    if (MODELLED_GLOBAL.has(first === 'no' ? (sl.tokens[1]?.lower ?? '') : first)) expandArguments('global', sl.tokens, file, sl.line);
    const opened = globalCommand(cfg, sl, file);
    if (opened) {
      if (opened.kind === 'ignored' && !isGlobal) {
        const title = interrupted ? (MODE_TITLES[interrupted.kind] as (t: unknown) => string)(interrupted.target) : null;
        opened.unknownOpener = { line: sl.line, text: sl.raw.trim(), interrupted: title };
        lost = { opener: opened.unknownOpener, lines: [] };
        if (flat && title && sl.prompt === undefined) {
          opened.unknownOpener.flatWarning = {
            line: sl.line,
            level: 'warning',
            message: `"${sl.raw.trim()}" is not an ASA command we know; this text has no indentation, so it may be a misspelt line of ${title}, which the ASA would refuse: it was ignored, and it ended ${title}`,
          };
          cfg.warnings.push(opened.unknownOpener.flatWarning);
        }
      }
      stack.push(opened);
    }
  }
  reportLost();
  cfg.warnings.push(...releaseWarnings(cfg));
  return cfg;
}

/**
 * What the ASA prints back in a terminal session: the `^` marker under a refused word, `ERROR: …`,
 * `WARNING: …`, `INFO: …` and `% …` messages (Cisco's "ERROR: % Invalid input detected at '^'
 * marker."), with their continuation lines up to the next prompt.
 */
const MARKER_LINE = /^\s*\^\s*$/;
const MESSAGE_LINE = /^\s*(?:(ERROR|WARNING|INFO):|%)/i;
const CLI_REFUSAL = /^\s*%\s*(?:Invalid|Incomplete|Ambiguous|Unrecognized|Unknown)/i;

/**
 * In a pasted session, the ASA's own messages are no configuration, and a command it answered
 * with an error (`^` marker or `ERROR:` right after it) was refused: not applied, as on the
 * device. Before, the marker line was read as a sub-command (`got "^"`, the whole file refused),
 * the refused line itself was applied or refused the file, and an `ERROR:` line opened an ignored
 * block that swallowed the sub-mode lines typed after it.
 */
function dropSessionMessages(lines: SourceLine[], cfg: ParsedConfig): void {
  let lastCommand: SourceLine | null = null; // the prompted command the next message answers
  let inMessage = false;
  let inHelp = false; // the listing a `?` printed, up to the next prompt
  for (const sl of lines) {
    if (sl.prompt !== undefined) {
      lastCommand = sl.tokens.length > 0 && sl.prompt !== 'exec' ? sl : null;
      inMessage = false;
      const last = sl.tokens[sl.tokens.length - 1];
      inHelp = last !== undefined && sl.tokens[0]?.lower !== 'regex' && (sl.tokens.some((t) => t.text === '?') || last.text.endsWith('?'));
      continue;
    }
    if (inHelp) {
      // `fw(config-pmap-p)# ?` lists the mode's commands, indented, one per line with its help text:
      // read as sub-commands, `  allow-tls   Allow TLS` was an error
      if (sl.tokens.length > 0) cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason: 'ASA help output in a pasted session (not configuration)' });
      sl.raw = '';
      sl.tokens = [];
      continue;
    }
    if (sl.tokens.length === 0) {
      inMessage = false;
      continue;
    }
    const marker = MARKER_LINE.test(sl.raw);
    const m = marker ? null : MESSAGE_LINE.exec(sl.raw);
    // a message's continuation: unindented text right after it, before the next prompt
    if (!marker && !m && !(inMessage && !isIndented(sl))) {
      lastCommand = null;
      inMessage = false;
      continue;
    }
    // a console syslog line (`%ASA-4-108004: …`) answers nothing: only the CLI's own `% Invalid …`
    const refused = marker || m?.[1]?.toUpperCase() === 'ERROR' || (m !== null && m?.[1] === undefined && CLI_REFUSAL.test(sl.raw));
    if (refused && lastCommand && lastCommand.tokens.length > 0) {
      const text = lastCommand.raw.trim();
      cfg.ignored.push({ line: lastCommand.line, text, reason: `refused by the ASA in the pasted session (its message follows at line ${sl.line})` });
      cfg.warnings.push({
        line: lastCommand.line,
        level: 'warning',
        message: `"${text}" was refused by the ASA in this pasted session (line ${sl.line}: "${sl.raw.trim()}"), so it is not applied`,
      });
      lastCommand.raw = '';
      lastCommand.tokens = [];
    }
    cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason: 'ASA message in a pasted session (not configuration)' });
    sl.raw = '';
    sl.tokens = [];
    inMessage = !marker;
  }
}

/** The first words of every sub-mode command. */
const SUB_MODE_WORDS = [...new Set(Object.values(MODE_WORDS).flatMap((ws) => ws.map((w) => w.split(' ')[0] ?? '')))];

/** Commands the ASA runs from a configuration prompt without changing the configuration. */
const PROMPT_EXEC_WORDS = [...EXEC_WORDS, 'do', 'ping', 'traceroute', 'packet-tracer', 'more', 'dir'];

/**
 * A typed line that is no configuration: an exec command (`show …`, `sh run`, `do …`, `ping`) or a
 * help request (`?` alone, or a word ending in `?`, which the CLI answers instead of taking the
 * line; a `regex` pattern may end in a literal `?`, entered with Ctrl-V).
 */
function isPromptExec(sl: SourceLine): boolean {
  const t0 = sl.tokens[0];
  const last = sl.tokens[sl.tokens.length - 1];
  if (!t0 || !last) return false;
  if (sl.tokens.some((t) => t.text === '?') || (last.text.endsWith('?') && t0.lower !== 'regex')) return true;
  // `pa` is `parameters` in a policy-map, never `packet-tracer`: a prefix of a sub-mode word is no exec word
  if (t0.lower.length < 2 || MODELLED_GLOBAL.has(t0.lower) || SUB_MODE_WORDS.some((w) => w.startsWith(t0.lower))) return false;
  const r = resolvePrefix(t0.lower, PROMPT_EXEC_WORDS);
  return r !== null && 'word' in r && !(r.word === 'enable' && sl.tokens.length > 1);
}

function ignore(cfg: ParsedConfig, sl: SourceLine, reason: string): Mode {
  cfg.ignored.push({ line: sl.line, text: sl.raw.trim(), reason });
  return { kind: 'ignored' };
}

// ---- global configuration ---------------------------------------------------------------

function globalCommand(cfg: ParsedConfig, sl: SourceLine, file: string): Mode | null {
  const c = new Cursor(sl, file);
  const t0 = c.next() as Token;
  switch (t0.lower) {
    case 'name':
      return nameCommand(cfg, c);
    case 'access-list':
      return accessListEntry(cfg, c);
    case 'time-range': {
      const n = c.word('a time-range name');
      c.end();
      // entering an existing range edits it, as config mode does
      let def = cfg.timeRanges.get(n.text);
      if (!def) {
        def = { name: n.text, pos: c.pos(n), absolute: null, periodic: [] };
        cfg.timeRanges.set(n.text, def);
      }
      return { kind: 'time-range', target: def };
    }
    case 'clock':
      return clockCommand(cfg, c, false);
    case 'object':
      return objectCommand(cfg, c);
    case 'object-group':
      return objectGroup(cfg, c);
    case 'regex':
      regexCommand(cfg, c);
      return null;
    case 'class-map':
      return classMap(cfg, c);
    case 'policy-map':
      return policyMap(cfg, c);
    case 'service-policy':
      servicePolicy(cfg, c, false);
      return null;
    case 'clear':
      clearCommand(cfg, c, (text, f) => parseConfig(text, f));
      return null;
    case 'no':
      switch (c.peek()?.lower) {
        case 'service-policy':
          c.next();
          servicePolicy(cfg, c, true);
          return null;
        case 'policy-map':
        case 'class-map':
        case 'regex':
          removeObject(cfg, c);
          return null;
        case 'time-range': {
          c.next();
          const n = c.word('a time-range name');
          c.end();
          if (!cfg.timeRanges.delete(n.text)) cfg.warnings.push({ line: sl.line, level: 'warning', message: `"${sl.raw.trim()}" removed nothing: time-range ${n.text} is not defined` });
          return null;
        }
        case 'clock':
          c.next();
          return clockCommand(cfg, c, true);
        case 'access-list': {
          c.next();
          const kind = c.peek(1);
          // `no access-list NAME [line N] extended ...` removes that entry; other forms are not modelled
          if (kind && (['extended', 'advanced', 'line'].includes(kind.lower))) return accessList(cfg, c, true);
          break;
        }
      }
      return ignore(cfg, sl, 'global command not modelled');
    default:
      return ignore(cfg, sl, 'global command not modelled');
  }
}

/** `[no] clock timezone ...` / `[no] clock summer-time ...`; other clock lines (exec `clock set`) are not configuration. */
function clockCommand(cfg: ParsedConfig, c: Cursor, no: boolean): Mode | null {
  const w = c.peek()?.lower;
  if (w === 'timezone') {
    c.next();
    cfg.clock.timezone = no ? null : parseTimezone(c);
    return null;
  }
  if (w === 'summer-time') {
    c.next();
    cfg.clock.summer = no ? null : parseSummerTime(c);
    return null;
  }
  return ignore(cfg, c.sl, 'clock command not modelled');
}

function timeRangeLine(cfg: ParsedConfig, def: TimeRangeDef, c: Cursor): null {
  const no = c.accept('no');
  const w = c.keyword('absolute', 'periodic');
  if (w === 'absolute') {
    if (no) {
      def.absolute = null;
      return null;
    }
    const abs = parseAbsolute(c);
    // at most one absolute line per range: a new one replaces the old, as on the device
    if (def.absolute) cfg.warnings.push({ line: c.sl.line, level: 'note', message: `time-range ${def.name}: this absolute line replaces the one on line ${def.absolute.line} (a time-range has at most one)` });
    def.absolute = abs;
    return null;
  }
  const p = parsePeriodic(c);
  const k = def.periodic.findIndex((x) => samePeriodic(x, p));
  if (no) {
    if (k >= 0) def.periodic.splice(k, 1);
    else cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"no ${formatPeriodic(p)}" removed nothing: time-range ${def.name} has no such periodic line` });
  } else if (k < 0) def.periodic.push(p);
  return null;
}

function nameCommand(cfg: ParsedConfig, c: Cursor): null {
  const ipT = c.word('an IP address');
  const ip = parseIp(ipT.text);
  if (!ip) c.fail('an IP address', ipT, 'E_POLICY_VALUE');
  const nameT = c.word('a name');
  cfg.names.set(nameT.text, ip);
  // `description ...` may follow
  return null;
}

/** An IP address or a `name`-defined host name. */
function ipOrName(cfg: ParsedConfig, c: Cursor, what: string): IpAddr {
  const t = c.word(what);
  const ip = parseIp(t.text) ?? cfg.names.get(t.text);
  if (!ip) c.fail(what, t, 'E_POLICY_VALUE');
  return ip;
}

function ipv4Mask(c: Cursor): number {
  const t = c.word('a subnet mask (e.g. 255.255.255.0)');
  const m = parseIp(t.text);
  if (!m || m.v !== 4) c.fail('a subnet mask (e.g. 255.255.255.0)', t, 'E_POLICY_VALUE');
  const len = maskToPrefix(m);
  if (len === null) throw c.error('E_POLICY_VALUE', `expected a contiguous subnet mask, got ${t.text}`, t);
  return len;
}

/** `X/len` IPv6 prefix token, or null if the token has no slash. */
function ipv6Prefix(c: Cursor, t: Token): AddrSpec | null {
  const slash = t.text.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIp(t.text.slice(0, slash));
  const len = t.text.slice(slash + 1);
  if (!ip || ip.v !== 6 || !/^\d{1,3}$/.test(len) || Number(len) > 128) c.fail('an IPv6 prefix X:X::X/len', t, 'E_POLICY_VALUE');
  return { kind: 'prefix', addr: ip, prefix: Number(len) };
}

/** A network address in an ACE or network-object: host X | any | any4 | any6 | X MASK | X/len | object N | object-group N. */
function addrSpec(cfg: ParsedConfig, c: Cursor, allowObjects: boolean): AddrSpec {
  const what = 'an address (any, any4, any6, host X, X MASK, X/len, object NAME, object-group NAME)';
  const t = c.peek();
  if (!t) c.fail(what);
  switch (t.lower) {
    case 'any':
      c.next();
      // before ASA 9.0 an access-list was IPv4 only (IPv6 had `ipv6 access-list`): `any` is any4,
      // as the 9.0 upgrade rewrites it
      if (cfg.release && cfg.release.major < 9) {
        cfg.release.anyAsAny4++;
        return { kind: 'any', v: 4 };
      }
      return { kind: 'any', v: null };
    case 'any4':
      c.next();
      return { kind: 'any', v: 4 };
    case 'any6':
      c.next();
      return { kind: 'any', v: 6 };
    case 'host': {
      c.next();
      const ip = ipOrName(cfg, c, 'a host address');
      return { kind: 'prefix', addr: ip, prefix: ip.v === 4 ? 32 : 128 };
    }
    case 'interface': {
      c.next();
      const n = c.word('an interface name');
      return { kind: 'never', text: `interface ${n.text}` };
    }
    case 'object':
    case 'object-group': {
      if (!allowObjects) c.fail(what, t);
      c.next();
      const n = c.word(`an ${t.lower} name`);
      const ref = { name: n.text, pos: c.pos(n) };
      if (t.lower === 'object') {
        if (!cfg.objects.has(n.text)) throw c.error('E_POLICY_REFERENCE', `object network "${n.text}" is not defined (define it before use)`, n);
        return { kind: 'object', ...ref };
      }
      const g = cfg.groups.get(n.text);
      if (!g) throw c.error('E_POLICY_REFERENCE', `object-group "${n.text}" is not defined (define it before use)`, n);
      if (g.type !== 'network') throw c.error('E_POLICY_REFERENCE', `expected a network object-group, "${n.text}" is a ${g.type} group`, n);
      return { kind: 'group', ...ref };
    }
    default: {
      c.next();
      const v6 = ipv6Prefix(c, t);
      if (v6) return v6;
      const ip = parseIp(t.text) ?? cfg.names.get(t.text);
      if (!ip) c.fail(what, t);
      if (ip.v === 6) c.fail('an IPv6 address with /len, or host X', t);
      return { kind: 'prefix', addr: ip, prefix: ipv4Mask(c) };
    }
  }
}

const PORT_OPS = new Set(['eq', 'lt', 'gt', 'neq', 'range']);

function port(c: Cursor, proto: PortProto): number {
  const t = c.word('a port (number or name such as smtp)');
  const v = portValue(t.text, proto);
  if (v === null) c.fail(`a port number 0-65535 or an ASA ${proto} port name (e.g. smtp)`, t, 'E_POLICY_VALUE');
  return v;
}

/** `eq P | lt P | gt P | neq P | range A B` (also `range A-B`, as in the 7.0 guide's class-map example). */
function portOp(c: Cursor, proto: PortProto): PortSpec {
  const op = c.keyword('eq', 'lt', 'gt', 'neq', 'range');
  if (op !== 'range') return { op: op as 'eq' | 'lt' | 'gt' | 'neq', port: port(c, proto) };
  const t = c.peek();
  if (t && /^\d+-\d+$/.test(t.text)) {
    const [a, b] = t.text.split('-').map(Number) as [number, number];
    if (a > 65535 || b > 65535 || b < a) c.fail('a port range A-B with A <= B <= 65535', t, 'E_POLICY_VALUE');
    c.next();
    return { op: 'range', lo: a, hi: b };
  }
  const lo = port(c, proto);
  const hiT = c.peek();
  const hi = port(c, proto);
  if (hi < lo) throw c.error('E_POLICY_VALUE', `expected the range end >= ${lo}`, hiT);
  return { op: 'range', lo, hi };
}

/** Optional port spec after an ACE address: an operator or a service (port) object-group. */
function optPort(cfg: ParsedConfig, c: Cursor, proto: PortProto): PortSpec {
  const t = c.peek();
  if (!t) return { op: 'any' };
  if (PORT_OPS.has(t.lower)) return portOp(c, proto);
  if (t.lower === 'object-group') {
    const n = c.peek(1);
    const g = n ? cfg.groups.get(n.text) : undefined;
    if (g && g.type === 'service' && g.portProto !== null) {
      c.next();
      c.next();
      return { op: 'group', name: (n as Token).text, pos: c.pos(n as Token) };
    }
  }
  return { op: 'any' };
}

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

/** `access-list NAME [line N] extended ...` (inserted at N, 1-based, as on the ASA), or with `no` removed. */
/**
 * An `access-list` line. One the parser does not understand is an error only if a class-map uses
 * its access-list (checked when the policy is resolved): a running config holds many access-lists
 * for access-groups, NAT, VPN filters and identity firewall rules, with syntax not modelled here
 * (`user`, `security-group`, …), and refusing the whole configuration for them helps no one.
 */
function accessListEntry(cfg: ParsedConfig, c: Cursor): Mode | null {
  try {
    return accessList(cfg, c, false);
  } catch (e) {
    const nameT = c.sl.tokens[1];
    if (!(e instanceof PolicyError) || !nameT || e.line === undefined) throw e;
    const errors = (cfg.aclErrors ??= new Map());
    if (!errors.has(nameT.text)) errors.set(nameT.text, { code: e.code, message: e.message, line: e.line, column: e.column ?? 1, text: c.sl.raw.trim() });
    if (!cfg.accessLists.has(nameT.text)) cfg.accessLists.set(nameT.text, { name: nameT.text, aces: [] });
    cfg.ignored.push({ line: c.sl.line, text: c.sl.raw.trim(), reason: `access-list entry not understood (${e.message}; column ${e.column ?? 1}): an error if a class-map uses access-list ${nameT.text}` });
    return null;
  }
}

function accessList(cfg: ParsedConfig, c: Cursor, remove: boolean): Mode | null {
  const nameT = c.word('an access-list name');
  let kind = c.peek();
  let position: number | null = null;
  if (kind?.lower === 'line') {
    c.next();
    position = c.integer('a line number', 1, 2147483647);
    kind = c.peek();
  }
  if (!kind) c.fail('"extended" or "remark"');
  if (kind.lower === 'remark') return ignore(cfg, c.sl, 'access-list remark');
  if (['standard', 'webtype', 'ethertype'].includes(kind.lower)) return ignore(cfg, c.sl, `${kind.lower} access-list (class-maps use extended ones)`);
  // `extended` is optional when typed (PIX 7.x / ASA syntax `access-list ID [line N] [extended] {deny | permit}`;
  // the ASA stores and prints the entry as `extended`): `access-list OUT permit tcp any host X eq smtp`
  if (kind.lower === 'extended' || kind.lower === 'advanced') c.next();
  else if (kind.lower !== 'permit' && kind.lower !== 'deny') c.fail('"extended", "permit", "deny", "standard" or "remark"', kind);
  // FTD prints its access-control ACL (`CSM_FW_ACL_`) as `advanced` entries: `trust` (allow without
  // deep inspection: a permit here), `ifc NAME` before an address, `rule-id N`, `event-log …`
  const ftd = kind.lower === 'advanced';
  const actionWord = ftd ? c.keyword('permit', 'deny', 'trust') : c.keyword('permit', 'deny');
  const action: 'permit' | 'deny' = actionWord === 'deny' ? 'deny' : 'permit';
  const ifc = (): string | undefined => {
    if (!ftd || c.peek()?.lower !== 'ifc') return undefined;
    c.next();
    const n = c.word('an interface name');
    return n.lower === 'any' ? undefined : n.text;
  };

  // protocol: name/number, object (service), object-group (service or protocol)
  const pT = c.word('a protocol (tcp, udp, ip, icmp, ...), object NAME or object-group NAME');
  let proto: ProtoSpec;
  if (pT.lower === 'object') {
    const n = c.word('an object service name');
    if (!cfg.serviceObjects.has(n.text)) throw c.error('E_POLICY_REFERENCE', `object service "${n.text}" is not defined (define it before use)`, n);
    proto = { kind: 'object', name: n.text, pos: c.pos(n) };
  } else if (pT.lower === 'object-group') {
    const n = c.word('an object-group name');
    const g = cfg.groups.get(n.text);
    if (!g) throw c.error('E_POLICY_REFERENCE', `object-group "${n.text}" is not defined (define it before use)`, n);
    if (g.type === 'network') throw c.error('E_POLICY_REFERENCE', `expected a service or protocol object-group, "${n.text}" is a network group`, n);
    proto = { kind: 'group', name: n.text, pos: c.pos(n) };
  } else if (/^[a-z][a-z0-9-]*$/.test(pT.lower) || /^\d{1,3}$/.test(pT.text)) {
    proto = { kind: 'name', proto: pT.lower === '6' ? 'tcp' : pT.lower === '17' ? 'udp' : pT.lower };
  } else c.fail('a protocol (tcp, udp, ip, icmp, ...)', pT);

  // a protocol object-group takes the ports too (ASDM's `object-group protocol TCPUDP` /
  // `permit object-group TCPUDP any host X eq domain`): they apply to its TCP/UDP members
  const protoGroup = proto.kind === 'group' && cfg.groups.get(proto.name)?.type === 'protocol';
  const hasPorts = (proto.kind === 'name' && PORT_PROTOCOLS.has(proto.proto)) || protoGroup;
  // a protocol group's port names may be those of any member (`eq ntp` with TCPUDP)
  const pp: PortProto = protoGroup ? 'tcp-udp' : proto.kind === 'name' && proto.proto === 'udp' ? 'udp' : 'tcp';
  const srcIfc = ifc();
  const src = addrSpec(cfg, c, true);
  const srcPort = hasPorts ? optPort(cfg, c, pp) : ({ op: 'any' } as PortSpec);
  const dstIfc = ifc();
  const dst = addrSpec(cfg, c, true);
  let dstPort: PortSpec = { op: 'any' };
  if (hasPorts) dstPort = optPort(cfg, c, pp);
  let inactive = false;
  let timeRange: Ace['timeRange'];
  // trailing options: log [...], time-range NAME, inactive. ICMP types etc. follow non-port protocols.
  const modelsRest = proto.kind !== 'name' || hasPorts || proto.proto === 'ip';
  while (!c.atEnd()) {
    const t = c.next() as Token;
    if (t.lower === 'inactive') inactive = true;
    else if (t.lower === 'time-range') {
      const n = c.word('a time-range name');
      timeRange = { name: n.text, pos: c.pos(n) };
    } else if (t.lower === 'log') {
      while (!c.atEnd() && !['inactive', 'time-range', 'rule-id', 'event-log'].includes((c.peek() as Token).lower)) c.next();
    } else if (ftd && (t.lower === 'rule-id' || t.lower === 'event-log')) {
      c.word(t.lower === 'rule-id' ? 'a rule id' : 'flow-start, flow-end or both');
    } else if (modelsRest) c.fail(ftd ? '"log", "time-range", "inactive", "rule-id", "event-log" or end of line' : '"log", "time-range", "inactive" or end of line', t);
  }
  const aceBase: Omit<Ace, 'text'> = { action, proto, src, srcPort, dst, dstPort, inactive, line: c.sl.line };
  if (timeRange) aceBase.timeRange = timeRange;
  if (srcIfc !== undefined) aceBase.srcIfc = srcIfc;
  if (dstIfc !== undefined) aceBase.dstIfc = dstIfc;
  if (actionWord === 'trust') aceBase.trust = true;
  const ace: Ace = { ...aceBase, text: formatAce(aceBase) };
  if (remove) {
    removeAce(cfg, c, nameT.text, ace.text);
    return null;
  }
  let acl = cfg.accessLists.get(nameT.text);
  if (!acl) {
    acl = { name: nameT.text, aces: [] } as AccessList;
    cfg.accessLists.set(nameT.text, acl);
  }
  // the same entry twice is one entry (the ASA keeps the first); a set per list keeps a long ACL linear
  let texts = aceTexts.get(acl);
  if (texts === undefined) {
    texts = new Set(acl.aces.map((a) => a.text));
    aceTexts.set(acl, texts);
  }
  if (!texts.has(ace.text)) {
    texts.add(ace.text);
    // `line N` inserts before the entry now at N; beyond the end appends
    if (position !== null && position <= acl.aces.length) acl.aces.splice(position - 1, 0, ace);
    else acl.aces.push(ace);
  }
  return null;
}

/** `no access-list NAME extended ...`: removes the entry with that text (a warning when there is none). */
function removeAce(cfg: ParsedConfig, c: Cursor, name: string, text: string): void {
  const acl = cfg.accessLists.get(name);
  const k = acl ? acl.aces.findIndex((a) => a.text === text) : -1;
  if (!acl || k < 0) {
    cfg.warnings.push({
      line: c.sl.line,
      level: 'warning',
      message: `"${c.sl.raw.trim()}" removed nothing: ${acl ? `access-list ${name} has no entry "${text}"` : `access-list ${name} does not exist`}`,
    });
    return;
  }
  acl.aces.splice(k, 1);
  aceTexts.get(acl)?.delete(text);
}

/** The entry texts of each access-list being parsed (made from its entries on first use). */
const aceTexts = new WeakMap<AccessList, Set<string>>();

function objectCommand(cfg: ParsedConfig, c: Cursor): Mode {
  const type = c.keyword('network', 'service');
  const n = c.word(`an object ${type} name`);
  c.end();
  if (cfg.groups.has(n.text)) throw c.error('E_POLICY_VALUE', `"${n.text}" is already an object-group name`, n);
  if (type === 'network') {
    const obj: NetworkObject = cfg.objects.get(n.text) ?? { name: n.text, addr: null, pos: c.pos(n) };
    cfg.objects.set(n.text, obj);
    return { kind: 'object-network', target: obj };
  }
  const obj: ServiceObject = cfg.serviceObjects.get(n.text) ?? { name: n.text, service: null, pos: c.pos(n) };
  cfg.serviceObjects.set(n.text, obj);
  return { kind: 'object-service', target: obj };
}

function objectGroup(cfg: ParsedConfig, c: Cursor): Mode {
  const typeT = c.word('an object-group type');
  const type = typeT.lower;
  if (type !== 'network' && type !== 'service' && type !== 'protocol') return ignore(cfg, c.sl, `object-group ${type} not modelled`);
  const n = c.word('an object-group name');
  let portProto: PortProto | null = null;
  if (type === 'service' && !c.atEnd()) portProto = c.keyword('tcp', 'udp', 'tcp-udp') as PortProto;
  c.end();
  if (cfg.objects.has(n.text) || cfg.serviceObjects.has(n.text)) throw c.error('E_POLICY_VALUE', `"${n.text}" is already an object name`, n);
  const existing = cfg.groups.get(n.text);
  if (existing && existing.type !== type) throw c.error('E_POLICY_VALUE', `object-group "${n.text}" is already a ${existing.type} group`, n);
  const g: ObjectGroup = existing ?? { name: n.text, type, portProto, network: [], service: [], protocols: [], pos: c.pos(n) };
  cfg.groups.set(n.text, g);
  return { kind: type === 'network' ? 'og-network' : type === 'service' ? 'og-service' : 'og-protocol', target: g };
}

function regexCommand(cfg: ParsedConfig, c: Cursor): void {
  const n = c.word('a regex name');
  if (n.text.length > REGEX_LIMITS.nameMax) throw c.error('E_POLICY_VALUE', `regex names are at most ${REGEX_LIMITS.nameMax} characters (this one has ${n.text.length})`, n);
  const p = c.word('a regular expression');
  const pattern = rest(c.sl, p);
  if (pattern.length > REGEX_LIMITS.patternMax)
    throw c.error('E_POLICY_VALUE', `regular expressions are at most ${REGEX_LIMITS.patternMax} characters (this one has ${pattern.length})`, p);
  checkRegex(c, pattern, p.col);
  // “…” from a word processor or e-mail: not the ASA's quote metacharacter `"`, so they are literal
  // characters the address must contain, and the regex silently never matches
  const curly = /[\u2018\u2019\u201c\u201d]/.exec(pattern);
  if (curly)
    cfg.warnings.push({
      line: c.sl.line,
      level: 'warning',
      message: `regex ${n.text}: typographic quote "${curly[0]}" (U+${curly[0].charCodeAt(0).toString(16).toUpperCase()}) at column ${p.col + curly.index} is a literal character, not the ASA's quote metacharacter '"' (U+0022): the text was copied from a word processor or e-mail, and the pattern matches only addresses that contain that character; retype the quotes`,
    });
  cfg.regexes.set(n.text, { name: n.text, pattern, pos: c.pos(n), patternCol: p.col });
}

/** Syntax-checks a pattern, reporting errors at their column in the line. */
export function checkRegex(c: Cursor, pattern: string, col: number): void {
  try {
    new CompiledRegex(pattern); // parses and builds the NFA: the state limit is checked here too
  } catch (e) {
    if (e instanceof RegexSyntaxError) {
      const ch = pattern[e.index];
      throw new PolicyError('E_POLICY_VALUE', `bad regular expression: expected ${e.message}${ch !== undefined ? `, at "${ch}"` : ''}`, {
        file: c.file,
        line: c.sl.line,
        column: col + e.index,
      });
    }
    throw e;
  }
}

function classMap(cfg: ParsedConfig, c: Cursor): Mode {
  const t = c.word('a class-map name or "type"');
  if (t.lower === 'type') {
    const type = c.word('a class-map type (regex, inspect, management)');
    if (type.lower === 'regex') {
      c.keyword('match-any');
      const n = c.word('a class-map name');
      c.end();
      const def: RegexClassDef = cfg.regexClasses.get(n.text) ?? { name: n.text, regexes: [], pos: c.pos(n) };
      cfg.regexClasses.set(n.text, def);
      return { kind: 'class-map-regex', target: def };
    }
    if (type.lower === 'inspect') {
      const proto = c.peek();
      if (proto && (proto.lower === 'esmtp' || proto.lower === 'smtp'))
        throw c.error(
          'E_POLICY_SYNTAX',
          'class-map type inspect esmtp does not exist on the ASA: write the match commands directly in "policy-map type inspect esmtp NAME" (ASA-ESMTP-ADDENDUM B-13)',
          proto,
        );
    }
    return ignore(cfg, c.sl, `class-map type ${type.lower} not modelled`);
  }
  c.end();
  const def: ClassMapDef = cfg.classMaps.get(t.text) ?? { name: t.text, description: null, matches: [], pos: c.pos(t) };
  cfg.classMaps.set(t.text, def);
  return { kind: 'class-map', target: def };
}

function policyMap(cfg: ParsedConfig, c: Cursor): Mode {
  const t = c.word('a policy-map name or "type"');
  if (t.lower === 'type') {
    const type = c.word('a policy-map type');
    if (type.lower === 'inspect') {
      const proto = c.word('an inspection protocol');
      if (proto.lower === 'esmtp') {
        const n = c.word('a policy-map name');
        c.end();
        let def = cfg.esmtpMaps.get(n.text);
        if (!def) {
          def = {
            name: n.text,
            description: null,
            parameters: { maskBanner: false, mailRelay: null, specialCharacter: null, allowTls: null },
            matches: [],
            pos: c.pos(n),
          };
          cfg.esmtpMaps.set(n.text, def);
        }
        return { kind: 'pmap-esmtp', target: def };
      }
      return ignore(cfg, c.sl, `policy-map type inspect ${proto.lower} not modelled`);
    }
    return ignore(cfg, c.sl, `policy-map type ${type.lower} not modelled`);
  }
  c.end();
  const def: PolicyMapDef = cfg.policyMaps.get(t.text) ?? { name: t.text, description: null, classes: [], pos: c.pos(t) };
  cfg.policyMaps.set(t.text, def);
  return { kind: 'pmap', target: def };
}

/** Who uses a policy-map, class-map, regex or regex class (the ASA refuses to remove one in use). */
function usersOf(cfg: ParsedConfig, kind: 'policy-map' | 'esmtp-map' | 'class-map' | 'regex-class' | 'regex', name: string): string | null {
  switch (kind) {
    case 'policy-map': {
      const sp = cfg.servicePolicies.find((x) => x.policyMap === name);
      return sp ? `service-policy ${name} ${sp.scope === 'global' ? 'global' : `interface ${sp.scope}`}` : null;
    }
    case 'esmtp-map':
      for (const pm of cfg.policyMaps.values())
        for (const k of pm.classes) if (k.inspects.some((i) => i.protocol === 'esmtp' && (i.map ?? '_default_esmtp_map') === name)) return `class ${k.className} of policy-map ${pm.name}`;
      return null;
    case 'class-map':
      for (const pm of cfg.policyMaps.values()) if (pm.classes.some((k) => k.className === name)) return `policy-map ${pm.name}`;
      return null;
    case 'regex-class':
    case 'regex':
      for (const m of cfg.esmtpMaps.values())
        for (const x of m.matches) if (x.ref && x.ref.name === name && (x.ref.type === 'class') === (kind === 'regex-class')) return `"${x.text}" in policy-map type inspect esmtp ${m.name}`;
      if (kind === 'regex') for (const rc of cfg.regexClasses.values()) if (rc.regexes.some((r) => r.name === name)) return `class-map type regex match-any ${rc.name}`;
      return null;
  }
}

/** `no policy-map [type inspect esmtp] N`, `no class-map [type regex match-any] N`, `no regex N`. */
function removeObject(cfg: ParsedConfig, c: Cursor): void {
  const what = (c.next() as Token).lower;
  let kind: Parameters<typeof usersOf>[1];
  let table: Map<string, unknown>;
  let label: string;
  if (what === 'regex') {
    kind = 'regex';
    table = cfg.regexes;
    label = 'regex';
  } else if (c.peek()?.lower === 'type') {
    c.next();
    const type = c.word('a type');
    if (what === 'policy-map' && type.lower === 'inspect' && c.peek()?.lower === 'esmtp') {
      c.next();
      kind = 'esmtp-map';
      table = cfg.esmtpMaps;
      label = 'policy-map type inspect esmtp';
    } else if (what === 'class-map' && type.lower === 'regex') {
      if (c.peek()?.lower === 'match-any') c.next();
      kind = 'regex-class';
      table = cfg.regexClasses;
      label = 'class-map type regex match-any';
    } else {
      cfg.ignored.push({ line: c.sl.line, text: c.sl.raw.trim(), reason: `no ${what} type ${type.lower} not modelled` });
      return;
    }
  } else {
    kind = what === 'policy-map' ? 'policy-map' : 'class-map';
    table = what === 'policy-map' ? cfg.policyMaps : cfg.classMaps;
    label = what;
  }
  const n = c.word(`a ${label} name`);
  if (kind === 'regex') while (!c.atEnd()) c.next(); // `no regex NAME PATTERN` may repeat the pattern
  c.end();
  if (!table.has(n.text)) {
    cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: ${label} ${n.text} does not exist` });
    return;
  }
  const user = usersOf(cfg, kind, n.text);
  if (user) throw c.error('E_POLICY_REFERENCE', `${label} ${n.text} is in use by ${user}; remove that first`, n);
  table.delete(n.text);
}

function servicePolicy(cfg: ParsedConfig, c: Cursor, remove: boolean): void {
  const n = c.word('a policy-map name');
  const where = c.keyword('global', 'interface');
  let scope = 'global';
  if (where === 'interface') scope = c.word('an interface name (nameif)').text;
  // `fail-close` and similar trailing keywords are accepted and ignored
  cfg.touchedServicePolicies = true;
  const same = (sp: { scope: string }) => sp.scope === scope;
  if (remove) {
    const before = cfg.servicePolicies.length;
    cfg.servicePolicies = cfg.servicePolicies.filter((sp) => !(same(sp) && sp.policyMap === n.text));
    if (cfg.servicePolicies.length === before)
      cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: no such service-policy is applied` });
    return;
  }
  const existing = cfg.servicePolicies.find(same);
  if (existing && existing.policyMap !== n.text) {
    const where = existing.inherited ? 'the factory default' : `line ${existing.pos.line}`;
    const target = scope === 'global' ? 'global' : `interface ${scope}`;
    throw c.error(
      'E_POLICY_VALUE',
      `${scope === 'global' ? 'a global' : `interface ${scope}`} service-policy is already set (policy-map ${existing.policyMap}, ${where}); remove it first with "no service-policy ${existing.policyMap} ${target}"`,
      n,
    );
  }
  if (!existing) cfg.servicePolicies.push({ policyMap: n.text, scope, pos: c.pos(n) });
}

// ---- sub-modes --------------------------------------------------------------------------

function subCommand(cfg: ParsedConfig, mode: Mode, sl: SourceLine, file: string): Mode | null {
  const c = new Cursor(sl, file);
  switch (mode.kind) {
    case 'object-network':
      return objectNetworkLine(cfg, mode.target as NetworkObject, c);
    case 'object-service':
      (mode.target as ServiceObject).service = objectServiceLine(cfg, c);
      return null;
    case 'og-network':
    case 'og-service':
    case 'og-protocol':
      return groupLine(cfg, mode.target as ObjectGroup, c);
    case 'class-map':
      return classMapLine(cfg, mode.target as ClassMapDef, c);
    case 'class-map-regex':
      return regexClassLine(cfg, mode.target as RegexClassDef, c);
    case 'pmap-esmtp':
      return esmtpMapLine(cfg, mode.target as EsmtpMapDef, c);
    case 'pmap-esmtp-params':
      esmtpParameterLine(mode.target as EsmtpMapDef, c);
      return null;
    case 'pmap-esmtp-match':
      esmtpActionLine(cfg, mode.target as EsmtpMatchDraft, c);
      return null;
    case 'pmap':
      return pmapLine(cfg, mode.target as PolicyMapDef, c);
    case 'pmap-class':
      return pmapClassLine(cfg, mode.target as PolicyClassDef, c);
    case 'time-range':
      return timeRangeLine(cfg, mode.target as TimeRangeDef, c);
    default:
      return null;
  }
}

function objectNetworkLine(cfg: ParsedConfig, obj: NetworkObject, c: Cursor): Mode | null {
  const w = c.next() as Token;
  switch (w.lower) {
    case 'description':
      return null;
    case 'nat':
      return ignore(cfg, c.sl, 'object NAT not modelled (ACLs use real addresses)');
    case 'host': {
      const ip = ipOrName(cfg, c, 'a host address');
      obj.addr = { kind: 'prefix', addr: ip, prefix: ip.v === 4 ? 32 : 128 };
      break;
    }
    case 'subnet': {
      const t = c.word('a subnet (X MASK or X/len)');
      const v6 = ipv6Prefix(c, t);
      if (v6) obj.addr = v6;
      else {
        const ip = parseIp(t.text);
        if (!ip || ip.v !== 4) c.fail('an IPv4 subnet X MASK or an IPv6 prefix X/len', t, 'E_POLICY_VALUE');
        obj.addr = { kind: 'prefix', addr: ip, prefix: ipv4Mask(c) };
      }
      break;
    }
    case 'range': {
      const lo = ipOrName(cfg, c, 'the first address of the range');
      const hiT = c.peek();
      const hi = ipOrName(cfg, c, 'the last address of the range');
      if (hi.v !== lo.v) throw c.error('E_POLICY_VALUE', 'expected both range ends in the same address family', hiT);
      obj.addr = { kind: 'range', lo, hi };
      break;
    }
    case 'fqdn': {
      obj.addr = { kind: 'never', text: rest(c.sl, w) };
      return null;
    }
  }
  c.end();
  return null;
}

function serviceEntry(c: Cursor, legacyDst: boolean): ServiceEntry {
  const pT = c.word('a protocol (tcp, udp, tcp-udp, ip, icmp, ...)');
  const proto = pT.lower;
  const e: ServiceEntry = { proto, src: { op: 'any' }, dst: { op: 'any' } };
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'tcp-udp' && proto !== 'sctp') {
    // icmp types and other protocol arguments are not modelled
    while (!c.atEnd()) c.next();
    return e;
  }
  const pp: PortProto = proto === 'sctp' ? 'tcp' : (proto as PortProto);
  while (!c.atEnd()) {
    const t = c.peek() as Token;
    if (t.lower === 'source') {
      c.next();
      e.src = portOp(c, pp);
    } else if (t.lower === 'destination') {
      c.next();
      e.dst = portOp(c, pp);
    } else if (legacyDst && PORT_OPS.has(t.lower)) {
      e.dst = portOp(c, pp); // 8.2-style `service-object tcp eq smtp`
    } else c.fail('"source", "destination" or end of line', t);
  }
  return e;
}

function objectServiceLine(_cfg: ParsedConfig, c: Cursor): ServiceEntry | null {
  const w = c.next() as Token;
  if (w.lower === 'description') return null;
  return serviceEntry(c, false);
}

function groupRef(cfg: ParsedConfig, c: Cursor, type: ObjectGroup['type'], self: ObjectGroup): { name: string; pos: { line: number; col: number } } {
  const n = c.word('an object-group name');
  const g = cfg.groups.get(n.text);
  if (!g) throw c.error('E_POLICY_REFERENCE', `object-group "${n.text}" is not defined (define it before use)`, n);
  if (g.type !== type) throw c.error('E_POLICY_REFERENCE', `expected a ${type} object-group, "${n.text}" is a ${g.type} group`, n);
  if (g === self) throw c.error('E_POLICY_REFERENCE', `object-group "${n.text}" cannot contain itself`, n);
  const path = pathTo(cfg, g, self);
  if (path)
    throw c.error(
      'E_POLICY_REFERENCE',
      `object-group "${n.text}" already contains "${self.name}" (${shortPath([...path, self.name])}): a group object which causes the group hierarchy to become circular is not allowed`,
      n,
    );
  c.end();
  containedGroups(cfg).add(n.text);
  return { name: n.text, pos: c.pos(n) };
}

/** A -> B -> C, with the middle of a long path elided. */
function shortPath(names: string[]): string {
  const shown = names.length > 8 ? [...names.slice(0, 4), `... ${names.length - 6} more ...`, ...names.slice(-2)] : names;
  return shown.join(' -> ');
}

/** The entry list of a group's type. */
function entriesOf(g: ObjectGroup): unknown[] {
  return g.type === 'network' ? g.network : g.type === 'service' ? g.service : g.protocols;
}

/** An entry without source positions, to compare two entries. */
const entryKey = (e: unknown): string => JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : v));

/**
 * A line in an object-group mode. `no network-object|port-object|service-object|protocol-object|group-object ...`
 * removes that entry (a warning when the group has none); the entry is parsed as the positive form.
 */
function groupLine(cfg: ParsedConfig, g: ObjectGroup, c: Cursor): Mode | null {
  if (c.peek()?.lower !== 'no') {
    const list = entriesOf(g);
    const before = list.length;
    const mode = g.type === 'network' ? ogNetworkLine(cfg, g, c) : g.type === 'service' ? ogServiceLine(cfg, g, c) : ogProtocolLine(cfg, g, c);
    // an entry the group already has is not added twice (the ASA: "object already exists"), so one `no` removes it
    if (list.length > before) {
      const key = entryKey(list[list.length - 1]);
      if (list.slice(0, -1).some((e) => entryKey(e) === key)) list.pop();
    }
    return mode;
  }
  c.next();
  const w = c.peek() as Token;
  if (w.lower === 'description') return null;
  const list = entriesOf(g);
  let key: string;
  if (w.lower === 'group-object') {
    // the named group may be gone already: compare by name, no reference check
    c.next();
    const n = c.word('an object-group name');
    c.end();
    key = entryKey({ kind: 'group', name: n.text });
  } else {
    const before = list.length;
    if (g.type === 'network') ogNetworkLine(cfg, g, c);
    else if (g.type === 'service') ogServiceLine(cfg, g, c);
    else ogProtocolLine(cfg, g, c);
    if (list.length === before) return null;
    key = entryKey(list.pop());
  }
  const k = list.findIndex((e) => entryKey(e) === key);
  if (k < 0) cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: object-group ${g.name} has no such entry` });
  else list.splice(k, 1);
  return null;
}

/**
 * Names of the groups from `from` down to (not including) `to` through group-object lines, or null
 * when `to` is not inside `from`. Iterative: a hierarchy may be thousands of levels deep.
 */
function pathTo(cfg: ParsedConfig, from: ObjectGroup, to: ObjectGroup): string[] | null {
  // only a group that some group contains can close a cycle: most new groups skip the walk
  if (!containedGroups(cfg).has(to.name)) return null;
  const parent = new Map<ObjectGroup, ObjectGroup | null>([[from, null]]);
  const stack: ObjectGroup[] = [from];
  while (stack.length > 0) {
    const g = stack.pop() as ObjectGroup;
    if (g === to) {
      const path: string[] = [];
      for (let p = parent.get(g) ?? null; p !== null; p = parent.get(p) ?? null) path.unshift(p.name);
      return path;
    }
    for (const name of childGroups(g)) {
      const child = cfg.groups.get(name);
      if (child && !parent.has(child)) {
        parent.set(child, g);
        stack.push(child);
      }
    }
  }
  return null;
}

/** Names some group-object line names (kept while parsing; a removal leaves the name: only a walk more). */
const contained = new WeakMap<ParsedConfig, Set<string>>();
function containedGroups(cfg: ParsedConfig): Set<string> {
  let set = contained.get(cfg);
  if (set === undefined) {
    set = new Set();
    for (const g of cfg.groups.values()) for (const n of childGroups(g)) set.add(n);
    contained.set(cfg, set);
  }
  return set;
}

function childGroups(g: ObjectGroup): string[] {
  const out: string[] = [];
  for (const e of g.network) if (e.kind === 'group') out.push(e.name);
  for (const e of g.service) if (e.kind === 'group') out.push(e.name);
  for (const e of g.protocols) if (e.kind === 'group') out.push(e.name);
  return out;
}

function ogNetworkLine(cfg: ParsedConfig, g: ObjectGroup, c: Cursor): Mode | null {
  const w = c.next() as Token;
  if (w.lower === 'description') return null;
  if (w.lower === 'group-object') {
    g.network.push({ kind: 'group', ...groupRef(cfg, c, 'network', g) });
    return null;
  }
  // network-object host X | X MASK | X/len | object NAME
  const t = c.peek();
  if (t?.lower === 'object') {
    c.next();
    const n = c.word('an object network name');
    if (!cfg.objects.has(n.text)) throw c.error('E_POLICY_REFERENCE', `object network "${n.text}" is not defined (define it before use)`, n);
    c.end();
    g.network.push({ kind: 'object', name: n.text, pos: c.pos(n) });
    return null;
  }
  const a = addrSpec(cfg, c, false);
  if (a.kind === 'any') c.fail('host X, X MASK, X/len or object NAME', t);
  c.end();
  g.network.push(a);
  return null;
}

function ogServiceLine(cfg: ParsedConfig, g: ObjectGroup, c: Cursor): Mode | null {
  const w = c.next() as Token;
  switch (w.lower) {
    case 'description':
      return null;
    case 'group-object':
      g.service.push({ kind: 'group', ...groupRef(cfg, c, 'service', g) });
      return null;
    case 'port-object': {
      if (g.portProto === null) throw c.error('E_POLICY_SYNTAX', `port-object needs a protocol on the group: "object-group service ${g.name} tcp"`, w);
      const spec = portOp(c, g.portProto);
      c.end();
      g.service.push({ kind: 'port', spec });
      return null;
    }
    case 'service-object': {
      if (c.peek()?.lower === 'object') {
        c.next();
        const n = c.word('an object service name');
        if (!cfg.serviceObjects.has(n.text)) throw c.error('E_POLICY_REFERENCE', `object service "${n.text}" is not defined (define it before use)`, n);
        c.end();
        g.service.push({ kind: 'service-object', name: n.text, pos: c.pos(n) });
        return null;
      }
      g.service.push({ kind: 'service', entry: serviceEntry(c, true) });
      return null;
    }
  }
  return null;
}

function ogProtocolLine(cfg: ParsedConfig, g: ObjectGroup, c: Cursor): Mode | null {
  const w = c.next() as Token;
  if (w.lower === 'description') return null;
  if (w.lower === 'group-object') {
    g.protocols.push({ kind: 'group', ...groupRef(cfg, c, 'protocol', g) });
    return null;
  }
  const p = c.word('a protocol name or number');
  c.end();
  g.protocols.push({ kind: 'name', proto: p.lower === '6' ? 'tcp' : p.lower === '17' ? 'udp' : p.lower });
  return null;
}

/** A class-map match without its source position, to compare two matches. */
function matchKey(m: ClassMatch): string {
  switch (m.kind) {
    case 'access-list':
      return `access-list ${m.name}`;
    case 'unmodelled':
      return `unmodelled ${m.text.replace(/^no\s+/i, '').toLowerCase()}`;
    case 'port':
      return `port ${m.proto} ${JSON.stringify({ ...m.spec, pos: undefined })}`;
    default:
      return m.kind;
  }
}

function classMapLine(cfg: ParsedConfig, def: ClassMapDef, c: Cursor): Mode | null {
  let neg = false;
  if (c.peek()?.lower === 'no') {
    c.next();
    neg = true;
  }
  const w = c.next() as Token;
  if (w.lower === 'description') {
    def.description = neg ? null : c.atEnd() ? '' : rest(c.sl, c.peek() as Token);
    return null;
  }
  const before = def.matches.slice();
  const what = c.peek();
  if (!what) c.fail('"access-list", "port", "default-inspection-traffic" or "any"');
  switch (what.lower) {
    case 'access-list': {
      c.next();
      const n = c.word('an access-list name');
      c.end();
      def.matches.push({ kind: 'access-list', name: n.text, pos: c.pos(n) });
      break;
    }
    case 'port': {
      c.next();
      if (c.peek()?.lower === 'sctp') {
        // ASA 9.5+ `match port sctp eq N` (M3UA, Diameter): an SCTP class never holds a TCP connection
        def.matches.push({ kind: 'unmodelled', text: c.sl.raw.trim(), line: c.sl.line });
        if (!neg) cfg.ignored.push({ line: c.sl.line, text: c.sl.raw.trim(), reason: `class-map match port sctp selects SCTP, never a TCP connection: class ${def.name} never matches for esmtp` });
        break;
      }
      const proto = c.keyword('tcp', 'udp', 'sctp') as 'tcp' | 'udp';
      const opT = c.peek();
      const spec = portOp(c, proto);
      if (spec.op !== 'eq' && spec.op !== 'range') c.fail('"eq" or "range"', opT);
      c.end();
      def.matches.push({ kind: 'port', proto, spec });
      break;
    }
    case 'default-inspection-traffic':
      c.next();
      c.end();
      def.matches.push({ kind: 'default-inspection-traffic' });
      break;
    case 'any':
      c.next();
      c.end();
      def.matches.push({ kind: 'any' });
      break;
    default:
      def.matches.push({ kind: 'unmodelled', text: c.sl.raw.trim(), line: c.sl.line });
      if (!neg) cfg.ignored.push({ line: c.sl.line, text: c.sl.raw.trim(), reason: `class-map match ${what.lower} not modelled: class ${def.name} never matches` });
  }
  // the line just read is the last element; `no match X` removes X, and X twice is one X
  const added = def.matches.pop() as ClassMatch;
  const key = matchKey(added);
  def.matches = before;
  if (neg) {
    const k = def.matches.findIndex((m) => matchKey(m) === key);
    if (k < 0) cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: class-map ${def.name} has no such match` });
    else def.matches.splice(k, 1);
    return null;
  }
  if (def.matches.some((m) => matchKey(m) === key)) return null;
  def.matches.push(added);
  if (added.kind === 'unmodelled') return null;
  // the ASA allows one match per class-map, except default-inspection-traffic narrowed by an access-list
  const kinds = def.matches.map((m) => m.kind).sort();
  const ok = def.matches.length === 1 || (def.matches.length === 2 && kinds[0] === 'access-list' && kinds[1] === 'default-inspection-traffic');
  if (!ok)
    throw c.error(
      'E_POLICY_SYNTAX',
      `class-map ${def.name} already has a match command: a class-map takes one (or match access-list with match default-inspection-traffic)`,
      what,
    );
  return null;
}

function regexClassLine(cfg: ParsedConfig, def: RegexClassDef, c: Cursor): Mode | null {
  let neg = false;
  if (c.peek()?.lower === 'no') {
    c.next();
    neg = true;
  }
  const w = c.next() as Token;
  if (w.lower === 'description') return null;
  c.keyword('regex');
  const n = c.word('a regex name');
  c.end();
  const k = def.regexes.findIndex((r) => r.name === n.text);
  if (neg) {
    if (k < 0) cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: class-map type regex match-any ${def.name} has no such match` });
    else def.regexes.splice(k, 1);
  } else if (k < 0) def.regexes.push({ name: n.text, pos: c.pos(n) });
  return null;
}

// ---- policy-map type inspect esmtp ------------------------------------------------------


function esmtpMapLine(cfg: ParsedConfig, def: EsmtpMapDef, c: Cursor): Mode | null {
  let neg = false;
  if (c.peek()?.lower === 'no') {
    c.next();
    neg = true;
  }
  const w = c.peek() as Token;
  if (neg) {
    if (w.lower === 'description') {
      def.description = null;
      return null;
    }
    // `no match CRITERION` removes that match line and its actions
    const m = esmtpMatch(c, 1);
    const k = def.matches.findIndex((x) => esmtpMatchKey(x) === esmtpMatchKey(m));
    if (k < 0) cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: policy-map type inspect esmtp ${def.name} has no such match` });
    else def.matches.splice(k, 1);
    return null;
  }
  c.next();
  switch (w.lower) {
    case 'description':
      def.description = c.atEnd() ? '' : rest(c.sl, c.peek() as Token);
      return null;
    case 'parameters':
      c.end();
      return { kind: 'pmap-esmtp-params', target: def };
    case 'class':
      throw c.error(
        'E_POLICY_SYNTAX',
        'expected "match" here: ESMTP inspection policy maps take match commands directly (class-map type inspect esmtp does not exist, ASA-ESMTP-ADDENDUM B-13)',
        w,
      );
    default: {
      c.i--;
      const m = esmtpMatch(c, 0);
      // entering an existing match line again edits it (the same line twice is one line)
      const same = def.matches.find((x) => esmtpMatchKey(x) === esmtpMatchKey(m));
      if (same) return { kind: 'pmap-esmtp-match', target: same };
      def.matches.push(m);
      return { kind: 'pmap-esmtp-match', target: m };
    }
  }
}

/**
 * Reads `match [not] CRITERION` from the cursor (at `match`); `skip` tokens before it (a `no`).
 * Ranks criterion specs by how many of their keywords the line has, for the error message.
 */
function esmtpMatch(c: Cursor, skip: number): EsmtpMatchDraft {
  const startCol = (c.sl.tokens[skip] as Token).col;
  c.keyword('match');
  let not = false;
  if (c.peek()?.lower === 'not') {
    c.next();
    not = true;
  }
  const critStart = c.i;
  let best: { spec: CriterionSpec; n: number } | null = null;
  let chosen: CriterionSpec | null = null;
  // longest keyword sequences first: 'sender-address length gt' before 'sender-address'
  const specs = [...CRITERIA].sort((a, b) => b.keywords.length - a.keywords.length);
  for (const spec of specs) {
    let n = 0;
    while (n < spec.keywords.length && c.peek(n)?.lower === (spec.keywords[n] as string).toLowerCase()) n++;
    if (n === spec.keywords.length) {
      // a matcher criterion needs regex/class next; a list criterion must not swallow 'length'
      chosen = spec;
      break;
    }
    if (!best || n > best.n) best = { spec, n };
  }
  if (!chosen) {
    const n = best?.n ?? 0;
    const options = new Set<string>();
    for (const spec of CRITERIA) {
      let k = 0;
      while (k < n && k < spec.keywords.length && c.peek(k)?.lower === (spec.keywords[k] as string).toLowerCase()) k++;
      if (k === n && spec.keywords[n] !== undefined) options.add(spec.keywords[n] as string);
    }
    c.i += n;
    const list = [...options].map((o) => `"${o}"`).join(', ');
    c.fail(n === 0 ? `a match criterion (${list})` : options.size === 1 ? list : `one of ${list}`);
  }
  c.i += chosen.keywords.length;
  const draft: EsmtpMatchDraft = {
    text: '',
    criterionText: '',
    not,
    kind: chosen.kind,
    gt: null,
    words: [],
    ref: null,
    actions: { primary: null, log: false, rateLimit: null },
    hasAction: false,
    pos: { line: c.sl.line, col: startCol },
  };
  const v = chosen.value;
  switch (v.type) {
    case 'number':
      draft.gt = c.integer(`the value of "${chosen.keywords.join(' ')}"`, v.min, v.max);
      break;
    case 'list': {
      const vocab = v.vocabulary.map((x) => x.toLowerCase());
      if (c.atEnd()) c.fail(`one or more of ${v.vocabulary.join(' ')}`);
      while (!c.atEnd()) {
        const t = c.next() as Token;
        if (!vocab.includes(t.lower))
          throw c.error('E_POLICY_VALUE', `expected one of ${v.vocabulary.join(' ')} after "${chosen.keywords.join(' ')}", got "${t.text}"`, t);
        const canon = v.canonical === 'upper' ? t.text.toUpperCase() : t.lower;
        if (!draft.words.includes(canon)) draft.words.push(canon);
      }
      break;
    }
    case 'matcher': {
      // Cisco: `regex {regex_name | class class_name}`; a bare `class NAME` is accepted too
      const first = c.keyword('regex', 'class');
      let type: 'regex' | 'class' = first === 'class' ? 'class' : 'regex';
      const next = c.peek();
      if (first === 'regex' && next?.lower === 'class' && c.peek(1) !== undefined) {
        c.next();
        type = 'class';
      }
      const n = c.word(type === 'regex' ? 'a regex name' : 'a regex class-map name (class-map type regex match-any)');
      draft.ref = { type, name: n.text, pos: c.pos(n) };
      break;
    }
  }
  c.end();
  let critTokens = c.sl.tokens.slice(critStart).map((t) => t.text);
  // the Cisco form for a regex class, whichever way it was written: `... regex class NAME`
  if (draft.ref?.type === 'class' && critTokens[critTokens.length - 3]?.toLowerCase() !== 'regex')
    critTokens = [...critTokens.slice(0, -2), 'regex', ...critTokens.slice(-2)];
  draft.criterionText = critTokens.join(' ');
  draft.text = ['match', ...(not ? ['not'] : []), ...critTokens].join(' ');
  return draft;
}

function esmtpActionLine(cfg: ParsedConfig, m: EsmtpMatchDraft, c: Cursor): void {
  const spec = CRITERIA.find((s) => s.kind === m.kind) as CriterionSpec;
  const allowed = spec.actions;
  let neg = false;
  if (c.peek()?.lower === 'no') {
    c.next();
    neg = true;
  }
  const w = c.next() as Token;
  const name = w.lower as ActionName;
  if (!allowed.includes(name))
    throw c.error('E_POLICY_VALUE', `action "${w.lower}" is not available for "match ${criterionSyntax(spec)}"; expected one of ${allowed.join(', ')}`, w);
  if (neg) {
    removeAction(cfg, m, name, c);
    return;
  }
  // the first action given to a factory-default match replaces the default's actions
  if (m.inherited) {
    m.actions = { primary: null, log: false, rateLimit: null };
    m.inherited = false;
  }
  m.hasAction = true;
  const setPrimary = (p: 'drop-connection' | 'reset' | 'mask') => {
    if (m.actions.primary !== null && m.actions.primary !== p)
      throw c.error('E_POLICY_VALUE', `this match already has the action "${m.actions.primary}"; a match takes one of drop-connection, reset, mask (plus log)`, w);
    if (m.actions.rateLimit !== null) throw c.error('E_POLICY_VALUE', 'this match already has "rate-limit"; rate-limit cannot be combined with drop-connection, reset or mask', w);
    m.actions.primary = p;
  };
  switch (name) {
    case 'drop-connection':
    case 'reset':
    case 'mask':
      setPrimary(name);
      if (!c.atEnd()) {
        c.keyword('log');
        m.actions.log = true;
      }
      c.end();
      return;
    case 'log':
      c.end();
      m.actions.log = true;
      return;
    case 'rate-limit': {
      if (m.actions.primary !== null) throw c.error('E_POLICY_VALUE', `this match already has the action "${m.actions.primary}"; rate-limit cannot be combined with it`, w);
      m.actions.rateLimit = c.integer('the message rate', 1, RATE_LIMIT_MAX);
      c.end();
      return;
    }
  }
}

/** `no drop-connection [log]`, `no reset [log]`, `no mask [log]`, `no log`, `no rate-limit [N]`. */
function removeAction(cfg: ParsedConfig, m: EsmtpMatchDraft, name: ActionName, c: Cursor): void {
  const a = m.actions;
  let removed = false;
  if (name === 'log') {
    c.end();
    removed = a.log;
    a.log = false;
  } else if (name === 'rate-limit') {
    if (!c.atEnd()) c.integer('the message rate', 1, RATE_LIMIT_MAX);
    c.end();
    removed = a.rateLimit !== null;
    a.rateLimit = null;
  } else {
    const withLog = !c.atEnd() && c.keyword('log') === 'log';
    c.end();
    removed = a.primary === name;
    if (removed) {
      a.primary = null;
      if (withLog) a.log = false;
    }
  }
  m.inherited = false;
  m.hasAction = a.primary !== null || a.log || a.rateLimit !== null;
  if (!removed) cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: "${m.text}" has no such action` });
}

function esmtpParameterLine(def: EsmtpMapDef, c: Cursor): void {
  const p = def.parameters;
  let neg = false;
  if (c.peek()?.lower === 'no') {
    c.next();
    neg = true;
  }
  const w = c.next() as Token;
  if (neg) {
    // `no mail-relay` may repeat its arguments; they are not needed to turn it off
    while (!c.atEnd()) c.next();
    if (w.lower === 'mask-banner') p.maskBanner = false;
    else if (w.lower === 'mail-relay') p.mailRelay = null;
    else if (w.lower === 'special-character') p.specialCharacter = null;
    else if (w.lower === 'allow-tls') p.allowTls = null;
    return;
  }
  switch (w.lower) {
    case 'mask-banner':
      c.end();
      p.maskBanner = true;
      return;
    case 'mail-relay': {
      const d = c.word('the local domain name');
      if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(d.text)) c.fail('a domain name such as example.com', d, 'E_POLICY_VALUE');
      c.keyword('action');
      const a = c.keyword('drop-connection', 'log') as 'drop-connection' | 'log';
      c.end();
      p.mailRelay = { domain: d.text.toLowerCase(), action: a };
      return;
    }
    case 'special-character': {
      c.keyword('action');
      const a = c.keyword('drop-connection', 'log') as 'drop-connection' | 'log';
      let log = a === 'log';
      if (a === 'drop-connection' && !c.atEnd()) {
        c.keyword('log');
        log = true;
      }
      c.end();
      p.specialCharacter = { action: a, log };
      return;
    }
    case 'allow-tls': {
      let log = false;
      if (!c.atEnd()) {
        c.keyword('action');
        c.keyword('log');
        log = true;
      }
      c.end();
      p.allowTls = { log };
      return;
    }
  }
}

// ---- policy-map (Layer 3/4) ---------------------------------------------------------------

function pmapLine(cfg: ParsedConfig, def: PolicyMapDef, c: Cursor): Mode | null {
  let neg = false;
  if (c.peek()?.lower === 'no') {
    c.next();
    neg = true;
  }
  const w = c.next() as Token;
  if (w.lower === 'description') {
    def.description = neg ? null : c.atEnd() ? '' : rest(c.sl, c.peek() as Token);
    return null;
  }
  const n = c.word('a class-map name');
  c.end();
  if (neg) {
    const k = def.classes.findIndex((x) => x.className === n.text);
    if (k < 0) cfg.warnings.push({ line: c.sl.line, level: 'warning', message: `"${c.sl.raw.trim()}" removed nothing: policy-map ${def.name} has no class ${n.text}` });
    else def.classes.splice(k, 1);
    return null;
  }
  let cls = def.classes.find((k) => k.className === n.text);
  if (!cls) {
    cls = { className: n.text, inspects: [], limits: null, pos: c.pos(n) };
    def.classes.push(cls);
  }
  return { kind: 'pmap-class', target: cls };
}

function pmapClassLine(cfg: ParsedConfig, cls: PolicyClassDef, c: Cursor): Mode | null {
  let neg = false;
  if (c.peek()?.lower === 'no') {
    c.next();
    neg = true;
  }
  const w = c.next() as Token;
  if (w.lower === 'inspect') {
    const pT = c.word('an inspection protocol (esmtp, dns, ftp, ...)');
    // `inspect smtp` is converted to `inspect esmtp` by the ASA
    const protocol = pT.lower === 'smtp' ? 'esmtp' : pT.lower;
    // `inspect h323 h225` and `inspect h323 ras` are two inspections (the factory default has both)
    const sub = protocol === 'h323' ? (c.peek()?.lower ?? '') : null;
    const same = (i: { protocol: string; map: string | null }) => i.protocol === protocol && (sub === null || (i.map ?? '').split(' ')[0]?.toLowerCase() === sub);
    if (neg) {
      cls.inspects = cls.inspects.filter((i) => !same(i));
      return null;
    }
    let map: string | null = null;
    let mapPos = null;
    if (protocol === 'esmtp') {
      if (!c.atEnd()) {
        const m = c.next() as Token;
        map = m.text;
        mapPos = c.pos(m);
      }
      c.end();
      const prev = cls.inspects.find((i) => i.protocol === 'esmtp');
      if (prev && (prev.map ?? '_default_esmtp_map') !== (map ?? '_default_esmtp_map'))
        cfg.warnings.push({
          line: c.sl.line,
          level: 'warning',
          message: `class ${cls.className} already inspects esmtp ${prev.map ?? '_default_esmtp_map'}: the ASA rejects this line ("Inspect configuration of this type exists") unless "no inspect esmtp" comes first; applied here as a replacement`,
        });
      cls.inspects = cls.inspects.filter((i) => i.protocol !== 'esmtp');
    } else {
      // other inspections: arguments kept as written, not validated
      if (!c.atEnd()) map = c.sl.tokens.slice(c.i).map((t) => t.text).join(' ');
      cls.inspects = cls.inspects.filter((i) => !same(i));
    }
    cls.inspects.push({ protocol, map, mapPos, line: c.sl.line });
    return null;
  }
  if (w.lower === 'set' && c.peek()?.lower === 'connection') {
    c.next();
    const kwT = c.peek();
    // `syn-cookie-mss N` (ASA 8.4+/9.x: the MSS of SYN-cookie answers) limits nothing we emulate
    if (kwT && ['timeout', 'advanced-options', 'decrement-ttl', 'syn-cookie-mss'].includes(kwT.lower)) {
      cfg.ignored.push({ line: c.sl.line, text: c.sl.raw.trim(), reason: `set connection ${kwT.lower} not modelled` });
      return null;
    }
    if (neg) {
      cls.limits = null;
      return null;
    }
    const limits = cls.limits ?? { connMax: 0, embryonicConnMax: 0, perClientMax: 0, perClientEmbryonicMax: 0 };
    if (c.atEnd()) c.fail('conn-max, embryonic-conn-max, per-client-max, per-client-embryonic-max or random-sequence-number');
    while (!c.atEnd()) {
      const k = c.keyword('conn-max', 'embryonic-conn-max', 'per-client-max', 'per-client-embryonic-max', 'random-sequence-number', 'syn-cookie-mss');
      if (k === 'random-sequence-number') {
        c.keyword('enable', 'disable');
        continue;
      }
      if (k === 'syn-cookie-mss') {
        c.integer(k, 48, 65535);
        continue;
      }
      const n = c.integer(k, 0, 2_000_000);
      if (k === 'conn-max') limits.connMax = n;
      else if (k === 'embryonic-conn-max') limits.embryonicConnMax = n;
      else if (k === 'per-client-max') limits.perClientMax = n;
      else limits.perClientEmbryonicMax = n;
    }
    cls.limits = limits;
    return null;
  }
  if (w.lower === 'description') return null;
  cfg.ignored.push({ line: c.sl.line, text: c.sl.raw.trim(), reason: `class action ${w.lower} not modelled` });
  return null;
}
