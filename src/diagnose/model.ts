/** The diagnose report: what `--json` prints and what the text and HTML renderers draw. */
import type { Category, FixKind, Severity, Symptom } from './catalogue.js';
import type { Evidence } from './detect.js';
import type { Caveat } from './notes.js';
import type { SessionTranscript } from './transcript.js';

export interface FixProposal {
  /** Stable id within the report ('fix-1'), so several findings can share one fix. */
  id: string;
  kind: FixKind;
  summary: string;
  /** ASA configuration lines to add to the running configuration, in order. */
  config: string[];
  /** true: replaying with the fix removes the breakage; false: it does not; null: not verifiable. */
  verified: boolean | null;
  verification: string;
  /** `show service-policy inspect esmtp` after replaying the capture with the fix (absent: not replayed). */
  servicePolicy?: string;
}

export interface Finding {
  /** Input packet number where it happens. */
  packet: number;
  rule: string;
  action: string;
  category: Category;
  severity: Severity;
  /** 'client-to-server' / 'server-to-client'. */
  direction: string;
  detail: string;
  syslog: string[];
  symptom: Symptom;
  fix: FixProposal | null;
  /** 'emulation': our replay with the policy; 'capture': already done by a firewall in the path. */
  source: 'emulation' | 'capture';
  /** Why this finding is uncertain (a gap before it, the capture diverging from the ASA's path...), or null. */
  uncertain: string | null;
}

export interface SessionReport {
  id: number;
  client: string;
  server: string;
  inspected: boolean;
  /** The policy's class decision for the session, at its first packet (which class, which ACL line). */
  decision?: string;
  /** When a time-range made the decision: why, with the local time it was judged at (decision.ts); else null. */
  timeRange?: string | null;
  findings: Finding[];
  /** What limits the findings: gaps, divergences from the ASA's path, the capture ending early. */
  caveats: Caveat[];
  /** True when a caveat makes the session's findings (or the absence of findings) uncertain. */
  uncertain: boolean;
  transcript: SessionTranscript;
}

export interface DiagnoseReport {
  input: string;
  policy: string;
  sessions: SessionReport[];
  firewallDetected: boolean;
  evidence: Evidence[];
  /**
   * `show service-policy inspect esmtp` as the ASA would count this capture under the policy (the
   * seed article's starting point: compare with the firewall's own counters); '' when not known.
   */
  servicePolicy: string;
  /** The one fix that covers every breaking finding (the gateway exemption), when one is needed. */
  recommended: FixProposal | null;
  fixes: FixProposal[];
  /** uncertain: sessions whose findings are uncertain (see SessionReport.uncertain). */
  counts: { sessions: number; affected: number; broken: number; findings: number; uncertain: number };
}

/** The `--json` object: the report without transcripts. */
export function reportJson(r: DiagnoseReport): unknown {
  return {
    input: r.input,
    policy: r.policy,
    sessions: r.sessions.map(sessionJson),
    ...reportJsonTail(r),
  };
}

/**
 * `JSON.stringify(reportJson(r), null, 2) + '\n'` in parts, one session at a time: the CLI writes
 * them as they come, so a big capture's report is never one string (nor one object tree).
 */
export function* reportJsonText(r: DiagnoseReport): Generator<string> {
  const frame = JSON.stringify({ input: r.input, policy: r.policy, sessions: [], ...reportJsonTail(r) }, null, 2);
  // the top level's keys are indented by 2: a line "  \"sessions\": []," is the sessions key (a JSON
  // string never holds a raw newline, so nothing before it can look like it)
  const marker = '\n  "sessions": [],\n';
  const at = frame.indexOf(marker);
  yield `${frame.slice(0, at)}\n  "sessions": [`;
  let first = true;
  for (const s of r.sessions) {
    // an array element at depth 2: its own lines indented 4 more
    yield `${first ? '' : ','}\n    ${JSON.stringify(sessionJson(s), null, 2).replace(/\n/g, '\n    ')}`;
    first = false;
  }
  yield `${first ? ']' : '\n  ]'},\n${frame.slice(at + marker.length)}\n`;
}

function sessionJson(s: SessionReport): unknown {
  return {
    id: s.id,
    client: s.client,
    server: s.server,
    inspected: s.inspected,
    decision: s.decision ?? '',
    timeRange: s.timeRange ?? null,
    uncertain: s.uncertain,
    caveats: s.caveats.map((c) => ({ packet: c.packet, kind: c.kind, text: c.text, uncertainFrom: c.uncertainFrom, source: c.source })),
    findings: s.findings.map((f) => ({
      packet: f.packet,
      rule: f.rule,
      action: f.action,
      severity: f.severity,
      source: f.source,
      direction: f.direction,
      detail: f.detail,
      syslog: f.syslog,
      symptom: f.symptom,
      uncertain: f.uncertain,
      fix: f.fix ? { id: f.fix.id, kind: f.fix.kind, summary: f.fix.summary, config: f.fix.config, verified: f.fix.verified, verification: f.fix.verification } : null,
    })),
  };
}

/** The report's keys after `sessions`. */
function reportJsonTail(r: DiagnoseReport): Record<string, unknown> {
  return {
    firewallDetected: r.firewallDetected,
    evidence: r.evidence.map((e) => ({
      packet: e.packet,
      related: e.related,
      session: e.session,
      kind: e.kind,
      rule: e.rule,
      shows: e.shows,
      strong: e.strong,
    })),
    servicePolicy: r.servicePolicy,
    recommended: r.recommended,
    counts: r.counts,
  };
}
