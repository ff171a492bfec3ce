/**
 * Per-connection ASA interfaces: from the config's interfaces and routes (a gateway that receives
 * from outside and delivers out is, connection by connection, on either side), or the fixed pair.
 */
import type { InterfaceRouting } from '../policy/types.js';
import type { ConnInterfaces } from './conn-state.js';

/** Today's rule without security levels: a connection is outbound when its client is named inside. */
export function fixedInterfaces(client: string, server: string): ConnInterfaces {
  return Object.freeze({ client, server, outbound: client === 'inside' });
}

export class InterfaceEnds {
  private readonly fixed: ConnInterfaces;
  /** Null: every connection gets the fixed pair. */
  private readonly routing: InterfaceRouting | null;

  /**
   * `clientInterface` / `serverInterface` as the user gave them (undefined when not given): either
   * one given keeps the fixed pair for every connection, as does a config without usable interfaces.
   */
  constructor(routing: InterfaceRouting | undefined, clientInterface: string | undefined, serverInterface: string | undefined) {
    this.fixed = fixedInterfaces(clientInterface ?? 'outside', serverInterface ?? 'inside');
    const explicit = clientInterface !== undefined || serverInterface !== undefined;
    this.routing = !explicit && routing !== undefined && routing.usable ? routing : null;
  }

  /** The routing in use, or null for the fixed pair. */
  get fromConfig(): InterfaceRouting | null {
    return this.routing;
  }

  /** Once per connection, at its first packet. */
  of(clientIp: string, serverIp: string): ConnInterfaces {
    const r = this.routing;
    if (r === null) return this.fixed;
    // An address the map cannot place (a config without routes, as `show running-config interface`
    // prints) is most likely on the Internet behind the lowest security level; when the other end
    // is there itself, behind the highest. Both unplaced: the fixed pair. Before, an unplaced side
    // took the fixed default of its side: an inside or DMZ gateway delivering to an unrouted MX
    // was logged inside -> inside, dmz -> inside (inbound).
    const cp = r.interfaceOf(clientIp)?.name ?? null;
    const sp = r.interfaceOf(serverIp)?.name ?? null;
    const client = cp ?? (sp === null ? this.fixed.client : acrossFrom(r, sp, this.fixed.client, this.fixed.server));
    const server = sp ?? (cp === null ? this.fixed.server : acrossFrom(r, cp, this.fixed.server, this.fixed.client));
    const cl = r.securityLevel(client);
    const sl = r.securityLevel(server);
    // 302013: outbound from a higher to a lower security level, inbound the other way
    if (cl !== null && sl !== null && cl !== sl) return { client, server, outbound: cl > sl, insideEnd: cl > sl ? 'client' : 'server' };
    return { client, server, outbound: client === 'inside' };
  }
}

/**
 * The interface an unplaced address is taken to be on, the other end being on `placed`: the lowest
 * security level unless `placed` has it, then the highest (ties: `fallback` if it is one of them,
 * else the first in config order). The config lists no other interface: `fallback`, or `alternate`
 * when `fallback` is `placed` itself (a config naming only inside: not inside -> inside).
 */
function acrossFrom(r: InterfaceRouting, placed: string, fallback: string, alternate: string): string {
  const own = r.securityLevel(placed);
  const others = (r.names?.() ?? []).filter((n) => n !== placed);
  let low: number | null = null;
  let high: number | null = null;
  for (const n of others) {
    const l = r.securityLevel(n) ?? 0;
    if (low === null || l < low) low = l;
    if (high === null || l > high) high = l;
  }
  if (low === null || high === null) return fallback === placed ? alternate : fallback;
  const want = own !== null && own <= low ? high : low;
  const at = others.filter((n) => (r.securityLevel(n) ?? 0) === want);
  return at.includes(fallback) ? fallback : (at[0] ?? fallback);
}
