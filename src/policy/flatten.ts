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

  private readonly path: NetNode[] = [];
  private readonly next: number[] = [];

  private known(n: NetNode): number {
    return this.stamp[n.id] === this.gen ? (this.state[n.id] as number) : 0;
  }

  private mark(n: NetNode, v: 1 | 2): void {
    this.stamp[n.id] = this.gen;
    this.state[n.id] = v;
  }

  /**
   * Whether the group holds the address: each node is looked at once per address. Recursive (the
   * fastest form) down to 256 levels, then with an explicit stack (a hierarchy may be thousands of
   * levels deep).
   */
  has(node: NetNode, ip: IpAddr, depth = 0): boolean {
    if (this.stamp[node.id] === this.gen) return this.state[node.id] === 1;
    if (node.id >= this.state.length) throw new RangeError(`group node ${node.id} outside the memo (${this.state.length})`);
    if (depth > 256) return this.hasDeep(node, ip);
    let yes = netHas(node.own, ip);
    for (let k = 0; !yes && k < node.children.length; k++) yes = this.has(node.children[k] as NetNode, ip, depth + 1);
    this.mark(node, yes ? 1 : 2);
    return yes;
  }

  private hasDeep(root: NetNode, ip: IpAddr): boolean {
    const k = this.known(root);
    if (k !== 0) return k === 1;
    const path = this.path;
    const next = this.next;
    path.length = 0;
    next.length = 0;
    let hit = netHas(root.own, ip);
    if (!hit) {
      path.push(root);
      next.push(0);
    }
    while (!hit && path.length > 0) {
      const top = path.length - 1;
      const n = path[top] as NetNode;
      const i = next[top] as number;
      if (i >= n.children.length) {
        this.mark(n, 2); // its whole sub-hierarchy holds no match
        path.pop();
        next.pop();
        continue;
      }
      next[top] = i + 1;
      const child = n.children[i] as NetNode;
      const ck = this.known(child);
      if (ck === 1 || (ck === 0 && netHas(child.own, ip))) {
        this.mark(child, 1);
        hit = true;
      } else if (ck === 0) {
        path.push(child);
        next.push(0);
      }
    }
    if (hit) for (const n of path) this.mark(n, 1); // every node on the path contains the hit
    this.mark(root, hit ? 1 : 2);
    return hit;
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
    // every group flattened now, children first (an explicit stack: a hierarchy may be thousands of
    // levels deep, so no flattening call recurses more than one level); the network nodes size the
    // per-connection memo
    for (const name of childrenFirst(cfg)) {
      const g = cfg.groups.get(name);
      if (g?.type === 'network') this.netNode(name);
      else if (g?.type === 'service' && g.portProto !== null) this.ports({ op: 'group', name, pos: g.pos });
      else if (g) this.groupServices(name);
    }
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

/** Every group's name, each after the groups it contains (iterative post-order over the DAG). */
function childrenFirst(cfg: ParsedConfig): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const children = (name: string): string[] => {
    const g = cfg.groups.get(name);
    if (!g) return [];
    const out: string[] = [];
    for (const e of g.network) if (e.kind === 'group') out.push(e.name);
    for (const e of g.service) if (e.kind === 'group') out.push(e.name);
    for (const e of g.protocols) if (e.kind === 'group') out.push(e.name);
    return out;
  };
  for (const root of cfg.groups.keys()) {
    if (done.has(root)) continue;
    const stack: Array<{ name: string; kids: string[]; next: number }> = [{ name: root, kids: children(root), next: 0 }];
    done.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; kids: string[]; next: number };
      const kid = top.kids[top.next++];
      if (kid === undefined) {
        out.push(top.name);
        stack.pop();
      } else if (!done.has(kid)) {
        done.add(kid);
        stack.push({ name: kid, kids: children(kid), next: 0 });
      }
    }
  }
  return out;
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
