/**
 * The verdict-log wording of connection events (302013 built, 302014 teardown), shared by the
 * replay/live pipeline and the proxy so that the same event reads the same in both
 * (test/proxy/wording.test.ts holds the proxy to a real replay's records).
 */
import { teardownReasonText, type TeardownReason } from '../inspect/syslog.js';

export interface InspectingClassName {
  policyMap: string;
  className: string;
  /** The inspect esmtp map's name (`_default_esmtp_map` for a bare `inspect esmtp`). */
  mapName: string;
}

/** Detail of the 302013 record of an inspected connection. */
export function builtDetail(c: InspectingClassName): string {
  return `built: inspected by class ${c.className} (policy-map ${c.policyMap}, inspect esmtp ${c.mapName})`;
}

/** Detail of the 302014 record: the teardown reason as the syslog line prints it (same spacing). */
export function teardownDetail(reason: TeardownReason, spacing: 'compact' | 'spaced' = 'compact'): string {
  return `teardown: ${teardownReasonText(reason, spacing)}`;
}
