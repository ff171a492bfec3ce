/**
 * `clear configure ...` (native-notes "clear configure"): removes a whole kind of configuration or
 * one named object. Names referenced by name and checked when the policy is resolved (a
 * policy-map under a service-policy, a class-map under a policy-map, an access-list under a
 * class-map, an ESMTP map under `inspect esmtp`, a regex) are removed even in use: the text must
 * define them again below, or resolving reports the dangling reference at the clear line. Objects
 * and object-groups used by an access-list stay (the ASA refuses to remove an object in use, and a
 * missing one would make the entry silently never match), with a warning naming them.
 * `clear configure time-range` removes every time-range (see clearTimeRanges).
 */
import type { Cursor } from './cursor.js';
import { DEFAULT_POLICY_SOURCE, DEFAULT_POLICY_TEXT } from './default-policy.js';
import type { AddrSpec, ParsedConfig, Pos, PortSpec, ProtoSpec } from './model.js';

const DEFAULT_ESMTP_MAP = '_default_esmtp_map';

/** Parses the factory default once, lazily (the parser module supplies the function: no import cycle). */
export type DefaultParser = (text: string, file: string) => ParsedConfig;

function warn(cfg: ParsedConfig, c: Cursor, level: 'warning' | 'note', message: string): void {
  cfg.warnings.push({ line: c.sl.line, level, message });
}

/** `clear ...` at the cursor (after `clear`). */
export function clearCommand(cfg: ParsedConfig, c: Cursor, parseDefault: DefaultParser): void {
  const line = c.sl.raw.trim();
  const conf = c.peek();
  if (!conf || !['configure', 'config', 'conf'].includes(conf.lower)) {
    warn(cfg, c, 'warning', `"${line}" is not a configuration command (an exec "clear" changes no configuration): ignored`);
    cfg.ignored.push({ line: c.sl.line, text: line, reason: 'clear (exec) not modelled' });
    return;
  }
  c.next();
  const what = c.next();
  const here: Pos = { line: c.sl.line, col: (c.sl.tokens[0] as { col: number }).col };
  const name = (): string | null => {
    const t = c.next();
    c.end();
    return t ? t.text : null;
  };
  switch (what?.lower) {
    case 'policy-map': {
      if (c.peek()?.lower === 'type') {
        c.next();
        const type = c.word('a policy-map type');
        const proto = type.lower === 'inspect' ? c.next() : undefined;
        if (type.lower !== 'inspect' || proto?.lower !== 'esmtp') {
          cfg.ignored.push({ line: c.sl.line, text: line, reason: `policy-map type ${type.lower}${proto ? ` inspect ${proto.lower}` : ''} not modelled` });
          return;
        }
        clearEsmtpMaps(cfg, c, name(), here, parseDefault);
        return;
      }
      // without a type: Layer 3/4 maps and inspection maps alike
      const n = name();
      const l34 = n === null || cfg.policyMaps.has(n);
      const esmtp = n === null || cfg.esmtpMaps.has(n);
      if (l34) clearPolicyMaps(cfg, n, here);
      if (esmtp) clearEsmtpMaps(cfg, c, n, here, parseDefault);
      if (!l34 && !esmtp) warn(cfg, c, 'warning', `"${line}" removed nothing: policy-map ${n} does not exist`);
      return;
    }
    case 'class-map': {
      if (c.peek()?.lower === 'type') {
        c.next();
        const type = c.word('a class-map type');
        if (type.lower !== 'regex') {
          cfg.ignored.push({ line: c.sl.line, text: line, reason: `class-map type ${type.lower} not modelled` });
          return;
        }
        if (c.peek()?.lower === 'match-any') c.next();
        removeNamed(cfg, c, cfg.regexClasses, 'class-map type regex match-any', name(), line);
        return;
      }
      const n = name();
      if (n !== null && !cfg.classMaps.has(n)) warn(cfg, c, 'warning', `"${line}" removed nothing: class-map ${n} does not exist`);
      for (const k of [...cfg.classMaps.keys()]) {
        if (n !== null && k !== n) continue;
        cfg.classMaps.delete(k);
        // a policy-map class still naming it reports the dangling class-map at this line
        for (const pm of cfg.policyMaps.values()) for (const cls of pm.classes) if (cls.className === k) cls.pos = here;
      }
      return;
    }
    case 'regex':
      removeNamed(cfg, c, cfg.regexes, 'regex', name(), line);
      return;
    case 'access-list': {
      const n = name();
      if (n !== null && !cfg.accessLists.has(n)) warn(cfg, c, 'warning', `"${line}" removed nothing: access-list ${n} does not exist`);
      for (const k of [...cfg.accessLists.keys()]) {
        if (n !== null && k !== n) continue;
        cfg.accessLists.delete(k);
        for (const cm of cfg.classMaps.values()) for (const m of cm.matches) if (m.kind === 'access-list' && m.name === k) m.pos = here;
      }
      return;
    }
    case 'service-policy': {
      let scope: string | null = null;
      if (c.peek()?.lower === 'global') {
        c.next();
        scope = 'global';
      } else if (c.peek()?.lower === 'interface') {
        c.next();
        scope = c.word('an interface name (nameif)').text;
      }
      c.end();
      const before = cfg.servicePolicies.length;
      cfg.servicePolicies = cfg.servicePolicies.filter((sp) => scope !== null && sp.scope !== scope);
      cfg.touchedServicePolicies = true;
      if (cfg.servicePolicies.length === before) warn(cfg, c, 'warning', `"${line}" removed nothing: no such service-policy is applied`);
      return;
    }
    case 'object':
    case 'object-group': {
      const group = what.lower === 'object-group';
      const types = group ? ['network', 'service', 'protocol', 'icmp-type', 'user', 'security'] : ['network', 'service'];
      let type: string | null = null;
      if (c.peek() && types.includes((c.peek() as { lower: string }).lower)) type = (c.next() as { lower: string }).lower;
      const n = name();
      clearObjects(cfg, c, group, type, n, line);
      return;
    }
    case 'time-range':
      c.end();
      clearTimeRanges(cfg, here);
      return;
    default:
      warn(cfg, c, 'warning', `"${line}" is not modelled: ignored (modelled: clear configure policy-map, class-map, regex, service-policy, access-list, object, object-group, time-range)`);
      cfg.ignored.push({ line: c.sl.line, text: line, reason: 'clear configure of this kind not modelled' });
  }
}

function removeNamed(cfg: ParsedConfig, c: Cursor, table: Map<string, unknown>, label: string, n: string | null, line: string): void {
  if (n === null) {
    table.clear();
    return;
  }
  if (!table.delete(n)) warn(cfg, c, 'warning', `"${line}" removed nothing: ${label} ${n} does not exist`);
}

/** Layer 3/4 policy-maps: a service-policy still naming one reports it at the clear line unless it is defined again. */
function clearPolicyMaps(cfg: ParsedConfig, n: string | null, here: Pos): void {
  for (const k of [...cfg.policyMaps.keys()]) {
    if (n !== null && k !== n) continue;
    cfg.policyMaps.delete(k);
    for (const sp of cfg.servicePolicies) if (sp.policyMap === k) sp.pos = here;
  }
}

/**
 * ESMTP inspection maps. `_default_esmtp_map` is the system's own map (a bare `inspect esmtp` uses
 * it): clearing it puts back the factory version rather than leaving no map at all.
 */
function clearEsmtpMaps(cfg: ParsedConfig, c: Cursor, n: string | null, here: Pos, parseDefault: DefaultParser): void {
  let any = false;
  for (const k of [...cfg.esmtpMaps.keys()]) {
    if (n !== null && k !== n) continue;
    any = true;
    if (k === DEFAULT_ESMTP_MAP) {
      const factory = parseDefault(DEFAULT_POLICY_TEXT, DEFAULT_POLICY_SOURCE).esmtpMaps.get(DEFAULT_ESMTP_MAP);
      if (factory) {
        cfg.esmtpMaps.set(k, factory);
        warn(cfg, c, 'note', `"${c.sl.raw.trim()}": ${DEFAULT_ESMTP_MAP} is the system map; it is back to its factory settings`);
        continue;
      }
    }
    cfg.esmtpMaps.delete(k);
    for (const pm of cfg.policyMaps.values())
      for (const cls of pm.classes) for (const i of cls.inspects) if (i.protocol === 'esmtp' && (i.map ?? DEFAULT_ESMTP_MAP) === k) i.mapPos = here;
  }
  if (n !== null && !any) warn(cfg, c, 'warning', `"${c.sl.raw.trim()}" removed nothing: policy-map type inspect esmtp ${n} does not exist`);
}

/**
 * `clear configure time-range` removes every time-range. Source searched: Cisco's ASA command
 * references ("tcp-map through type echo Commands", time-range: 7.2, 8.2) and the ASA CLI
 * configuration guides ("Configuring Time Ranges", "Scheduling Extended Access List Activation").
 * None of the text we could retrieve says whether the ASA refuses a time-range in use or strips the
 * entries' `time-range` option, so it is handled like the other objects referenced by name
 * (native-notes "clear configure", `clear-configure-in-use`): every range goes, and an entry that
 * still names one reports "time-range ... is not defined" at this clear line unless a range of that
 * name is defined again below. Silently dropping the option would make a scheduled entry always on.
 */
function clearTimeRanges(cfg: ParsedConfig, here: Pos): void {
  cfg.timeRanges.clear();
  for (const acl of cfg.accessLists.values()) for (const ace of acl.aces) if (ace.timeRange) ace.timeRange.pos = here;
}

/** Names of objects and groups some access-list entry or group uses (directly or nested). */
function objectsInUse(cfg: ParsedConfig): Map<string, string> {
  const used = new Map<string, string>();
  const addr = (a: AddrSpec, by: string) => {
    if (a.kind === 'object' || a.kind === 'group') used.set(a.name, by);
  };
  const port = (p: PortSpec, by: string) => {
    if (p.op === 'group') used.set(p.name, by);
  };
  const proto = (p: ProtoSpec, by: string) => {
    if (p.kind !== 'name') used.set(p.name, by);
  };
  for (const acl of cfg.accessLists.values())
    for (const ace of acl.aces) {
      const by = `access-list ${acl.name}`;
      addr(ace.src, by);
      addr(ace.dst, by);
      port(ace.srcPort, by);
      port(ace.dstPort, by);
      proto(ace.proto, by);
    }
  for (const g of cfg.groups.values()) {
    const by = `object-group ${g.name}`;
    for (const e of g.network) addr(e, by);
    for (const e of g.service) {
      if (e.kind === 'port') port(e.spec, by);
      else if (e.kind === 'service-object' || e.kind === 'group') used.set(e.name, by);
    }
    for (const e of g.protocols) if (e.kind === 'group') used.set(e.name, by);
  }
  return used;
}

function clearObjects(cfg: ParsedConfig, c: Cursor, group: boolean, type: string | null, n: string | null, line: string): void {
  const used = objectsInUse(cfg);
  const kept: string[] = [];
  let removed = 0;
  const tables: Array<[Map<string, unknown>, string]> = group
    ? [[cfg.groups, 'object-group']]
    : [
        [cfg.objects, 'network'],
        [cfg.serviceObjects, 'service'],
      ];
  for (const [table, kind] of tables) {
    if (!group && type !== null && type !== kind) continue;
    for (const [k, v] of [...table]) {
      if (n !== null && k !== n) continue;
      if (group && type !== null && (v as { type: string }).type !== type) continue;
      const by = used.get(k);
      if (by) kept.push(`${k} (used by ${by})`);
      else {
        table.delete(k);
        removed++;
      }
    }
  }
  if (kept.length > 0)
    warn(cfg, c, 'warning', `"${line}" kept ${kept.length} ${group ? 'object-group(s)' : 'object(s)'} still in use: ${kept.slice(0, 5).join(', ')}${kept.length > 5 ? ', ...' : ''} (the ASA does not remove an object in use; remove the access-list entries first)`);
  else if (n !== null && removed === 0) warn(cfg, c, 'warning', `"${line}" removed nothing: ${group ? 'object-group' : 'object'} ${n} does not exist`);
}
