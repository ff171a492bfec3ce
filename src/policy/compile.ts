/**
 * ParsedConfig → CompiledPolicy: layers the admin's text over the ASA factory default, resolves
 * every reference (reporting a missing one at the token that made it), compiles regexes, numbers
 * the ESMTP match lines (Class N) and implements the per-connection decision of ASA-ESMTP.md §4.2.
 */
import { PolicyError } from '../errors.js';
import { parseIp, type IpAddr } from './address.js';
import type {
  AccessList,
  AddrSpec,
  Ace,
  ClassMapDef,
  ClassMatch,
  EsmtpMapDef,
  ParsedConfig,
  Pos,
} from './model.js';
import { GroupFlattener, GroupMemo, netHas, portHas, type NetNode, type NetSet, type PortLeaf } from './flatten.js';
import { normalize } from './normalize.js';
import { CompiledRegex, RegexSetMatcher } from './regex.js';
import { LocalClock } from './clock.js';
import { TimeWindow } from './time-range.js';
import { clockReport, timeRangeReports } from './time-range-report.js';
import type { ByteMatcher, ClassDecision, ClockReport, CompiledPolicy, ConnectionLimits, Criterion, EsmtpMap, EsmtpMatch, FlowTuple, IgnoredLine, InterfaceRouting, PolicyWarning, TimeRangeReport } from './types.js';

export const DEFAULT_ESMTP_MAP = '_default_esmtp_map';
/** The port `match default-inspection-traffic` selects for ESMTP (ASA-ESMTP.md §4.1). */
export const ESMTP_DEFAULT_PORT = 25;
/** esmtpPorts() returns null (all TCP) rather than a list longer than this. */
const PORT_LIST_MAX = 4096;

export interface PolicyOptions {
  /**
   * How an interface service-policy takes precedence over the global one for ESMTP
   * (ASA-ESMTP.md §4.2; native-notes/policy-language.md):
   * - 'per-flow' (default): the interface policy's classes are tried first; if none of its
   *   ESMTP-inspecting classes matches the connection, the global policy's are tried.
   * - 'per-feature': if the interface policy inspects ESMTP in any class, the global policy's
   *   ESMTP inspection never applies on that interface.
   */
  interfacePrecedence?: 'per-flow' | 'per-feature';
}

export interface ResolvedClass {
  name: string;
  /** Null for class-default (matches everything). */
  classMap: ClassMapDef | null;
  esmtp: EsmtpMap | null;
  /** Every inspect line, ESMTP or not, for normalized(). */
  inspects: Array<{ protocol: string; map: string | null }>;
  limits: ConnectionLimits | null;
}

export interface ResolvedPolicyMap {
  name: string;
  description: string | null;
  classes: ResolvedClass[];
}

export interface ResolvedPolicy {
  source: string;
  cfg: ParsedConfig;
  esmtpMaps: Map<string, EsmtpMap>;
  policyMaps: Map<string, ResolvedPolicyMap>;
  global: ResolvedPolicyMap | null;
  interfaces: Map<string, ResolvedPolicyMap>;
  /** Service-policy lines in effect, in order. */
  servicePolicies: Array<{ policyMap: string; scope: string }>;
  /** How the source was laid over the factory default (native-notes "layering"); 'none' for the default itself. */
  layering: 'none' | 'merge' | 'snapshot';
  /** Which mode was asked for and why this one applies (`policy check` prints it). */
  layeringChoice?: { requested: 'auto' | 'merge' | 'snapshot'; mode: 'merge' | 'snapshot'; reason: string };
}

function refError(file: string, pos: Pos, message: string): PolicyError {
  return new PolicyError('E_POLICY_REFERENCE', message, { file, line: pos.line, column: pos.col });
}

/**
 * Snapshot layering (a pasted `show running-config`): the text's objects replace the default's
 * objects of the same name as a whole, and its service-policy lines replace the default's. A whole
 * running-config (`full`) is complete: without a service-policy line nothing is applied. A section
 * printout (`show run policy-map`) does not show service-policies: the default's stays.
 * `signLine`: the line of the sign that made the text a snapshot (where its warnings point).
 */
export function layer(base: ParsedConfig, user: ParsedConfig, full = true, signLine = 1): ParsedConfig {
  const warnings = [...user.warnings];
  let servicePolicies = base.servicePolicies;
  if (user.touchedServicePolicies) servicePolicies = user.servicePolicies;
  else if (full) {
    servicePolicies = [];
    warnings.push({ line: signLine, level: 'warning', message: 'no service-policy in this running config: nothing is inspected (a show running-config prints every service-policy; none means no policy is applied)' });
  } else
    warnings.push({
      line: signLine,
      level: 'note',
      message: 'no service-policy line in this printout: the factory default "service-policy global_policy global" is kept (as for a "show running-config policy-map" section)',
    });
  const merge = <V>(a: Map<string, V>, b: Map<string, V>): Map<string, V> => new Map([...a, ...b]);
  return {
    names: merge(base.names, user.names),
    objects: merge(base.objects, user.objects),
    serviceObjects: merge(base.serviceObjects, user.serviceObjects),
    groups: merge(base.groups, user.groups),
    accessLists: merge(base.accessLists, user.accessLists),
    regexes: merge(base.regexes, user.regexes),
    regexClasses: merge(base.regexClasses, user.regexClasses),
    classMaps: merge(base.classMaps, user.classMaps),
    esmtpMaps: merge(base.esmtpMaps, user.esmtpMaps),
    policyMaps: merge(base.policyMaps, user.policyMaps),
    timeRanges: merge(base.timeRanges, user.timeRanges),
    clock: { timezone: user.clock.timezone ?? base.clock.timezone, summer: user.clock.summer ?? base.clock.summer },
    servicePolicies,
    touchedServicePolicies: user.touchedServicePolicies || base.touchedServicePolicies,
    ignored: user.ignored,
    warnings,
    ...(user.aclErrors ? { aclErrors: user.aclErrors } : {}),
  };
}

function compileMatchers(cfg: ParsedConfig, file: string) {
  const regexes = new Map<string, CompiledRegex>();
  for (const [name, def] of cfg.regexes) regexes.set(name, new CompiledRegex(def.pattern));
  const regexRef = (name: string, pos: Pos): CompiledRegex => {
    const r = regexes.get(name);
    if (!r) throw refError(file, pos, `regex "${name}" is not defined`);
    return r;
  };
  const classes = new Map<string, CompiledRegex[]>();
  for (const [name, def] of cfg.regexClasses) classes.set(name, def.regexes.map((r) => regexRef(r.name, r.pos)));
  return (ref: { type: 'regex' | 'class'; name: string; pos: Pos }): ByteMatcher => {
    if (ref.type === 'regex') return new RegexSetMatcher(`regex ${ref.name}`, [regexRef(ref.name, ref.pos)]);
    const members = classes.get(ref.name);
    if (!members) throw refError(file, ref.pos, `class-map type regex match-any "${ref.name}" is not defined`);
    return new RegexSetMatcher(`regex class ${ref.name}`, members);
  };
}

function buildEsmtpMap(def: EsmtpMapDef, matcher: ReturnType<typeof compileMatchers>): EsmtpMap {
  const matches: EsmtpMatch[] = def.matches.map((m, k) => {
    let criterion: Criterion;
    switch (m.kind) {
      case 'cmd-verb':
        criterion = { kind: m.kind, verbs: [...m.words] };
        break;
      case 'ehlo-reply-parameter':
        criterion = { kind: m.kind, parameters: [...m.words] };
        break;
      case 'mime-encoding':
        criterion = { kind: m.kind, encodings: [...m.words] };
        break;
      case 'mime-filetype':
      case 'sender-address':
        criterion = { kind: m.kind, matcher: matcher(m.ref as NonNullable<typeof m.ref>) };
        break;
      default:
        criterion = { kind: m.kind, gt: m.gt as number };
    }
    return {
      classId: k + 1,
      text: m.text,
      criterionText: m.criterionText,
      not: m.not,
      criterion,
      actions: { ...m.actions },
      line: m.pos.line,
    };
  });
  return { name: def.name, description: def.description, parameters: structuredClone(def.parameters), matches };
}

/** Resolves references and builds the policy. `file` names the text errors point into. */
export function resolve(cfg: ParsedConfig, source: string, file: string, layering: ResolvedPolicy['layering']): ResolvedPolicy {
  const matcher = compileMatchers(cfg, file);
  // regex classes referencing missing regexes are reported even when unused
  for (const def of cfg.regexClasses.values()) matcher({ type: 'class', name: def.name, pos: def.pos });

  const esmtpMaps = new Map<string, EsmtpMap>();
  for (const [name, def] of cfg.esmtpMaps) esmtpMaps.set(name, buildEsmtpMap(def, matcher));

  // a time-range may be defined after the entry that names it (running configs print it late)
  let firstTimed: number | null = null;
  for (const acl of cfg.accessLists.values()) {
    for (const ace of acl.aces) {
      if (!ace.timeRange) continue;
      if (!cfg.timeRanges.has(ace.timeRange.name)) throw refError(file, ace.timeRange.pos, `time-range "${ace.timeRange.name}" is not defined`);
      firstTimed ??= ace.line;
    }
  }
  if (firstTimed !== null && cfg.clock.timezone === null && !cfg.warnings.some((w) => w.message.startsWith('time-ranges are evaluated in UTC')))
    cfg.warnings.push({ line: firstTimed, level: 'note', message: 'time-ranges are evaluated in UTC at each connection\'s first packet: no "clock timezone" line gives the ASA\'s local time' });

  for (const cm of cfg.classMaps.values()) {
    for (const m of cm.matches) {
      if (m.kind === 'access-list' && !cfg.accessLists.has(m.name)) throw refError(file, m.pos, `access-list "${m.name}" is not defined (class-maps use extended access-lists)`);
    }
  }

  const policyMaps = new Map<string, ResolvedPolicyMap>();
  for (const [name, pm] of cfg.policyMaps) {
    const classes: ResolvedClass[] = [];
    let classDefault: ResolvedClass | null = null;
    for (const cls of pm.classes) {
      const isDefault = cls.className === 'class-default';
      const classMap = isDefault ? null : (cfg.classMaps.get(cls.className) ?? null);
      if (!isDefault && !classMap) throw refError(file, cls.pos, `class-map "${cls.className}" is not defined`);
      let esmtp: EsmtpMap | null = null;
      for (const ins of cls.inspects) {
        if (ins.protocol !== 'esmtp') continue;
        // a bare `inspect esmtp` means _default_esmtp_map (ADDENDUM B-14)
        const mapName = ins.map ?? DEFAULT_ESMTP_MAP;
        const map = esmtpMaps.get(mapName);
        if (!map) throw refError(file, ins.mapPos ?? cls.pos, `policy-map type inspect esmtp "${mapName}" is not defined`);
        esmtp = map;
      }
      const rc: ResolvedClass = {
        name: cls.className,
        classMap,
        esmtp,
        inspects: cls.inspects.map((i) => ({ protocol: i.protocol, map: i.protocol === 'esmtp' ? (i.map ?? DEFAULT_ESMTP_MAP) : i.map })),
        limits: cls.limits ? { ...cls.limits } : null,
      };
      if (isDefault) classDefault = rc;
      else classes.push(rc);
    }
    // class-default is always evaluated last, wherever it was written
    if (classDefault) classes.push(classDefault);
    policyMaps.set(name, { name, description: pm.description, classes });
  }
  aclErrorsInUse(cfg, file, policyMaps);
  unevaluatedAddresses(cfg, policyMaps);

  let global: ResolvedPolicyMap | null = null;
  const interfaces = new Map<string, ResolvedPolicyMap>();
  for (const sp of cfg.servicePolicies) {
    const pm = policyMaps.get(sp.policyMap);
    if (!pm) throw refError(file, sp.pos, `policy-map "${sp.policyMap}" is not defined`);
    if (sp.scope === 'global') global = pm;
    else {
      interfaces.set(sp.scope, pm);
      // the capture has no interface names: the commands take them from --client-interface /
      // --server-interface (outside / inside by default), compared case-sensitively as nameif is
      if (!sp.inherited && sp.scope !== 'outside' && sp.scope !== 'inside' && pm.classes.some((c) => c.esmtp))
        cfg.warnings.push({
          line: sp.pos.line,
          level: 'note',
          message: `service-policy ${pm.name} interface ${sp.scope} inspects esmtp only for connections entering or leaving by "${sp.scope}": name it with --client-interface ${sp.scope} or --server-interface ${sp.scope} in replay, live and proxy, clientInterface or serverInterface in a regress case.json (default outside / inside, which diagnose uses; names are case-sensitive)`,
        });
    }
  }
  return {
    source,
    cfg,
    esmtpMaps,
    policyMaps,
    global,
    interfaces,
    servicePolicies: cfg.servicePolicies.map((s) => ({ policyMap: s.policyMap, scope: s.scope })),
    layering,
  };
}

/**
 * Access-list entries not understood (ParsedConfig.aclErrors) are an error where a class-map uses
 * their access-list, unless every class that uses that class-map neither inspects esmtp nor sets
 * connection limits (the classes classify() reads; a class without them does not consume the
 * feature, §4.3): a running config uses class-maps for QoS (`police`, `priority`) and other
 * inspections too, and an identity-firewall ACL there refused the whole configuration. A class-map
 * no policy-map uses stays an error (an excerpt being checked). Elsewhere: one note.
 */
function aclErrorsInUse(cfg: ParsedConfig, file: string, policyMaps: Map<string, ResolvedPolicyMap>): void {
  const errors = cfg.aclErrors;
  if (!errors || errors.size === 0) return;
  const users = new Map<string, Array<{ pm: string; cls: ResolvedClass }>>();
  for (const pm of policyMaps.values()) {
    for (const c of pm.classes) {
      if (!c.classMap) continue;
      const list = users.get(c.classMap.name) ?? [];
      list.push({ pm: pm.name, cls: c });
      users.set(c.classMap.name, list);
    }
  }
  const harmless: string[] = [];
  for (const cm of cfg.classMaps.values()) {
    for (const m of cm.matches) {
      if (m.kind !== 'access-list') continue;
      const bad = errors.get(m.name);
      if (!bad) continue;
      const used = users.get(cm.name) ?? [];
      const selecting = used.find((u) => u.cls.esmtp || u.cls.limits);
      if (used.length === 0 || selecting) {
        const by = selecting ? `, class ${selecting.cls.name} of policy-map ${selecting.pm} ${selecting.cls.esmtp ? 'inspects esmtp' : 'sets connection limits'}` : '';
        throw new PolicyError(bad.code, `${bad.message} (access-list ${m.name} is used by class-map ${cm.name}${by})`, { file, line: bad.line, column: bad.column });
      }
      harmless.push(`${m.name} (class-map ${cm.name}: ${used.map((u) => `class ${u.cls.name} of ${u.pm}`).join(', ')}, no inspect esmtp or set connection)`);
    }
  }
  const first = [...errors.values()].sort((a, b) => a.line - b.line)[0];
  const names = [...errors.keys()];
  if (first && !cfg.warnings.some((w) => w.message.includes('entries not understood in access-list')))
    cfg.warnings.push({
      line: first.line,
      level: 'note',
      message: `entries not understood in access-list(s) ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''} that select no esmtp inspection, ignored (${harmless.length > 0 ? `used only by classes that neither inspect esmtp nor set connection limits: ${harmless.slice(0, 3).join('; ')}; the others by ` : ''}no class-map; see --verbose), first: "${first.message}" at column ${first.column}`,
    });
}

/**
 * The first address a capture cannot evaluate (an `fqdn` object: no DNS answer in a capture; an
 * `interface NAME` address) that `spec` names, directly or through objects and nested groups.
 * Groups are walked with an explicit stack (a hierarchy may be thousands of levels deep).
 */
function unevaluated(cfg: ParsedConfig, spec: AddrSpec, seen: Set<string>): string | null {
  const stack: AddrSpec[] = [spec];
  while (stack.length > 0) {
    const a = stack.pop() as AddrSpec;
    if (a.kind === 'never') return a.text;
    if (a.kind === 'object') {
      const o = cfg.objects.get(a.name)?.addr;
      if (o?.kind === 'never') return `object ${a.name} (${o.text})`;
    } else if (a.kind === 'group' && !seen.has(a.name)) {
      seen.add(a.name);
      for (const e of cfg.groups.get(a.name)?.network ?? []) {
        if (e.kind === 'object') {
          const o = cfg.objects.get(e.name)?.addr;
          if (o?.kind === 'never') return `object ${e.name} (${o.text}) in object-group ${a.name}`;
        } else if (e.kind === 'never') return `${e.text} in object-group ${a.name}`;
        else stack.push(e);
      }
    }
  }
  return null;
}

/**
 * A warning for each access-list entry of an esmtp class that names an address the capture cannot
 * evaluate: such an address never matches (an `fqdn v4 mail.protection.outlook.com` object for the
 * mail service, say), so the connections it would select are not inspected. Before, nothing said
 * so: the reason was "no line permits it (implicit deny)".
 */
function unevaluatedAddresses(cfg: ParsedConfig, policyMaps: Map<string, ResolvedPolicyMap>): void {
  const acls = new Map<string, string>();
  for (const pm of policyMaps.values())
    for (const c of pm.classes)
      if (c.esmtp && c.classMap) for (const m of c.classMap.matches) if (m.kind === 'access-list' && !acls.has(m.name)) acls.set(m.name, c.classMap.name);
  for (const [name, classMap] of acls) {
    const acl = cfg.accessLists.get(name);
    if (!acl) continue;
    for (const ace of acl.aces) {
      const seen = new Set<string>();
      const what = unevaluated(cfg, ace.src, seen) ?? unevaluated(cfg, ace.dst, seen);
      if (what === null || cfg.warnings.some((w) => w.line === ace.line && w.message.includes('cannot be evaluated on a capture'))) continue;
      cfg.warnings.push({
        line: ace.line,
        level: 'warning',
        message: `access-list ${name} (class-map ${classMap}, which inspects esmtp): "${what}" cannot be evaluated on a capture (an fqdn needs the ASA's DNS answers; an interface address its configuration), so it never matches here and the connections it would select are not inspected; name the addresses with host/subnet/range`,
      });
    }
  }
}

// ---- per-connection matching ------------------------------------------------------------

interface FlowAddrs {
  /** The connection's first packet (UTC seconds): time-ranges are checked when the connection is created. */
  startSec: number;
  /** Its local minute on the ASA clock, computed when an entry with a time-range is first reached (NaN until then). */
  localMinute: number;
  client: IpAddr | null;
  server: IpAddr | null;
  clientPort: number;
  serverPort: number;
  /** The interfaces the connection enters and leaves by, for FTD `ifc NAME` entries. */
  ingress: string | undefined;
  egress: string | undefined;
  /** Which network groups hold each address, answered once per connection. */
  clientMemo: GroupMemo;
  serverMemo: GroupMemo;
}

/** A local minute on the ASA clock (minutes since 1970 local) as `HH:MM local (YYYY-MM-DD)`. */
function localText(localMinute: number): string {
  const iso = new Date(localMinute * 60_000).toISOString();
  return `${iso.slice(11, 16)} local (${iso.slice(0, 10)})`;
}

class Matcher {
  /** Groups flattened once (memoised): matching an ACE never walks a group hierarchy. */
  readonly flat: GroupFlattener;
  /** Each time-range compiled once; checked per connection without allocation. */
  private readonly windows = new Map<string, TimeWindow>();
  private readonly clock: LocalClock;
  constructor(private readonly cfg: ParsedConfig) {
    this.flat = new GroupFlattener(cfg);
    for (const [name, def] of cfg.timeRanges) this.windows.set(name, new TimeWindow(def));
    this.clock = new LocalClock(cfg.clock);
  }

  /** A time-range not in effect at the connection's start makes its entry skipped (as `inactive` does). */
  private inEffect(name: string, f: FlowAddrs): boolean {
    const w = this.windows.get(name);
    if (w === undefined) return false;
    if (Number.isNaN(f.localMinute)) f.localMinute = this.clock.localMinute(f.startSec);
    return w.activeAt(f.localMinute);
  }

  private readonly clientMemo = new GroupMemo();
  private readonly serverMemo = new GroupMemo();

  /** The per-connection group memos, reset for a new connection. */
  memos(): { clientMemo: GroupMemo; serverMemo: GroupMemo } {
    this.clientMemo.reset(this.flat.netNodeCount);
    this.serverMemo.reset(this.flat.netNodeCount);
    return { clientMemo: this.clientMemo, serverMemo: this.serverMemo };
  }

  private addrHas(x: NetSet | NetNode, ip: IpAddr | null, memo: GroupMemo): boolean {
    if (!ip) return false;
    return 'children' in x ? memo.has(x, ip) : netHas(x, ip);
  }

  ace(ace: Ace, f: FlowAddrs): boolean {
    if (ace.inactive) return false;
    // FTD `ifc NAME`: an interface the flow does not name (or names otherwise) never matches
    if ((ace.srcIfc !== undefined && ace.srcIfc !== f.ingress) || (ace.dstIfc !== undefined && ace.dstIfc !== f.egress)) return false;
    return this.aceAddrs(ace, f);
  }

  /** The entry's addresses and ports (not its FTD interfaces) hold the connection. */
  private aceAddrs(ace: Ace, f: FlowAddrs): boolean {
    const a = this.flat.ace(ace);
    if (!this.addrHas(a.src, f.client, f.clientMemo) || !this.addrHas(a.dst, f.server, f.serverMemo)) return false;
    for (const s of a.services) if (portHas(s.src, f.clientPort) && portHas(s.dst, f.serverPort)) return true;
    return false;
  }

  /** First ACE that matches decides: permit = match, deny = no match; none = implicit deny. */
  acl(acl: AccessList, f: FlowAddrs): { match: boolean; why: string } {
    let skipped = '';
    for (let k = 0; k < acl.aces.length; k++) {
      const ace = acl.aces[k]!;
      if (!this.ace(ace, f)) continue;
      // "line N" is the entry's 1-based position in the list, as the ASA numbers it (show
      // access-list, `access-list X line N`); the config-file line follows for finding it in the text
      const where = `line ${k + 1} (config line ${ace.line})`;
      if (ace.timeRange !== undefined && !this.inEffect(ace.timeRange.name, f)) {
        skipped += `; ${where} skipped: time-range ${ace.timeRange.name} not in effect at the connection's start, ${localText(f.localMinute)}`;
        continue;
      }
      // diagnose explains a decision a time-range made with the local time it was judged at
      const timed = ace.timeRange !== undefined ? `; time-range ${ace.timeRange.name} in effect at the connection's start, ${localText(f.localMinute)}` : '';
      return { match: ace.action === 'permit', why: `access-list ${acl.name} ${where} ${ace.action === 'permit' ? 'permits' : 'denies'} it (${ace.text})${timed}${skipped}` };
    }
    return { match: false, why: `no line of access-list ${acl.name} permits it (implicit deny)${skipped}${this.ifcMiss(acl, f)}${this.familyMiss(acl, f)}` };
  }

  /**
   * For an implicit deny: the first permit that would hold the connection but for an `any4` /
   * `any6` of the other address family (9.x: `any` is both, `any4` IPv4 only, `any6` IPv6 only;
   * before 9.0 `any` is read as `any4`). An IPv6 mail gateway behind `permit tcp any4 …` is the
   * usual case: without this, it read like an address mismatch.
   */
  private familyMiss(acl: AccessList, f: FlowAddrs): string {
    const v = f.client?.v ?? f.server?.v;
    if (v === undefined) return '';
    const wrong = (a: Ace['src']) => a.kind === 'any' && a.v !== null && a.v !== v;
    for (let k = 0; k < acl.aces.length; k++) {
      const ace = acl.aces[k]!;
      if (ace.inactive || ace.action !== 'permit') continue;
      const srcWrong = wrong(ace.src);
      const dstWrong = wrong(ace.dst);
      if (!srcWrong && !dstWrong) continue;
      const a = this.flat.ace(ace);
      if (!srcWrong && !this.addrHas(a.src, f.client, f.clientMemo)) continue;
      if (!dstWrong && !this.addrHas(a.dst, f.server, f.serverMemo)) continue;
      if (!a.services.some((s) => portHas(s.src, f.clientPort) && portHas(s.dst, f.serverPort))) continue;
      const other = v === 6 ? 4 : 6;
      return `; line ${k + 1} (config line ${ace.line}) would permit it but its any${other} matches IPv${other} only and this connection is IPv${v} (any covers both families on 9.x)`;
    }
    return '';
  }

  /**
   * For an implicit deny in an FTD access-list: the first permit that holds the connection's
   * addresses and ports but names other interfaces (`ifc NAME`, compared case-sensitively with
   * --client-interface / --server-interface). Without it, a wrong or missing interface name looked
   * like an address mismatch.
   */
  private ifcMiss(acl: AccessList, f: FlowAddrs): string {
    for (let k = 0; k < acl.aces.length; k++) {
      const ace = acl.aces[k]!;
      if (ace.inactive || ace.action !== 'permit' || (ace.srcIfc === undefined && ace.dstIfc === undefined) || !this.aceAddrs(ace, f)) continue;
      const names = [
        ace.srcIfc !== undefined && ace.srcIfc !== f.ingress ? `ifc ${ace.srcIfc} before its source (the connection enters by ${f.ingress ?? 'an unnamed interface'})` : '',
        ace.dstIfc !== undefined && ace.dstIfc !== f.egress ? `ifc ${ace.dstIfc} before its destination (it leaves by ${f.egress ?? 'an unnamed interface'})` : '',
      ].filter((x) => x !== '');
      if (names.length === 0) continue; // skipped for its time-range, said above
      return `; line ${k + 1} (config line ${ace.line}) holds its addresses and ports but names ${names.join(' and ')}: set --client-interface / --server-interface (clientInterface / serverInterface in a regress case.json)`;
    }
    return '';
  }

  classMatch(m: ClassMatch, f: FlowAddrs): { match: boolean; why: string } {
    switch (m.kind) {
      case 'any':
        return { match: true, why: 'match any' };
      case 'default-inspection-traffic':
        return f.serverPort === ESMTP_DEFAULT_PORT
          ? { match: true, why: 'default-inspection-traffic selects tcp/25 for esmtp' }
          : { match: false, why: `default-inspection-traffic selects tcp/25 for esmtp, the server port is ${f.serverPort}` };
      case 'port': {
        const ok = m.proto === 'tcp' && portHas(this.flat.ports(m.spec), f.serverPort);
        return { match: ok, why: ok ? `match port tcp selects server port ${f.serverPort}` : `match port does not select tcp/${f.serverPort}` };
      }
      case 'access-list': {
        const acl = this.cfg.accessLists.get(m.name);
        return acl ? this.acl(acl, f) : { match: false, why: `access-list ${m.name} missing` };
      }
      case 'unmodelled':
        return { match: false, why: `"${m.text}" is not modelled (never matches)` };
    }
  }

  cls(c: ResolvedClass, f: FlowAddrs): { match: boolean; why: string } {
    if (!c.classMap) return { match: true, why: 'class-default matches everything' };
    if (c.classMap.matches.length === 0) return { match: false, why: `class-map ${c.name} has no match command` };
    const whys: string[] = [];
    for (const m of c.classMap.matches) {
      const r = this.classMatch(m, f);
      whys.push(r.why);
      if (!r.match) return { match: false, why: r.why };
    }
    return { match: true, why: whys.join('; ') };
  }
}

export class PolicyImpl implements CompiledPolicy {
  readonly source: string;
  readonly esmtpMaps: ReadonlyMap<string, EsmtpMap>;
  readonly ignored: IgnoredLine[];
  readonly warnings: PolicyWarning[];
  readonly layering?: { requested: 'auto' | 'merge' | 'snapshot'; mode: 'merge' | 'snapshot'; reason: string };
  /** The text's interfaces and routes (set by compilePolicyText; absent for the factory default). */
  interfaceRouting?: InterfaceRouting;
  private readonly matcher: Matcher;
  private readonly precedence: 'per-flow' | 'per-feature';
  private normalizedText: string | null = null;

  constructor(
    readonly resolved: ResolvedPolicy,
    options: PolicyOptions = {},
  ) {
    this.source = resolved.source;
    this.esmtpMaps = resolved.esmtpMaps;
    this.ignored = resolved.cfg.ignored.map((i) => ({ line: i.line, text: i.text, reason: i.reason }));
    this.warnings = resolved.cfg.warnings.map((w) => ({ ...w }));
    if (resolved.layeringChoice) this.layering = { ...resolved.layeringChoice };
    this.matcher = new Matcher(resolved.cfg);
    this.precedence = options.interfacePrecedence ?? 'per-flow';
    this.warnings.push(...this.shadowedEsmtpClasses());
  }

  /**
   * A class whose `inspect esmtp` can never apply to some of its ports: an earlier class of the same
   * policy-map that matches on the port alone (default-inspection-traffic, port, any) already
   * inspects esmtp there, and a connection matches only the first class with an inspect action
   * (Cisco, "Feature Matching Within a Service Policy"). The classic case: a class for tcp/25 added
   * to global_policy without `no inspect esmtp` under inspection_default.
   */
  private shadowedEsmtpClasses(): PolicyWarning[] {
    const out: PolicyWarning[] = [];
    const pms = [...(this.resolved.global ? [this.resolved.global] : []), ...this.resolved.interfaces.values()];
    for (const pm of pms) {
      const def = this.resolved.cfg.policyMaps.get(pm.name);
      // Ports inspected by earlier port-only classes; null once one of them takes every port.
      let covered: Set<number> | null = new Set();
      let coverName = '';
      for (const c of pm.classes) {
        if (!c.esmtp) continue;
        const ports = this.classPorts(c);
        if (covered === null || covered.size > 0) {
          const hit = covered === null ? ports ?? 'every port' : ports === null ? [...covered] : ports.filter((p) => covered!.has(p));
          if (hit === 'every port' || hit.length > 0) {
            const where = hit === 'every port' ? 'any traffic' : hit.map((p) => `tcp/${p}`).join(', ');
            const line = def?.classes.find((x) => x.className === c.name)?.pos.line ?? def?.pos.line ?? 1;
            out.push({
              line,
              level: 'warning',
              message: `class ${c.name} in policy-map ${pm.name} inspects esmtp (${c.esmtp.name}), but class ${coverName} comes first and already inspects esmtp on ${where}: a connection matches only the first class with an inspect action, so ${c.name}'s inspect esmtp never applies there (add "no inspect esmtp" under class ${coverName}, or match the traffic in ${coverName}'s place)`,
            });
          }
        }
        if (this.portOnlyClass(c)) {
          if (coverName === '') coverName = c.name;
          if (ports === null) covered = null;
          else if (covered !== null) for (const p of ports) covered.add(p);
        }
      }
    }
    return out;
  }

  /** The class decides on the server port alone (no access-list, no unmodelled match). */
  private portOnlyClass(c: ResolvedClass): boolean {
    if (!c.classMap) return true; // class-default
    return c.classMap.matches.every((m) => m.kind === 'any' || m.kind === 'default-inspection-traffic' || m.kind === 'port');
  }

  /** TCP server ports an inspecting class selects; null when it is port-agnostic or too wide to list. */
  private classPorts(c: ResolvedClass): number[] | null {
    const ports = new Set<number>();
    const addSet = (set: readonly PortLeaf[]): boolean => {
      for (const spec of set) {
        if (spec.op === 'eq') ports.add(spec.port);
        else if (spec.op === 'range' && spec.hi - spec.lo + 1 <= PORT_LIST_MAX) for (let p = spec.lo; p <= spec.hi; p++) ports.add(p);
        else return false; // any, lt, gt, neq, a huge range: port-agnostic
      }
      return true;
    };
    if (!c.classMap) return null; // class-default
    const kinds = c.classMap.matches.map((m) => m.kind);
    if (kinds.includes('default-inspection-traffic')) return [ESMTP_DEFAULT_PORT];
    for (const m of c.classMap.matches) {
      if (m.kind === 'any') return null;
      if (m.kind === 'port') {
        if (m.proto === 'tcp' && !addSet(this.matcher.flat.ports(m.spec))) return null;
      } else if (m.kind === 'access-list') {
        const acl = this.resolved.cfg.accessLists.get(m.name);
        for (const ace of acl?.aces ?? []) {
          if (ace.action !== 'permit' || ace.inactive) continue;
          for (const sv of this.matcher.flat.ace(ace).services) if (!addSet(sv.dst)) return null;
        }
      }
    }
    return ports.size > PORT_LIST_MAX ? null : [...ports].sort((a, b) => a - b);
  }

  /**
   * Decisions by (ingress and egress interface, server port) when no class-map of any applicable policy
   * looks at addresses (no access-list match): then nothing else can change the decision, so
   * connections to the same port share one decision object (no parsing, no strings per
   * connection). Null when an access-list is involved (every connection is classified).
   */
  private portCache: Map<string | undefined, Map<string | undefined, Map<number, ClassDecision>>> | null | undefined = undefined;
  /** (ingress, egress) pairs in portCache: beyond 64 (a live capture with many names?) no caching. */
  private portCachePairs = 0;

  classify(flow: FlowTuple): ClassDecision {
    if (this.portCache === undefined) this.portCache = this.portOnly() ? new Map() : null;
    const cache = this.portCache;
    if (cache === null) return this.classifyNow(flow);
    // Keyed by the interface names themselves (two map levels): nothing is built per connection.
    let byEgress = cache.get(flow.ingressInterface);
    if (byEgress === undefined) {
      byEgress = new Map();
      cache.set(flow.ingressInterface, byEgress);
    }
    let byPort = byEgress.get(flow.egressInterface);
    if (byPort === undefined) {
      if (this.portCachePairs >= 64) return this.classifyNow(flow);
      this.portCachePairs++;
      byPort = new Map();
      byEgress.set(flow.egressInterface, byPort);
    }
    let d = byPort.get(flow.serverPort);
    if (d === undefined) {
      d = this.classifyNow(flow);
      byPort.set(flow.serverPort, d);
    }
    return d;
  }

  /** True when every class-map of every service policy decides on the server port alone. */
  private portOnly(): boolean {
    const pms = [...(this.resolved.global ? [this.resolved.global] : []), ...this.resolved.interfaces.values()];
    for (const pm of pms) {
      for (const c of pm.classes) {
        if (!c.classMap) continue;
        for (const m of c.classMap.matches) {
          if (m.kind !== 'any' && m.kind !== 'default-inspection-traffic' && m.kind !== 'port' && m.kind !== 'unmodelled') return false;
        }
      }
    }
    return true;
  }

  private classifyNow(flow: FlowTuple): ClassDecision {
    // a caller without capture time (the inline proxy) classifies a connection being created now
    const startSec = flow.startTimeSec ?? Date.now() / 1000;
    const f: FlowAddrs = { startSec, localMinute: Number.NaN, client: parseIp(flow.clientIp), server: parseIp(flow.serverIp), clientPort: flow.clientPort, serverPort: flow.serverPort, ingress: flow.ingressInterface, egress: flow.egressInterface, ...this.matcher.memos() };
    // An interface policy applies inspection (and connection limits) bidirectionally: to
    // connections entering and leaving through its interface; the global one at ingress, which
    // for a connection is once. Cisco "Feature Directionality"; native-notes "interface-direction".
    const scopes: Array<{ scope: string; pm: ResolvedPolicyMap }> = [];
    for (const name of [flow.ingressInterface, flow.egressInterface]) {
      if (name === undefined || scopes.some((s) => s.scope === name)) continue;
      const pm = this.resolved.interfaces.get(name);
      if (pm) scopes.push({ scope: name, pm });
    }
    const misses: string[] = [];
    const ifaceInspects = scopes.find((s) => s.pm.classes.some((c) => c.esmtp));
    if (this.resolved.global) {
      if (this.precedence === 'per-feature' && ifaceInspects)
        misses.push(`interface policy ${ifaceInspects.pm.name} inspects esmtp, so the global policy does not apply on ${ifaceInspects.scope} (per-feature precedence)`);
      else scopes.push({ scope: 'global', pm: this.resolved.global });
    }

    // connection limits: the first matching class with `set connection`
    let limits: ConnectionLimits | null = null;
    outer: for (const s of scopes) {
      for (const c of s.pm.classes) {
        if (c.limits && this.matcher.cls(c, f).match) {
          limits = { ...c.limits };
          break outer;
        }
      }
    }

    for (const s of scopes) {
      for (const c of s.pm.classes) {
        if (!c.esmtp) continue; // a class without inspect esmtp does not consume the feature (§4.3)
        const r = this.matcher.cls(c, f);
        if (r.match) {
          return {
            scope: s.scope,
            policyMap: s.pm.name,
            className: c.name,
            esmtp: c.esmtp,
            limits,
            reason: `class ${c.name} of policy-map ${s.pm.name} (${s.scope}) inspects esmtp ${c.esmtp.name}: ${r.why}`,
          };
        }
        misses.push(`class ${c.name} of ${s.pm.name}: ${r.why}`);
      }
    }
    const first = scopes[0];
    const elsewhere = this.elsewhere(flow);
    return {
      scope: first ? first.scope : 'none',
      policyMap: first ? first.pm.name : '',
      className: '',
      esmtp: null,
      limits,
      reason:
        (scopes.length === 0
          ? 'no service-policy applies'
          : misses.length === 0
            ? 'no class in the applicable service-policy inspects esmtp'
            : `not inspected: ${misses.join('; ')}`) + elsewhere,
    };
  }

  /**
   * Interface service policies inspecting esmtp on interfaces this connection does not use, for
   * the reason of a connection left uninspected: the interface names come from the replay's
   * --client-interface / --server-interface and are case-sensitive on the ASA (`nameif OUTSIDE`
   * is not `outside`), so a mismatch would otherwise leave the policy silently unused.
   */
  private elsewhere(flow: FlowTuple): string {
    const mine = [flow.ingressInterface, flow.egressInterface].filter((x): x is string => x !== undefined);
    const other = [...this.resolved.interfaces].filter(([n, pm]) => !mine.includes(n) && pm.classes.some((c) => c.esmtp));
    if (other.length === 0) return '';
    const list = other.map(([n, pm]) => `${pm.name} on interface ${n}`).join(', ');
    const caseOnly = other.find(([n]) => mine.some((x) => x.toLowerCase() === n.toLowerCase()));
    const seen = `${flow.ingressInterface ?? '(none)'} (ingress), ${flow.egressInterface ?? '(none)'} (egress)`;
    return (
      `; service-policy ${list} does not apply: this connection's interfaces are ${seen}` +
      (caseOnly ? `; interface names are case-sensitive ("${caseOnly[0]}" is not "${mine.find((x) => x.toLowerCase() === caseOnly[0].toLowerCase()) ?? ''}"): name them as the configuration does (--client-interface / --server-interface)` : '')
    );
  }

  esmtpPorts(): number[] | null {
    const ports = new Set<number>();
    const pms = [...(this.resolved.global ? [this.resolved.global] : []), ...this.resolved.interfaces.values()];
    for (const pm of pms) {
      for (const c of pm.classes) {
        if (!c.esmtp) continue;
        const own = this.classPorts(c);
        if (own === null) return null;
        for (const p of own) ports.add(p);
      }
    }
    if (ports.size > PORT_LIST_MAX) return null;
    return [...ports].sort((a, b) => a - b);
  }

  normalized(): string {
    this.normalizedText ??= normalize(this.resolved);
    return this.normalizedText;
  }

  clock(): ClockReport {
    return clockReport(this.resolved.cfg);
  }

  timeRanges(): TimeRangeReport[] {
    return timeRangeReports(this.resolved.cfg);
  }
}
