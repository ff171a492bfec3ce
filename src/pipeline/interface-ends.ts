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
    // an address the map cannot place keeps the fixed default for its side
    const client = r.interfaceOf(clientIp)?.name ?? this.fixed.client;
    const server = r.interfaceOf(serverIp)?.name ?? this.fixed.server;
    const cl = r.securityLevel(client);
    const sl = r.securityLevel(server);
    // 302013: outbound from a higher to a lower security level, inbound the other way
    const outbound = cl !== null && sl !== null && cl !== sl ? cl > sl : client === 'inside';
    return { client, server, outbound };
  }
}
