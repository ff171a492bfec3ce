/**
 * Which ASA interface an address sits behind, from a running-config's `interface` blocks (nameif,
 * security-level, ip/ipv6 address) and its `route` / `ipv6 route` lines: a capture of a gateway
 * that both receives mail from outside and delivers out gets, per connection, the interface names,
 * the `Built inbound|outbound` direction and the interface service-policy an ASA would give it.
 * The policy parser ignores these lines (they select no inspection); they are read here, apart.
 */
import { formatIp, parseIp, type IpAddr } from './address.js';
import { isIndented, type SourceLine } from './lexer.js';
import type { InterfacePlacement, InterfaceRouting } from './types.js';

interface Prefix {
  addr: IpAddr;
  len: number;
}

interface IfaceDef {
  /** `interface GigabitEthernet0/1` (the hardware name), for the note. */
  hw: string;
  nameif: string | null;
  level: number | null;
  v4: Prefix | null;
  v6: Prefix[];
  dhcpSetroute: boolean;
  shutdown: boolean;
  /** `management-only`: no through traffic, so no side an unrouted address is taken to be on. */
  managementOnly: boolean;
  line: number;
}

interface Route {
  iface: string;
  net: Prefix;
  line: number;
}

/** Interface sub-commands read here; anything else indented under `interface` is skipped. */
const IF_WORDS = new Set(['nameif', 'security-level', 'ip', 'ipv6', 'shutdown', 'no', 'management-only']);

function maskLength(mask: IpAddr): number | null {
  let len = 0;
  let ended = false;
  for (const b of mask.bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const on = (b >> bit) & 1;
      if (on && ended) return null; // not contiguous: no ASA netmask
      if (on) len++;
      else ended = true;
    }
  }
  return len;
}

function v4(text: string): IpAddr | null {
  // `route outside 0 0 GW`: the ASA reads a lone 0 as 0.0.0.0
  const a = parseIp(text === '0' ? '0.0.0.0' : text);
  return a !== null && a.v === 4 ? a : null;
}

function v6Prefix(text: string): Prefix | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const a = parseIp(text.slice(0, slash));
  const len = Number(text.slice(slash + 1));
  if (a === null || a.v !== 6 || !Number.isInteger(len) || len < 0 || len > 128) return null;
  return { addr: a, len };
}

function inPrefix(a: IpAddr, p: Prefix): boolean {
  if (a.v !== p.addr.v) return false;
  let bits = p.len;
  for (let k = 0; bits > 0; k++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((a.bytes[k] as number) & m) !== ((p.addr.bytes[k] as number) & m)) return false;
  }
  return true;
}

/** The network of a prefix (host bits cleared), printed `A/LEN`. */
function prefixText(p: Prefix): string {
  const bytes = Uint8Array.from(p.addr.bytes);
  let bits = p.len;
  for (let k = 0; k < bytes.length; k++, bits -= 8) {
    const m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    bytes[k] = (bytes[k] as number) & m;
  }
  return `${formatIp({ v: p.addr.v, bytes })}/${p.len}`;
}

/**
 * Reads the interface blocks and routes of a lexed configuration. A block runs from `interface X`
 * to the next line written at column 1 that is not one of its sub-commands (a pasted session's
 * `(config-if)#` lines, and flat text's column-1 `nameif` / `security-level` / `ip address`, belong to it).
 */
export function readInterfaceMap(lines: readonly SourceLine[]): InterfaceMap {
  const ifaces: IfaceDef[] = [];
  const routes: Route[] = [];
  let cur: IfaceDef | null = null;
  // a pasted terminal session: lines without a prompt are the device's messages (INFO: …)
  const session = lines.some((l) => l.prompt !== undefined);
  const names = hostNames(lines, session);
  for (const sl of lines) {
    const t = sl.tokens;
    const w0 = t[0]?.lower ?? '';
    if (w0 === '' || w0.startsWith(':') || (session && sl.prompt === undefined) || sl.prompt === 'exec') continue;
    const w1 = t[1]?.lower ?? '';
    // `!`, `exit`, and a route or another `interface` typed at the interface's prompt (the ASA runs
    // it globally; before, the next interface's `ip address` overwrote this one's) end the block
    if (w0.startsWith('!') || w0 === 'exit' || w0 === 'route' || w0 === 'interface' || (w0 === 'ipv6' && w1 === 'route')) cur = null;
    if (w0.startsWith('!')) continue;
    const sub = isIndented(sl) || sl.prompt === 'sub';
    if (cur !== null && !sub && sl.prompt !== 'config') {
      // flat text: the block's own commands at column 1 still belong to it
      if (!flatSubCommand(w0, w1, t[2]?.lower ?? '')) cur = null;
    } else if (cur !== null && !sub) cur = null;
    if (cur !== null && IF_WORDS.has(w0)) {
      readIfLine(cur, sl);
      continue;
    }
    if (cur !== null) continue;
    if (w0 === 'interface' && t[1] !== undefined) {
      // an interface entered again (a pasted session: `nameif` first, `ip address` later) is the same one
      const hw = t[1].text;
      const again = ifaces.find((i) => i.hw.toLowerCase() === hw.toLowerCase());
      if (again !== undefined) cur = again;
      else {
        cur = { hw, nameif: null, level: null, v4: null, v6: [], dhcpSetroute: false, shutdown: false, managementOnly: false, line: sl.line };
        ifaces.push(cur);
      }
      continue;
    }
    if (w0 === 'route' && t.length >= 5) {
      // route NAME NET MASK GW [metric] [track N | tunneled]: a tunneled route carries VPN traffic only
      if (t.some((x) => x.lower === 'tunneled')) continue;
      // with `names` the ASA prints a `name A NAME` alias in the route's network (`route inside corp-net 255.255.0.0 GW`)
      const netText = (t[2] as { text: string }).text;
      const net = v4(netText) ?? names.get(netText) ?? null;
      const mask = v4((t[3] as { text: string }).text);
      const len = mask === null ? null : maskLength(mask);
      if (net !== null && len !== null) routes.push({ iface: (t[1] as { text: string }).text, net: { addr: net, len }, line: sl.line });
      continue;
    }
    if (w0 === 'ipv6' && w1 === 'route' && t.length >= 5) {
      if (t.some((x) => x.lower === 'tunneled')) continue;
      const p = v6Prefix((t[3] as { text: string }).text);
      if (p !== null) routes.push({ iface: (t[2] as { text: string }).text, net: p, line: sl.line });
    }
  }
  return new InterfaceMap(ifaces, routes);
}

/**
 * Interface sub-commands no global command starts with: in flat text they keep the block open. A
 * `show running-config` prints `description`, `vlan`, `management-only`, `speed`/`duplex` before
 * `nameif`; before, each ended the block there and the interface lost its name and subnet.
 */
const FLAT_IF_WORDS = new Set(['nameif', 'security-level', 'shutdown', 'description', 'vlan', 'management-only', 'speed', 'duplex', 'channel-group', 'delay', 'flowcontrol', 'nve-only', 'ospf', 'pppoe']);
/** `no X` forms of interface sub-commands (global `no …` lines, such as `no mac-address auto`, end the block). */
const FLAT_IF_NO_WORDS = new Set(['nameif', 'security-level', 'shutdown', 'description', 'management-only', 'vlan']);

function flatSubCommand(w0: string, w1: string, w2: string): boolean {
  if (FLAT_IF_WORDS.has(w0)) return true;
  if (w0 === 'ip') return w1 === 'address';
  // `ipv6 enable` / `ipv6 nd …` are interface-only; `ipv6 route`, `ipv6 access-list`, … are global
  if (w0 === 'ipv6') return w1 === 'address' || w1 === 'enable' || w1 === 'nd';
  if (w0 === 'no') return FLAT_IF_NO_WORDS.has(w1) || ((w1 === 'ip' || w1 === 'ipv6') && w2 === 'address');
  // `mac-address H.H.H [standby H.H.H]` (the global forms are `mac-address auto|pool`)
  return w0 === 'mac-address' && w1 !== '' && w1 !== 'auto' && w1 !== 'pool';
}

/** `name A NAME [description …]` aliases of IPv4 addresses (names are case-sensitive, as on the ASA). */
function hostNames(lines: readonly SourceLine[], session: boolean): Map<string, IpAddr> {
  const out = new Map<string, IpAddr>();
  for (const sl of lines) {
    const t = sl.tokens;
    if (t[0]?.lower !== 'name' || t[1] === undefined || t[2] === undefined || isIndented(sl) || sl.prompt === 'sub') continue;
    if (session && sl.prompt === undefined) continue;
    const a = v4(t[1].text);
    if (a !== null) out.set(t[2].text, a);
  }
  return out;
}

function readIfLine(cur: IfaceDef, sl: SourceLine): void {
  const t = sl.tokens;
  const w0 = t[0]?.lower ?? '';
  const w1 = t[1]?.lower ?? '';
  if (w0 === 'no') {
    if (w1 === 'nameif') cur.nameif = null;
    else if (w1 === 'security-level') cur.level = null;
    else if (w1 === 'shutdown') cur.shutdown = false;
    else if (w1 === 'management-only') cur.managementOnly = false;
    else if (w1 === 'ip' && t[2]?.lower === 'address') cur.v4 = null;
    return;
  }
  if (w0 === 'shutdown') cur.shutdown = true;
  else if (w0 === 'management-only') cur.managementOnly = true;
  else if (w0 === 'nameif' && t[1] !== undefined) cur.nameif = t[1].text;
  else if (w0 === 'security-level' && t[1] !== undefined) {
    const n = Number(t[1].text);
    if (Number.isInteger(n) && n >= 0 && n <= 100) cur.level = n;
  } else if (w0 === 'ip' && w1 === 'address' && t[2] !== undefined) {
    // ip address A MASK [standby S] | ip address dhcp [setroute] | ip address pppoe [setroute]
    if (t[2].lower === 'dhcp' || t[2].lower === 'pppoe') {
      cur.dhcpSetroute = t.some((x) => x.lower === 'setroute');
      return;
    }
    const a = v4(t[2].text);
    const m = t[3] === undefined ? null : v4(t[3].text);
    const len = m === null ? null : maskLength(m);
    if (a !== null && len !== null) cur.v4 = { addr: a, len };
  } else if (w0 === 'ipv6' && w1 === 'address' && t[2] !== undefined) {
    // ipv6 address P/LEN [eui-64 | standby S]; link-local and autoconfig place no subnet
    if (t.some((x) => x.lower === 'link-local')) return;
    const p = v6Prefix(t[2].text);
    if (p !== null) cur.v6.push(p);
  }
}

/** The ASA's security level when none is configured: 100 for nameif inside, 0 otherwise. */
function defaultLevel(nameif: string): number {
  return nameif.toLowerCase() === 'inside' ? 100 : 0;
}

interface Connected {
  name: string;
  net: Prefix;
}

export class InterfaceMap implements InterfaceRouting {
  private readonly connected: Connected[] = [];
  private readonly routes: Route[];
  private readonly levels = new Map<string, number>();
  private readonly named: IfaceDef[];

  constructor(ifaces: readonly IfaceDef[], routes: readonly Route[]) {
    this.named = ifaces.filter((i) => i.nameif !== null && !i.shutdown);
    for (const i of this.named) {
      const name = i.nameif as string;
      this.levels.set(name, i.level ?? defaultLevel(name));
      if (i.v4) this.connected.push({ name, net: i.v4 });
      for (const p of i.v6) this.connected.push({ name, net: p });
    }
    this.routes = [...routes];
    // `ip address dhcp setroute`: the DHCP server's default route, unless a static one is configured
    for (const i of this.named) {
      if (i.dhcpSetroute && !this.routes.some((r) => r.net.len === 0 && r.net.addr.v === 4)) {
        this.routes.push({ iface: i.nameif as string, net: { addr: { v: 4, bytes: new Uint8Array(4) }, len: 0 }, line: i.line });
      }
    }
  }

  /** True when the config names at least one interface with an address: per-connection placement applies. */
  get usable(): boolean {
    return this.connected.length > 0;
  }

  securityLevel(name: string): number | null {
    return this.levels.get(name) ?? null;
  }

  /**
   * The interface an address is reached through: the connected subnet holding it (longest prefix),
   * else the longest-prefix route (the default route last), else null.
   */
  interfaceOf(ip: string): InterfacePlacement | null {
    const a = parseIp(ip);
    if (a === null) return null;
    let best: { name: string; len: number; via: 'connected' | 'route' } | null = null;
    for (const c of this.connected) {
      if (inPrefix(a, c.net) && (best === null || c.net.len > best.len)) best = { name: c.name, len: c.net.len, via: 'connected' };
    }
    if (best === null) {
      for (const r of this.routes) {
        if (inPrefix(a, r.net) && (best === null || r.net.len > best.len)) best = { name: r.iface, len: r.net.len, via: 'route' };
      }
    }
    if (best === null) return null;
    // a route to null0 (or to a name no interface has) drops the traffic: no interface to place it on
    if (!this.levels.has(best.name)) return null;
    return { name: best.name, securityLevel: this.levels.get(best.name) ?? null, via: best.via };
  }

  /** The interfaces that pass traffic (not management-only), in config order. */
  names(): readonly string[] {
    return this.named.filter((i) => !i.managementOnly).map((i) => i.nameif as string);
  }

  /** One line for the admin: each interface with its level and subnets, and the default route's interface. */
  describe(): string {
    const parts = this.named.map((i) => {
      const name = i.nameif as string;
      const nets = [...(i.v4 ? [prefixText(i.v4)] : []), ...i.v6.map(prefixText)];
      // each family has its own default route: an IPv4 `route … 0 0` places no IPv6 address
      const routed = this.routes.filter((r) => r.iface === name).map((r) => (r.net.len === 0 ? defaultRouteText(r.net.addr.v) : `route ${prefixText(r.net)}`));
      const all = [...nets, ...routed];
      return `${name} (security-level ${this.levels.get(name) ?? '?'}${all.length > 0 ? `, ${all.join(', ')}` : ''})`;
    });
    return parts.join('; ');
  }
}

function defaultRouteText(v: 4 | 6): string {
  return v === 6 ? 'IPv6 default route' : 'default route';
}
