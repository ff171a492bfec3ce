/**
 * Connects the proxy to the policy and the ESMTP engine: the policy's classify() decides per
 * connection (exempt = plain relay), and an inspected connection gets an engine session whose
 * reads are counted in the `show service-policy` counters (packet = one read, drop / reset-drop =
 * one per connection cut, counted at the triggering read).
 */
import type { EsmtpCounters } from '../inspect/counters.js';
import { createEsmtpSession } from '../inspect/esmtp/session.js';
import { registerPolicyClasses } from '../inspect/policy-classes.js';
import type { EngineOptions } from '../inspect/options.js';
import type { InspectorSession, SessionContext } from '../inspect/types.js';
import type { Direction } from '../flow/types.js';
import type { CompiledPolicy, EsmtpMap } from '../policy/types.js';
import type { InspectorFactory } from './types.js';

export interface BindingOptions {
  policy: CompiledPolicy;
  engineOptions: EngineOptions;
  counters: EsmtpCounters;
  clientInterface: string;
  serverInterface: string;
}

export function createInspectorFactory(o: BindingOptions): InspectorFactory {
  // every configured ESMTP class prints in show service-policy, with zero counts until traffic
  registerPolicyClasses(o.counters, o.policy);
  return (meta, sink) => {
    const decision = o.policy.classify({
      ipVersion: meta.ipVersion,
      clientIp: meta.clientIp,
      clientPort: meta.clientPort,
      serverIp: meta.serverIp,
      serverPort: meta.serverPort,
      ingressInterface: o.clientInterface,
      egressInterface: o.serverInterface,
    });
    const map = decision.esmtp;
    if (map === null) return null;
    o.counters.entry(decision.policyMap, decision.className, map).scope = decision.scope;
    const ctx: SessionContext = {
      conn: meta,
      clientInterface: o.clientInterface,
      serverInterface: o.serverInterface,
      policyMap: decision.policyMap,
      className: decision.className,
    };
    const inner = createEsmtpSession(map, ctx, o.engineOptions, sink, o.counters);
    return {
      session: new CountingSession(inner, o.counters, decision.policyMap, decision.className, map),
      policyMap: decision.policyMap,
      className: decision.className,
      mapName: map.name,
    };
  };
}

/** Counts reads and the connection's cut while delegating everything to the engine session. */
class CountingSession implements InspectorSession {
  private cutCounted = false;

  constructor(
    private readonly inner: InspectorSession,
    private readonly counters: EsmtpCounters,
    private readonly policyMap: string,
    private readonly className: string,
    private readonly map: EsmtpMap,
  ) {}

  data(dir: Direction, data: Buffer, offset: number): void {
    this.counters.countPacket(this.policyMap, this.className, this.map);
    this.inner.data(dir, data, offset);
    this.countCut();
  }
  gap(dir: Direction, offset: number, length: number): void {
    this.inner.gap(dir, offset, length);
    this.countCut();
  }
  end(): void {
    this.inner.end();
    this.countCut();
  }
  private countCut(): void {
    if (this.cutCounted) return;
    const s = this.inner.state;
    if (s === 'dropped') this.counters.countDrop(this.policyMap, this.className, this.map);
    else if (s === 'reset') this.counters.countResetDrop(this.policyMap, this.className, this.map);
    else return;
    this.cutCounted = true;
  }
  get state() {
    return this.inner.state;
  }
  get dropOffset(): number {
    return this.inner.dropOffset;
  }
  get dropDirection(): Direction {
    return this.inner.dropDirection;
  }
  committed(dir: Direction): number {
    return this.inner.committed(dir);
  }
}
