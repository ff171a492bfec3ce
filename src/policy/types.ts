/**
 * The compiled policy: what the ASA CLI subset (access-lists, objects, regexes, class-maps,
 * `policy-map type inspect esmtp`, `policy-map` + `service-policy`) means for one connection.
 * The parser/compiler (src/policy/) produces it; the engine and the replay consume it.
 */

export type DropAction = 'drop-connection' | 'reset' | 'mask';

export interface MatchActions {
  /** The non-log action, if any. */
  primary: DropAction | null;
  log: boolean;
  /** `rate-limit N` (messages per second), or null. */
  rateLimit: number | null;
}

/** A compiled, linear-time matcher for ASA `regex` / `class-map type regex` references. */
export interface ByteMatcher {
  /** `regex NAME` or `regex class NAME` (Cisco's form, whichever way it was written), as printed after the criterion keyword. */
  readonly source: string;
  /** True if the pattern matches anywhere in bytes [start, end) (ASA regexes are unanchored unless `^`). */
  test(bytes: Uint8Array, start?: number, end?: number): boolean;
}

export type Criterion =
  | { kind: 'body-length'; gt: number }
  | { kind: 'body-line-length'; gt: number }
  | { kind: 'cmd-verb'; verbs: string[] }
  | { kind: 'cmd-line-length'; gt: number }
  | { kind: 'cmd-rcpt-count'; gt: number }
  | { kind: 'ehlo-reply-parameter'; parameters: string[] }
  | { kind: 'header-length'; gt: number }
  | { kind: 'header-line-length'; gt: number }
  | { kind: 'header-to-fields-count'; gt: number }
  | { kind: 'invalid-recipients-count'; gt: number }
  | { kind: 'mime-filetype'; matcher: ByteMatcher }
  | { kind: 'mime-filename-length'; gt: number }
  | { kind: 'mime-encoding'; encodings: string[] }
  | { kind: 'sender-address'; matcher: ByteMatcher }
  | { kind: 'sender-address-length'; gt: number };

export type CriterionKind = Criterion['kind'];

export interface EsmtpMatch {
  /** 1-based position among the map's match lines: the N of "matched Class N:" in 108004. */
  classId: number;
  /** The line as written, without leading spaces: 'match cmd RCPT count gt 100'. */
  text: string;
  /** The criterion text as syslog prints it (without 'match ' and 'not '): 'cmd RCPT count gt 100'. */
  criterionText: string;
  not: boolean;
  criterion: Criterion;
  actions: MatchActions;
  /** Source position of the match line. */
  line: number;
}

export interface EsmtpParameters {
  maskBanner: boolean;
  /** `mail-relay DOMAIN action {drop-connection|log}`; null = `no mail-relay`. */
  mailRelay: { domain: string; action: 'drop-connection' | 'log' } | null;
  /** `special-character action {drop-connection [log] | log}`; null = `no special-character`. */
  specialCharacter: { action: 'drop-connection' | 'log'; log: boolean } | null;
  /** `allow-tls [action log]`; null = `no allow-tls`. */
  allowTls: { log: boolean } | null;
}

export interface EsmtpMap {
  name: string;
  description: string | null;
  parameters: EsmtpParameters;
  matches: EsmtpMatch[];
}

export interface ConnectionLimits {
  connMax: number; // 0 = unlimited
  embryonicConnMax: number;
  perClientMax: number;
  perClientEmbryonicMax: number;
}

/** The decision for one connection: which class/policy applies, or none. */
export interface ClassDecision {
  /** 'global' or the interface name of an interface service-policy. */
  scope: string;
  policyMap: string;
  className: string;
  /** The ESMTP map when this class carries `inspect esmtp`, else null (not inspected). */
  esmtp: EsmtpMap | null;
  /** Connection limits from `set connection` in the class that matched (may differ from the inspect class). */
  limits: ConnectionLimits | null;
  /**
   * Why: which class decided, or why no ESMTP class matched (an ACL line that denies, a port that
   * differs, `no inspect esmtp`). For diagnose/verdict notes. When nothing inspects, scope/policyMap
   * name the first service policy consulted ('none'/'' without any) and className is ''.
   */
  reason?: string;
}

export interface FlowTuple {
  ipVersion: 4 | 6;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  /** Ingress interface name, when known ('outside' by default in files). */
  ingressInterface?: string;
  /**
   * Egress interface name (the server's side), when known. An interface service policy applies
   * application inspection bidirectionally, so its classes are also tried for connections that
   * leave through that interface (Cisco "Feature Directionality").
   */
  egressInterface?: string;
  /**
   * Capture time of the connection's first packet, UTC seconds since 1970 (fraction allowed): ACL
   * entries with a `time-range` are checked against it, once per connection. Absent: the
   * connection is being created now (wall clock), as for the inline proxy.
   */
  startTimeSec?: number;
}

export interface IgnoredLine {
  line: number;
  text: string;
  /** Why it was ignored ('global command not modelled', 'access-list remark', ...). */
  reason?: string;
}

export interface PolicyWarning {
  line: number;
  level: 'warning' | 'note';
  message: string;
}

/** The ASA clock time-ranges are written in (`policy check --json`). */
export interface ClockReport {
  /** The `clock timezone` name, or 'UTC' (the ASA default, no `clock timezone` line). */
  timezone: string;
  /** The standard-time offset from UTC, `+hh:mm` / `-hh:mm`. */
  utcOffset: string;
  /** `clock summer-time`, with its line as printed back; null when none. */
  summerTime: { zone: string; kind: 'recurring' | 'date'; offsetMinutes: number; text: string } | null;
}

/** One `time-range` (`policy check --json`). */
export interface TimeRangeReport {
  name: string;
  /** The line of its first `time-range NAME` opener. */
  line: number;
  /**
   * The `absolute` line: ISO 8601 local times without offset (`2024-03-01T08:00`; an end of 24:00
   * stays `T24:00`), both minutes inclusive, null for an open end; `zone` names the ASA clock they
   * are read in (`EST`, `EST/EDT` with summer time, `UTC`).
   */
  absolute: { start: string | null; end: string | null; zone: string } | null;
  /** The `periodic` lines as printed back (`periodic weekdays 08:00 to 18:00`). */
  periodic: string[];
  /**
   * The access-list entries naming it (`entry` is the text after `access-list NAME extended `):
   * `line` is the policy file's line, as everywhere in this report; `position` the entry's 1-based
   * place in the list, the N of the ASA's `access-list NAME line N` (and of the decision reason).
   */
  usedBy: Array<{ accessList: string; line: number; position: number; entry: string }>;
}

export interface CompiledPolicy {
  /** Where the policy came from ('<default>' or a path). */
  source: string;
  /** Every `policy-map type inspect esmtp` defined (the default map always present). */
  esmtpMaps: ReadonlyMap<string, EsmtpMap>;
  /** Decide per connection (at its first packet): the first class that matches and inspects. */
  classify(flow: FlowTuple): ClassDecision;
  /**
   * TCP server ports any class could select for ESMTP inspection (25 for the default), for
   * reassembly selection and the live BPF filter. Null means "any port" (an ACL/`match any`).
   */
  esmtpPorts(): number[] | null;
  /** Running-config lines we do not model (listed with --verbose). */
  ignored: IgnoredLine[];
  /**
   * Things the admin should see without --verbose (printed on stderr by loadPolicy): policy lines
   * that landed in an ignored block, pager prompts removed, `no` lines that removed nothing.
   */
  warnings: PolicyWarning[];
  /** Normalised text of the effective policy (what `policy check` prints). */
  normalized(): string;
  /** The ASA clock (`clock timezone` / `clock summer-time`) time-ranges are read in. */
  clock(): ClockReport;
  /** Every `time-range` defined, in definition order, with the access-list entries that name it. */
  timeRanges(): TimeRangeReport[];
  /**
   * How the text was laid over the factory default (native-notes "layering"): the mode asked for
   * (`--policy-mode`), the one applied and why. Absent for the factory default itself.
   */
  readonly layering?: { requested: 'auto' | 'merge' | 'snapshot'; mode: 'merge' | 'snapshot'; reason: string };
  /**
   * The text's interfaces and routes (a running-config's `interface` blocks and `route` lines);
   * absent for the factory default. Used only when `usable`.
   */
  readonly interfaceRouting?: InterfaceRouting;
}

/** Where an address sits behind the ASA (src/policy/interface-map.ts). */
export interface InterfacePlacement {
  /** The interface's nameif. */
  name: string;
  /** Its security-level (configured, else 100 for inside and 0 for the others). */
  securityLevel: number | null;
  /** A connected subnet of the interface, or a `route` / default route through it. */
  via: 'connected' | 'route';
}

/**
 * The config's interfaces (nameif, security-level, addresses) and routes: which interface each
 * connection's client and server are on, when the user names no fixed pair.
 */
export interface InterfaceRouting {
  /** At least one interface with nameif and an address. */
  readonly usable: boolean;
  interfaceOf(ip: string): InterfacePlacement | null;
  securityLevel(name: string): number | null;
  /** The named interfaces in config order (optional: placement of unrouted addresses uses it). */
  names?(): readonly string[];
  /** `outside (security-level 0, 203.0.113.0/24, default route); inside (...)`. */
  describe(): string;
}
