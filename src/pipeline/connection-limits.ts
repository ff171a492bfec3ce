/**
 * `set connection conn-max / embryonic-conn-max / per-client-max / per-client-embryonic-max` of
 * the class that matched a connection. A connection opened beyond a limit is refused: its SYN and
 * every later packet of it are dropped, with the ASA's 201011 / 201010 / 201013 / 201012 line.
 *
 * Simplification (documented in native-notes/replay.md): beyond the embryonic limits a real ASA
 * answers SYNs itself (TCP Intercept, SYN cookies) and lets clients that complete the handshake
 * through; replaying a capture we cannot answer anyone, so those SYNs are dropped and logged.
 */
import type { ConnectionMeta } from '../flow/types.js';
import { syslog201010, syslog201011, syslog201012, syslog201013 } from '../inspect/syslog.js';
import type { ClassDecision } from '../policy/types.js';
import type { ConnState } from './conn-state.js';

interface Count {
  conns: number;
  embryonic: number;
}

export type Admission = { ok: true } | { ok: false; rule: string; syslog: string };

export class ConnectionLimiter {
  private readonly perClass = new Map<string, Count>();
  private readonly perClient = new Map<string, Count>();

  private count(map: Map<string, Count>, key: string): Count {
    let c = map.get(key);
    if (!c) {
      c = { conns: 0, embryonic: 0 };
      map.set(key, c);
    }
    return c;
  }

  /** Decides a new connection; when admitted, `st` is counted until release(). */
  admit(decision: ClassDecision, conn: ConnectionMeta, st: ConnState, ingressInterface: string): Admission {
    const l = decision.limits;
    if (l === null || (l.connMax === 0 && l.embryonicConnMax === 0 && l.perClientMax === 0 && l.perClientEmbryonicMax === 0)) {
      return { ok: true };
    }
    const classKey = `${decision.scope}\u0000${decision.policyMap}\u0000${decision.className}`;
    const clientKey = `${classKey}\u0000${conn.clientIp}`;
    const cls = this.count(this.perClass, classKey);
    const cli = this.count(this.perClient, clientKey);
    const src = { ip: conn.clientIp, port: conn.clientPort };
    const dst = { ip: conn.serverIp, port: conn.serverPort };
    if (l.connMax > 0 && cls.conns >= l.connMax) {
      return { ok: false, rule: `set connection conn-max ${l.connMax}`, syslog: syslog201011(cls.conns, l.connMax, 'input', src, dst, ingressInterface) };
    }
    if (l.embryonicConnMax > 0 && cls.embryonic >= l.embryonicConnMax) {
      return {
        ok: false,
        rule: `set connection embryonic-conn-max ${l.embryonicConnMax}`,
        syslog: syslog201010(cls.embryonic, l.embryonicConnMax, 'input', src, dst, ingressInterface),
      };
    }
    if (l.perClientMax > 0 && cli.conns >= l.perClientMax) {
      return { ok: false, rule: `set connection per-client-max ${l.perClientMax}`, syslog: syslog201013(cli.conns, l.perClientMax, 'input', src, dst, ingressInterface) };
    }
    if (l.perClientEmbryonicMax > 0 && cli.embryonic >= l.perClientEmbryonicMax) {
      return {
        ok: false,
        rule: `set connection per-client-embryonic-max ${l.perClientEmbryonicMax}`,
        syslog: syslog201012(cli.embryonic, l.perClientEmbryonicMax, 'input', src, dst, ingressInterface),
      };
    }
    cls.conns++;
    cli.conns++;
    st.limitClassKey = classKey;
    st.limitClientKey = clientKey;
    st.embryonic = !conn.synSeen ? false : true;
    if (st.embryonic) {
      cls.embryonic++;
      cli.embryonic++;
    }
    return { ok: true };
  }

  /** The handshake completed: no longer embryonic. */
  established(st: ConnState): void {
    if (st.limitClassKey === null || !st.embryonic) return;
    st.embryonic = false;
    this.decrement(st, false, true);
  }

  /** The connection ended (any reason). */
  release(st: ConnState): void {
    if (st.limitClassKey === null) return;
    this.decrement(st, true, st.embryonic);
    st.embryonic = false;
    st.limitClassKey = null;
    st.limitClientKey = null;
  }

  private decrement(st: ConnState, conn: boolean, embryonic: boolean): void {
    for (const [map, key] of [
      [this.perClass, st.limitClassKey],
      [this.perClient, st.limitClientKey],
    ] as const) {
      if (key === null) continue;
      const c = map.get(key);
      if (!c) continue;
      if (conn) c.conns = Math.max(0, c.conns - 1);
      if (embryonic) c.embryonic = Math.max(0, c.embryonic - 1);
      if (c.conns === 0 && c.embryonic === 0) map.delete(key);
    }
  }
}
