/**
 * The effective policy as canonical ASA text: keywords in canonical case and spacing, defaults
 * explicit (every ESMTP parameter, the map name of `inspect esmtp`, all four connection limits),
 * `! Class N` before each ESMTP match line. Only what the service policies use is printed (plus
 * every ESMTP map); the text parses back to the same policy.
 */
import { CRITERIA } from './criteria.js';
import { formatAddr, formatPort, formatService } from './format.js';
import type { ResolvedPolicy } from './compile.js';
import type { AddrSpec, ClassMatch, ParsedConfig, PortSpec, ProtoSpec } from './model.js';
import type { EsmtpMap, EsmtpMatch } from './types.js';
import { clockLines, timeRangeLines } from './time-range.js';

function matchLine(m: EsmtpMatch): string {
  const spec = CRITERIA.find((s) => s.kind === m.criterion.kind);
  const head = ['match', ...(m.not ? ['not'] : []), ...(spec?.keywords ?? [])];
  const c = m.criterion;
  switch (c.kind) {
    case 'cmd-verb':
      return [...head, ...c.verbs].join(' ');
    case 'ehlo-reply-parameter':
      return [...head, ...c.parameters].join(' ');
    case 'mime-encoding':
      return [...head, ...c.encodings].join(' ');
    case 'mime-filetype':
    case 'sender-address':
      return [...head, c.matcher.source].join(' ');
    default:
      return [...head, String(c.gt)].join(' ');
  }
}

function esmtpMapText(map: EsmtpMap): string[] {
  const out = [`policy-map type inspect esmtp ${map.name}`];
  if (map.description !== null) out.push(` description ${map.description}`);
  const p = map.parameters;
  out.push(' parameters');
  out.push(p.maskBanner ? '  mask-banner' : '  no mask-banner');
  out.push(p.mailRelay ? `  mail-relay ${p.mailRelay.domain} action ${p.mailRelay.action}` : '  no mail-relay');
  if (p.specialCharacter) {
    const sc = p.specialCharacter;
    out.push(sc.action === 'log' ? '  special-character action log' : `  special-character action drop-connection${sc.log ? ' log' : ''}`);
  } else out.push('  no special-character');
  out.push(p.allowTls ? `  allow-tls${p.allowTls.log ? ' action log' : ''}` : '  no allow-tls');
  for (const m of map.matches) {
    out.push(` ! Class ${m.classId}`);
    out.push(` ${matchLine(m)}`);
    const a = m.actions;
    if (a.primary) out.push(`  ${a.primary}${a.log ? ' log' : ''}`);
    if (a.rateLimit !== null) out.push(`  rate-limit ${a.rateLimit}`);
    if (a.log && !a.primary) out.push('  log');
  }
  return out;
}

/** Collects the objects and groups an address/port/protocol spec refers to, transitively. */
class Uses {
  objects = new Set<string>();
  serviceObjects = new Set<string>();
  groups = new Set<string>();
  constructor(private readonly cfg: ParsedConfig) {}

  addr(a: AddrSpec): void {
    if (a.kind === 'object') this.objects.add(a.name);
    if (a.kind === 'group') this.group(a.name);
  }

  port(p: PortSpec): void {
    if (p.op === 'group') this.group(p.name);
  }

  /** A group and everything under it (an explicit stack: hierarchies may be thousands of levels deep). */
  group(root: string): void {
    const stack = [root];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (this.groups.has(name)) continue;
      this.groups.add(name);
      const g = this.cfg.groups.get(name);
      for (const e of g?.network ?? []) {
        if (e.kind === 'object') this.objects.add(e.name);
        else if (e.kind === 'group') stack.push(e.name);
      }
      for (const e of g?.service ?? []) {
        if (e.kind === 'group') stack.push(e.name);
        if (e.kind === 'service-object') this.serviceObjects.add(e.name);
      }
      for (const e of g?.protocols ?? []) if (e.kind === 'group') stack.push(e.name);
    }
  }

  proto(p: ProtoSpec): void {
    if (p.kind === 'object') this.serviceObjects.add(p.name);
    if (p.kind === 'group') this.group(p.name);
  }
}

function classMatchLine(m: ClassMatch): string {
  switch (m.kind) {
    case 'access-list':
      return ` match access-list ${m.name}`;
    case 'port':
      return ` match port ${m.proto} ${formatPort(m.spec, m.proto)}`;
    case 'default-inspection-traffic':
      return ' match default-inspection-traffic';
    case 'any':
      return ' match any';
    case 'unmodelled':
      return ` ! not modelled, the class never matches: ${m.text}`;
  }
}

export function normalize(r: ResolvedPolicy): string {
  const cfg = r.cfg;
  const out: string[] = [`! smtp-inspect effective policy (source: ${r.source})`];
  if (r.layeringChoice) out.push(`! layering: ${r.layeringChoice.reason}`);
  else if (r.layering === 'merge') out.push('! applied over the ASA factory default as configuration commands: existing objects extended, `no` lines removed');
  else if (r.layering === 'snapshot') out.push('! a show running-config over the ASA factory default: the objects it prints replace the default ones of the same name');

  // what the service policies use
  const usedPolicyMaps = [...new Set(r.servicePolicies.map((s) => s.policyMap))];
  const usedClassMaps = new Set<string>();
  for (const pmName of usedPolicyMaps) for (const c of r.policyMaps.get(pmName)?.classes ?? []) if (c.classMap) usedClassMaps.add(c.name);
  const usedAcls = new Set<string>();
  for (const cm of usedClassMaps) for (const m of cfg.classMaps.get(cm)?.matches ?? []) if (m.kind === 'access-list') usedAcls.add(m.name);
  const uses = new Uses(cfg);
  for (const a of usedAcls) {
    for (const ace of cfg.accessLists.get(a)?.aces ?? []) {
      uses.proto(ace.proto);
      uses.addr(ace.src);
      uses.addr(ace.dst);
      uses.port(ace.srcPort);
      uses.port(ace.dstPort);
    }
  }
  for (const g of [...uses.groups]) for (const e of cfg.groups.get(g)?.network ?? []) if (e.kind === 'object') uses.objects.add(e.name);

  // regexes used by the ESMTP maps
  const usedRegexes = new Set<string>();
  const usedRegexClasses = new Set<string>();
  for (const map of r.esmtpMaps.values()) {
    for (const m of map.matches) {
      const c = m.criterion;
      if (c.kind !== 'mime-filetype' && c.kind !== 'sender-address') continue;
      const words = c.matcher.source.split(' ');
      const name = words[words.length - 1] as string;
      if (words[1] !== 'class') usedRegexes.add(name);
      else {
        usedRegexClasses.add(name);
        for (const x of cfg.regexClasses.get(name)?.regexes ?? []) usedRegexes.add(x.name);
      }
    }
  }
  for (const name of usedRegexes) {
    const def = cfg.regexes.get(name);
    if (def) out.push(`regex ${def.name} ${def.pattern}`);
  }
  for (const name of usedRegexClasses) {
    out.push(`class-map type regex match-any ${name}`);
    for (const x of cfg.regexClasses.get(name)?.regexes ?? []) out.push(` match regex ${x.name}`);
  }
  for (const map of r.esmtpMaps.values()) out.push(...esmtpMapText(map));

  for (const name of uses.objects) {
    const o = cfg.objects.get(name);
    out.push(`object network ${name}`);
    const a = o?.addr;
    if (!a) continue;
    if (a.kind === 'prefix') out.push(` ${a.prefix === (a.addr.v === 4 ? 32 : 128) ? formatAddr(a) : `subnet ${formatAddr(a)}`}`);
    else if (a.kind === 'range') out.push(` ${formatAddr(a)}`);
    else if (a.kind === 'never') out.push(` ${a.text}`);
  }
  for (const name of uses.serviceObjects) {
    const o = cfg.serviceObjects.get(name);
    out.push(`object service ${name}`);
    if (o?.service) out.push(` service ${formatService(o.service)}`);
  }
  // groups in definition order (a group must be defined before a group-object names it)
  for (const [name, g] of cfg.groups) {
    if (!uses.groups.has(name)) continue;
    out.push(`object-group ${g.type} ${name}${g.portProto ? ` ${g.portProto}` : ''}`);
    for (const e of g.network) out.push(e.kind === 'object' ? ` network-object object ${e.name}` : e.kind === 'group' ? ` group-object ${e.name}` : ` network-object ${formatAddr(e)}`);
    for (const e of g.service) {
      if (e.kind === 'port') out.push(` port-object ${formatPort(e.spec, g.portProto ?? 'tcp')}`);
      else if (e.kind === 'service') out.push(` service-object ${formatService(e.entry)}`);
      else if (e.kind === 'service-object') out.push(` service-object object ${e.name}`);
      else out.push(` group-object ${e.name}`);
    }
    for (const e of g.protocols) out.push(e.kind === 'name' ? ` protocol-object ${e.proto}` : ` group-object ${e.name}`);
  }
  // time-ranges the entries name, with the clock they are read in
  const timeRanges = new Set<string>();
  for (const a of usedAcls) for (const ace of cfg.accessLists.get(a)?.aces ?? []) if (ace.timeRange) timeRanges.add(ace.timeRange.name);
  if (timeRanges.size > 0) out.push(...clockLines(cfg.clock));
  for (const name of timeRanges) {
    const def = cfg.timeRanges.get(name);
    if (def) out.push(...timeRangeLines(def));
  }
  for (const a of usedAcls) for (const ace of cfg.accessLists.get(a)?.aces ?? []) out.push(`access-list ${a} ${ace.srcIfc !== undefined || ace.dstIfc !== undefined || ace.trust ? 'advanced' : 'extended'} ${ace.text}`);
  for (const name of usedClassMaps) {
    out.push(`class-map ${name}`);
    for (const m of cfg.classMaps.get(name)?.matches ?? []) out.push(classMatchLine(m));
  }
  for (const pmName of usedPolicyMaps) {
    const pm = r.policyMaps.get(pmName);
    if (!pm) continue;
    out.push(`policy-map ${pm.name}`);
    if (pm.description !== null) out.push(` description ${pm.description}`);
    for (const c of pm.classes) {
      out.push(` class ${c.name}`);
      for (const i of c.inspects) out.push(`  inspect ${i.protocol}${i.map !== null ? ` ${i.map}` : ''}`);
      const l = c.limits;
      if (l) out.push(`  set connection conn-max ${l.connMax} embryonic-conn-max ${l.embryonicConnMax} per-client-max ${l.perClientMax} per-client-embryonic-max ${l.perClientEmbryonicMax}`);
    }
  }
  if (r.servicePolicies.length === 0) out.push('no service-policy global_policy global', '! no service-policy applies: nothing is inspected');
  for (const sp of r.servicePolicies) out.push(`service-policy ${sp.policyMap} ${sp.scope === 'global' ? 'global' : `interface ${sp.scope}`}`);
  return out.join('\n') + '\n';
}
