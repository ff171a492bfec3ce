/**
 * The parsed configuration before references are resolved: what each modelled command said,
 * with source positions, so the compiler can report a bad reference at the token that made it.
 */
import type { ConnectionLimits, EsmtpParameters, MatchActions } from './types.js';
import type { IpAddr } from './address.js';
import type { PortProto } from './ports.js';
import type { ClockConfig } from './clock.js';
import type { TimeRangeDef } from './time-range.js';

export interface Pos {
  line: number;
  col: number;
}

export type AddrSpec =
  | { kind: 'any'; v: 4 | 6 | null } // any = both families
  | { kind: 'prefix'; addr: IpAddr; prefix: number }
  | { kind: 'range'; lo: IpAddr; hi: IpAddr }
  | { kind: 'object'; name: string; pos: Pos }
  | { kind: 'group'; name: string; pos: Pos }
  /** Something we cannot evaluate on a capture (fqdn, `interface NAME`): never matches. */
  | { kind: 'never'; text: string };

export type PortSpec =
  | { op: 'any' }
  | { op: 'eq' | 'lt' | 'gt' | 'neq'; port: number }
  | { op: 'range'; lo: number; hi: number }
  | { op: 'group'; name: string; pos: Pos };

/** tcp/udp/ip/icmp/..., as written in an ACE or a service entry. */
export type ProtoName = string;

export interface ServiceEntry {
  proto: ProtoName; // 'tcp', 'udp', 'tcp-udp', 'ip', 'icmp', ...
  src: PortSpec;
  dst: PortSpec;
}

export type ProtoSpec =
  | { kind: 'name'; proto: ProtoName }
  | { kind: 'object'; name: string; pos: Pos } // object service
  | { kind: 'group'; name: string; pos: Pos }; // object-group service / protocol

export interface Ace {
  action: 'permit' | 'deny';
  proto: ProtoSpec;
  src: AddrSpec;
  srcPort: PortSpec;
  dst: AddrSpec;
  dstPort: PortSpec;
  inactive: boolean;
  /** `time-range NAME`: the entry is skipped while the range is not in effect at the connection's start (local ASA time). */
  timeRange?: { name: string; pos: Pos };
  /**
   * FTD (`access-list … advanced`): `ifc NAME` before the source / destination, the interface the
   * connection enters / leaves by (the flow's ingress / egress interface); `trust` is a permit.
   */
  srcIfc?: string;
  dstIfc?: string;
  trust?: boolean;
  line: number;
  /** Canonical text of the ACE after `access-list NAME extended `. */
  text: string;
}

export interface AccessList {
  name: string;
  aces: Ace[];
}

export interface NetworkObject {
  name: string;
  addr: AddrSpec | null; // null until host/subnet/range/fqdn given
  pos: Pos;
}

export interface ServiceObject {
  name: string;
  service: ServiceEntry | null;
  pos: Pos;
}

export type NetworkGroupEntry = AddrSpec;

export type ServiceGroupEntry =
  | { kind: 'port'; spec: PortSpec }
  | { kind: 'service'; entry: ServiceEntry }
  | { kind: 'service-object'; name: string; pos: Pos }
  | { kind: 'group'; name: string; pos: Pos };

export interface ObjectGroup {
  name: string;
  type: 'network' | 'service' | 'protocol';
  /** service groups: `object-group service NAME tcp|udp|tcp-udp` (a port group) or null. */
  portProto: PortProto | null;
  network: NetworkGroupEntry[];
  service: ServiceGroupEntry[];
  protocols: Array<{ kind: 'name'; proto: ProtoName } | { kind: 'group'; name: string; pos: Pos }>;
  pos: Pos;
}

export interface RegexDef {
  name: string;
  pattern: string;
  pos: Pos;
  /** Column of the pattern's first character, for errors inside it. */
  patternCol: number;
}

export interface RegexClassDef {
  name: string;
  regexes: Array<{ name: string; pos: Pos }>;
  pos: Pos;
}

export type ClassMatch =
  | { kind: 'access-list'; name: string; pos: Pos }
  | { kind: 'port'; proto: 'tcp' | 'udp'; spec: PortSpec }
  | { kind: 'default-inspection-traffic' }
  | { kind: 'any' }
  /** A `match` we do not model (dscp, flow, tunnel-group, rtp, precedence): the class never matches. */
  | { kind: 'unmodelled'; text: string; line: number };

export interface ClassMapDef {
  name: string;
  description: string | null;
  matches: ClassMatch[];
  pos: Pos;
}

export interface InspectLine {
  protocol: string;
  /** The inspect policy map named after the protocol, or null. */
  map: string | null;
  mapPos: Pos | null;
  line: number;
  /** From the factory default (merge layering), not from the text. */
  inherited?: boolean;
}

export interface PolicyClassDef {
  className: string;
  inspects: InspectLine[];
  limits: ConnectionLimits | null;
  pos: Pos;
}

export interface PolicyMapDef {
  name: string;
  description: string | null;
  classes: PolicyClassDef[];
  pos: Pos;
}

export interface EsmtpMatchDraft {
  text: string;
  criterionText: string;
  not: boolean;
  kind: import('./types.js').CriterionKind;
  /** Numeric bound for `gt N` criteria. */
  gt: number | null;
  /** Word list for cmd verb / ehlo-reply-parameter / mime encoding. */
  words: string[];
  /** regex/class reference for mime filetype / sender-address. */
  ref: { type: 'regex' | 'class'; name: string; pos: Pos } | null;
  actions: MatchActions;
  /** Whether any action line was given (a match without actions is reported). */
  hasAction: boolean;
  pos: Pos;
  /**
   * True while the actions are the factory default's: the admin's first action line under the
   * re-entered match replaces them (so a pasted copy of the map with a changed action wins).
   */
  inherited?: boolean;
}

export interface EsmtpMapDef {
  name: string;
  description: string | null;
  parameters: EsmtpParameters;
  matches: EsmtpMatchDraft[];
  pos: Pos;
}

export interface ServicePolicyDef {
  policyMap: string;
  /** 'global' or an interface name. */
  scope: string;
  pos: Pos;
  /** From the factory default (its pos points into the default text). */
  inherited?: boolean;
}

export interface ParseWarning {
  line: number;
  /** 'warning': something the admin most likely did not mean; 'note': a harmless clean-up. */
  level: 'warning' | 'note';
  message: string;
}

/** Everything one text defined. */
export interface ParsedConfig {
  names: Map<string, IpAddr>;
  objects: Map<string, NetworkObject>;
  serviceObjects: Map<string, ServiceObject>;
  groups: Map<string, ObjectGroup>;
  accessLists: Map<string, AccessList>;
  regexes: Map<string, RegexDef>;
  regexClasses: Map<string, RegexClassDef>;
  classMaps: Map<string, ClassMapDef>;
  esmtpMaps: Map<string, EsmtpMapDef>;
  policyMaps: Map<string, PolicyMapDef>;
  /** `time-range NAME` definitions with their absolute/periodic lines. */
  timeRanges: Map<string, TimeRangeDef>;
  /** `clock timezone` / `clock summer-time`: the local time time-ranges are written in (UTC by default). */
  clock: ClockConfig;
  /** In order of appearance; `no service-policy` removes. */
  servicePolicies: ServicePolicyDef[];
  /** True once any `service-policy` or `no service-policy` line was read. */
  touchedServicePolicies: boolean;
  ignored: Array<{ line: number; text: string; reason: string }>;
  /** Found while reading this text (not errors: the policy still compiles). */
  warnings: ParseWarning[];
  /**
   * The `ASA Version X.Y(Z)` / `PIX Version` line of a running config, when the text has one.
   * Before 9.0 an access-list `any` is IPv4 only (read as any4, see pre-release.ts).
   */
  release?: { text: string; major: number; minor: number; line: number; anyAsAny4: number };
  /**
   * The first error of each access-list whose entries were not understood (unmodelled ASA syntax
   * such as identity-firewall `user` or TrustSec `security-group`, or a reference the text does not
   * define). An error only where a class-map uses that access-list (compile.ts); otherwise the lines
   * are ignored with a note, since only class-map access-lists select inspection.
   */
  aclErrors?: Map<string, { code: import('../errors.js').ErrorCode; message: string; line: number; column: number; text: string }>;
}

export function emptyConfig(): ParsedConfig {
  return {
    names: new Map(),
    objects: new Map(),
    serviceObjects: new Map(),
    groups: new Map(),
    accessLists: new Map(),
    regexes: new Map(),
    regexClasses: new Map(),
    classMaps: new Map(),
    esmtpMaps: new Map(),
    policyMaps: new Map(),
    timeRanges: new Map(),
    clock: { timezone: null, summer: null },
    servicePolicies: [],
    touchedServicePolicies: false,
    ignored: [],
    warnings: [],
  };
}

/**
 * What makes two ESMTP match lines the same line (keywords are case-insensitive): the parser's
 * idempotence and `no match`, and the printout warnings (printed.ts), compare by it.
 */
export function esmtpMatchKey(m: EsmtpMatchDraft): string {
  return JSON.stringify([m.not, m.kind, m.gt, m.words, m.ref ? [m.ref.type, m.ref.name] : null]);
}
