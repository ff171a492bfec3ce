/**
 * The ESMTP-inspecting classes of a compiled policy, for `show service-policy`: the ASA prints
 * every configured class of every applied service-policy, traffic or not (ASA-ESMTP.md 5: `Inspect:
 * esmtp _default_esmtp_map, packet 0, ...`). The replay/live pipeline and the proxy register them
 * before traffic so zero-traffic classes print with zero counts.
 */
import { PolicyImpl } from '../policy/compile.js';
import type { CompiledPolicy, EsmtpMap } from '../policy/types.js';
import type { EsmtpCounters } from './counters.js';

export interface EsmtpClassRef {
  /** 'global' or the interface name. */
  scope: string;
  policyMap: string;
  className: string;
  map: EsmtpMap;
}

/**
 * Global policy first, then interface policies in service-policy order; classes in evaluation
 * order (class-default last). Empty for a policy that is not ours (nothing to enumerate).
 */
export function esmtpClassesOf(policy: CompiledPolicy): EsmtpClassRef[] {
  if (!(policy instanceof PolicyImpl)) return [];
  const r = policy.resolved;
  const out: EsmtpClassRef[] = [];
  const add = (scope: string, pm: { name: string; classes: ReadonlyArray<{ name: string; esmtp: EsmtpMap | null }> }): void => {
    for (const c of pm.classes) if (c.esmtp) out.push({ scope, policyMap: pm.name, className: c.name, map: c.esmtp });
  };
  if (r.global) add('global', r.global);
  for (const sp of r.servicePolicies) {
    if (sp.scope === 'global') continue;
    const pm = r.interfaces.get(sp.scope);
    if (pm) add(sp.scope, pm);
  }
  return out;
}

/** Registers every ESMTP class of the policy (idempotent), so each prints even with no traffic. */
export function registerPolicyClasses(counters: EsmtpCounters, policy: CompiledPolicy): void {
  for (const c of esmtpClassesOf(policy)) counters.register(c.scope, c.policyMap, c.className, c.map);
}
