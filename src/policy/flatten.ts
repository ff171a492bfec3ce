/**
 * Object groups flattened once: every network, service and protocol group becomes a flat,
 * de-duplicated set of prefixes/ranges or port specs, memoised per group, so the cost is linear in
 * the group DAG (shared subgroups are flattened once) and matching an ACE never recurses. The
 * parser refuses circular hierarchies, so the walk needs no depth limit.
 */
import { inPrefix, inRange, type IpAddr } from './address.js';
import type { Ace, AddrSpec, ParsedConfig, PortSpec, ServiceEntry } from './model.js';

type AddrLeaf = { kind: 'prefix'; addr: IpAddr; prefix: number } | { kind: 'range'; lo: IpAddr; hi: IpAddr };
/** A port spec without group references. */
export type PortLeaf = Exclude<PortSpec, { op: 'group' }>;

/** A flat set of addresses: `any4`/`any6` short-cut the leaves of that family. */
export interface NetSet {
  any4: boolean;
  any6: boolean;
  leaves: AddrLeaf[];
}

/** A TCP service an ACE allows: source and destination port sets. */
export interface TcpService {
  src: PortLeaf[];
  dst: PortLeaf[];
}

/**
 * A network group as a DAG node: deep or shared hierarchies are not copied into every ancestor
 * (a chain of N groups would cost N² leaves); a connection evaluates each node at most once
 * (GroupMemo), so a whole access-list costs its entries plus the group DAG, never more.
 */
export interface NetNode {
  id: number;
  own: NetSet;
  children: NetNode[];
}

/** Per-connection answers for network group nodes: 1 = contains the address, 2 = does not. */
export class GroupMemo {
  private state = new Uint8Array(0);
  private stamp = new Uint32Array(0);
  private gen = 0;

  /** Starts a new address (a new connection side). */
  reset(nodes: number): void {
    if (this.state.length < nodes) {
      this.state = new Uint8Array(nodes * 2);
      this.stamp = new Uint32Array(nodes * 2);
    }
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.stamp.fill(0);
      this.gen = 1;
    }
  }

  has(node: NetNode, ip: IpAddr): boolean {
    if (node.id >= this.state.length) throw new RangeError(`group node ${node.id} outside the memo (${this.state.length})`);
    if (this.stamp[node.id] === this.gen) return this.state[node.id] === 1;
    let yes = netHas(node.own, ip);
    for (let k = 0; !yes && k < node.children.length; k++) yes = this.has(node.children[k] as NetNode, ip);
    this.stamp[node.id] = this.gen;
    this.state[node.id] = yes ? 1 : 2;
    return yes;
  }
}

export interface FlatAce {
  src: NetSet | NetNode;
  dst: NetSet | NetNode;
  services: TcpService[];
}

const EMPTY_NET: NetSet = { any4: false, any6: false, leaves: [] };
const ANY_PORTS: PortLeaf[] = [{ op: 'any' }];

const ipKey = (ip: IpAddr): string => `${ip.v}:${ip.bytes.join('.')}`;
const leafKey = (l: AddrLeaf): string => (l.kind === 'prefix' ? `p${ipKey(l.addr)}/${l.prefix}` : `r${ipKey(l.lo)}-${ipKey(l.hi)}`);
const portKey = (p: PortLeaf): string => JSON.stringify(p);
const isTcp = (p: string): boolean => p === 'tcp' || p === 'ip' || p === 'tcp-udp';

export function netHas(set: NetSet, ip: IpAddr | null): boolean {
  if (!ip) return false;
  if (ip.v === 4 ? set.any4 : set.any6) return true;
  for (const l of set.leaves) {
    if (l.kind === 'prefix' ? inPrefix(ip, l.addr, l.prefix) : inRange(ip, l.lo, l.hi)) return true;
  }
  return false;
}

export function portHas(set: readonly PortLeaf[], p: number): boolean {
  for (const s of set) {
    switch (s.op) {
      case 'any':
        return true;
      case 'eq':
        if (p === s.port) return true;
        break;
      case 'neq':
        if (p !== s.port) return true;
        break;
      case 'lt':
        if (p < s.port) return true;
        break;
      case 'gt':
        if (p > s.port) return true;
        break;
      case 'range':
        if (p >= s.lo && p <= s.hi) return true;
        break;
    }
  }
  return false;
}

export class GroupFlattener {
  private readonly netGroups = new Map<string, NetNode>();
  private readonly portGroups = new Map<string, PortLeaf[]>();
  private readonly serviceGroups = new Map<string, TcpService[]>();
  private readonly aces = new WeakMap<Ace, FlatAce>();

  constructor(private readonly cfg: ParsedConfig) {
    // every network group's node now, so the per-connection memo is sized for all of them
    for (const g of cfg.groups.values()) if (g.type === 'network') this.netNode(g.name);
  }

  /** An address spec: a flat set, or a network group (matched through its DAG node). */
  net(spec: AddrSpec): NetSet | NetNode {
    switch (spec.kind) {
      case 'any':
        return { any4: spec.v !== 6, any6: spec.v !== 4, leaves: [] };
      case 'prefix':
      case 'range':
        return { any4: false, any6: false, leaves: [spec] };
      case 'never':
        return EMPTY_NET;
      case 'object': {
        const o = this.cfg.objects.get(spec.name);
        return o?.addr ? this.net(o.addr) : EMPTY_NET;
      }
      case 'group':
        return this.netNode(spec.name);
    }
  }

  /** A network group's node: its own entries flattened into one set, its subgroups as nodes (shared). */
  private netNode(name: string): NetNode {
    let node = this.netGroups.get(name);
    if (node === undefined) {
      const own: NetSet[] = [];
      const children = new Set<NetNode>();
      for (const e of this.cfg.groups.get(name)?.network ?? []) {
        const x = this.net(e);
        if ('children' in x) children.add(x);
        else own.push(x);
      }
      node = { id: this.netGroups.size, own: unionNets(own), children: [...children] };
      this.netGroups.set(name, node);
    }
    return node;
  }

  /** Number of network group nodes (sizes the per-connection memo). */
  get netNodeCount(): number {
    return this.netGroups.size;
  }

  ports(spec: PortSpec): PortLeaf[] {
    if (spec.op !== 'group') return spec.op === 'any' ? ANY_PORTS : [spec];
    let set = this.portGroups.get(spec.name);
    if (set === undefined) {
      const parts: PortLeaf[][] = [];
      for (const e of this.cfg.groups.get(spec.name)?.service ?? []) {
        if (e.kind === 'port') parts.push(this.ports(e.spec));
        else if (e.kind === 'group') parts.push(this.ports({ op: 'group', name: e.name, pos: e.pos }));
      }
      set = unionPorts(parts);
      this.portGroups.set(spec.name, set);
    }
    return set;
  }

  /** The flattened ACE (memoised per entry). */
  ace(ace: Ace): FlatAce {
    let flat = this.aces.get(ace);
    if (flat === undefined) {
      const own: TcpService = { src: this.ports(ace.srcPort), dst: this.ports(ace.dstPort) };
      const services =
        ace.proto.kind === 'name'
          ? isTcp(ace.proto.proto)
            ? [own]
            : []
          : ace.proto.kind === 'object'
            ? this.objectServices(ace.proto.name)
            : this.groupServices(ace.proto.name).map((s) => (s === ACE_PORTS ? own : s));
      flat = { src: this.net(ace.src), dst: this.net(ace.dst), services };
      this.aces.set(ace, flat);
    }
    return flat;
  }

  private service(e: ServiceEntry): TcpService {
    return { src: this.ports(e.src), dst: this.ports(e.dst) };
  }

  /** An `object service`'s TCP service (none for another protocol). */
  private objectServices(name: string): TcpService[] {
    const o = this.cfg.serviceObjects.get(name);
    return o?.service && isTcp(o.service.proto) ? [this.service(o.service)] : [];
  }

  /** A service or protocol group's TCP services, de-duplicated; ACE_PORTS stands for "the ACE's own ports". */
  private groupServices(name: string): TcpService[] {
    let out = this.serviceGroups.get(name);
    if (out !== undefined) return out;
    const g = this.cfg.groups.get(name);
    const parts: TcpService[] = [];
    if (g?.type === 'protocol') {
      for (const e of g.protocols) {
        if (e.kind === 'name') {
          if (isTcp(e.proto)) parts.push(ACE_PORTS);
        } else parts.push(...this.groupServices(e.name));
      }
    } else if (g) {
      for (const e of g.service) {
        if (e.kind === 'service' && isTcp(e.entry.proto)) parts.push(this.service(e.entry));
        else if (e.kind === 'service-object') parts.push(...this.objectServices(e.name));
        else if (e.kind === 'group') parts.push(...this.groupServices(e.name));
      }
    }
    const seen = new Set<string>();
    out = [];
    for (const s of parts) {
      const key = s === ACE_PORTS ? 'ace' : JSON.stringify([s.src, s.dst]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(s);
    }
    this.serviceGroups.set(name, out);
    return out;
  }
}

/** Marks "the ACE's own port specs" inside a protocol group's service list. */
const ACE_PORTS: TcpService = { src: ANY_PORTS, dst: ANY_PORTS };

function unionNets(sets: NetSet[]): NetSet {
  const out: NetSet = { any4: false, any6: false, leaves: [] };
  for (const s of sets) {
    out.any4 ||= s.any4;
    out.any6 ||= s.any6;
  }
  const seen = new Set<string>();
  for (const s of sets) {
    for (const l of s.leaves) {
      const v = l.kind === 'prefix' ? l.addr.v : l.lo.v;
      if (v === 4 ? out.any4 : out.any6) continue; // covered by any4/any6
      const key = leafKey(l);
      if (seen.has(key)) continue;
      seen.add(key);
      out.leaves.push(l);
    }
  }
  return out;
}

function unionPorts(parts: PortLeaf[][]): PortLeaf[] {
  const seen = new Set<string>();
  const out: PortLeaf[] = [];
  for (const p of parts) {
    for (const l of p) {
      if (l.op === 'any') return ANY_PORTS;
      const key = portKey(l);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(l);
    }
  }
  return out;
}
