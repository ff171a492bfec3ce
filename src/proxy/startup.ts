/** What the proxy says at start-up about its policy. */
import type { CompiledPolicy } from '../policy/types.js';

/**
 * One stderr line when no class of the policy selects the upstream port: every connection would be
 * relayed unchanged with only an "exempt" verdict, which looks like inspection finding nothing.
 * Null when the port is inspected, or when a class matches any port (an ACL or `match any`: the
 * decision then depends on the addresses and shows per connection).
 */
export function uninspectedPortWarning(policy: CompiledPolicy, port: number): string | null {
  const ports = policy.esmtpPorts();
  if (ports === null || ports.includes(port)) return null;
  const inspected = ports.length > 0 ? `it inspects ESMTP on port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} only` : 'it inspects ESMTP on no port';
  const cls = `SMTP-${port}`;
  return (
    `smtp-inspect: warning: policy ${policy.source} does not inspect upstream port ${port} (${inspected}): every connection will be relayed unchanged (verdict "exempt"); ` +
    `to inspect it add a class-map matching the port: class-map ${cls} / match port tcp eq ${port} / policy-map global_policy / class ${cls} / inspect esmtp`
  );
}
