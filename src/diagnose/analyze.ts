/**
 * Turns one replay's verdicts and the input's transcripts into the diagnose report: findings per
 * session (rule, packet, action, symptom), firewall evidence, and fixes that are verified by
 * replaying the capture again with the fixed policy.
 *
 * The replay itself is injected (`Replayer`), so this module knows nothing of files or pipelines.
 */
import type { VerdictRecord } from '../output/verdicts.js';
import type { ClassDecision, CompiledPolicy, EsmtpMatch } from '../policy/types.js';
import {
  categorize,
  fixKindsFor,
  isBreakingAction,
  severityOf,
  symptomFor,
  type Category,
  type ExplainSettings,
  type FixKind,
  type Stage,
  type Symptom,
} from './catalogue.js';
import { detectFirewall, type Evidence } from './detect.js';
import { classExemptLines, exemptGatewayInClasses, freshName, mapCopyLines, raisedLimit, selectedEntries, switchMapLines, type InspectingClass, type MapChange } from './fix.js';
import type { DiagnoseReport, Finding, FixProposal, SessionReport } from './model.js';
import type { SessionTranscript, TranscriptEntry } from './transcript.js';
import { entryIndexFor } from './html.js';
import { senderLength } from './detect.js';
import { isConnectionLimitDrop, isFirewallDrop, isFragmentDiscard, isInspectionFinding } from './notes.js';
import { fragmentFix } from './fragments.js';
import { largestFragmentSet } from './defrag.js';
import { InterfaceEnds } from '../pipeline/interface-ends.js';
import { explainTimeRange } from './decision.js';
import { isUncertain, markUncertain, sessionCaveats } from './caveats.js';
import { Interner, TextInterner } from './intern.js';

export interface ReplayResult {
  verdicts: VerdictRecord[];
  /** Transcripts of the input's sessions (only needed from the first run). */
  transcripts: SessionTranscript[];
  /** The `show service-policy inspect esmtp` counters after the replay ('' when not known). */
  servicePolicy?: string;
}

/** Replays the capture under a compiled policy. */
export type Replayer = (policy: CompiledPolicy) => Promise<ReplayResult>;

export interface DiagnoseInput {
  input: string;
  policy: CompiledPolicy;
  /** The policy's text (the file, or the default policy's text), to append fixes to. */
  policyText: string;
  replay: Replayer;
  compile: (text: string, source: string) => CompiledPolicy;
  /** The engine option `length-counts-crlf` the replays use (default no: line lengths without CR LF). */
  lengthCountsCrlf?: boolean;
  /** The engine options that change what a finding means (catalogue.ts); absent: the defaults. */
  settings?: ExplainSettings;
}

export function sessionKey(client: string, server: string): string {
  return `${client}|${server}`;
}

function directionWord(d: VerdictRecord['direction']): string {
  return d === 'c2s' ? 'client-to-server' : d === 's2c' ? 'server-to-client' : '';
}

function stageAt(t: SessionTranscript, packet: number, dir: number | null, xed: number): Stage {
  const es = t.entries;
  const i = entryIndexFor(es, packet, dir);
  let lastCommand = '';
  for (let k = Math.min(i, es.length - 1); k >= 0; k--) {
    const e = es[k] as TranscriptEntry;
    if (e.kind === 'command') {
      lastCommand = e.verb;
      break;
    }
  }
  // the server received only what came whole in earlier packets: the hit's own packet is the one
  // a drop/reset leaves out (and nothing the client sends later reaches it)
  let serverLastCommand = '';
  for (const x of es) {
    if (x.packet >= packet) break;
    if (x.kind === 'command' && x.dir === 0 && x.endPacket < packet) serverLastCommand = x.verb;
  }
  const e = i >= 0 ? es[i] : undefined;
  const greeting = es.find((x) => x.kind === 'reply');
  return {
    lastCommand,
    serverLastCommand,
    inData: e?.kind === 'message' || e?.kind === 'bdat-chunk',
    xedCommands: xed,
    multiLineGreeting: (greeting?.lineCount ?? 0) > 1 && greeting?.verb === '220',
  };
}

/**
 * Emulation findings of one session from its verdicts (no fixes yet): what inspection does, and the
 * notes that are findings (divergences: the capture shows what cannot happen through the ASA).
 * Other notes become caveats (caveats.ts); the pipeline's bookkeeping is left out.
 */
export function findingsFromVerdicts(t: SessionTranscript, verdicts: readonly VerdictRecord[], settings: ExplainSettings = {}): Finding[] {
  // a refused connection has one drop record per SYN, discarded fragments one per fragment: the first says it
  let refused = false;
  let discarded = false;
  const relevant = verdicts.filter((v) => {
    if (!isInspectionFinding(v)) return false;
    if (isFragmentDiscard(v)) {
      if (discarded) return false;
      return (discarded = true);
    }
    if (!isConnectionLimitDrop(v)) return true;
    if (refused) return false;
    return (refused = true);
  });
  const xed = relevant.filter((v) => categorize(v.rule, v.detail) === 'unknown-command').length;
  return relevant.map((v) => {
    const category = categorize(v.rule, v.detail);
    let dir: number | null = v.direction === 'c2s' ? 0 : v.direction === 's2c' ? 1 : null;
    let stage: Stage;
    if (category === 'ip-fragment') {
      // the discarded segment is in the transcript where its set completed (its last fragment):
      // the first entry of the sender at or after the first discarded fragment
      const next = t.entries.find((e) => e.packet >= v.packet && (dir === null || e.dir === dir));
      dir ??= fragmentSender(v, t) ?? next?.dir ?? null;
      stage = { ...stageAt(t, next?.packet ?? v.packet, dir, xed), ...(dir !== null ? { sender: dir === 0 ? 'client' as const : 'server' as const } : {}) };
    } else stage = stageAt(t, v.packet, dir, xed);
    return {
      packet: v.packet,
      rule: v.rule,
      action: v.action,
      category,
      severity: severityOf(category, v.action),
      direction: dir === 0 ? 'client-to-server' : dir === 1 ? 'server-to-client' : directionWord(v.direction),
      detail: v.detail,
      syslog: v.syslog ? v.syslog.split('\n') : [],
      symptom: symptomFor(category, v.action, stage, t.client, t.server, v.detail, settings, v.syslog ? v.syslog.split('\n') : []),
      fix: null,
      source: 'emulation' as const,
      uncertain: null,
    };
  });
}

/** A fragment record without ports names the fragment's own addresses: its sender, when the two ends differ. */
function fragmentSender(v: VerdictRecord, t: SessionTranscript): number | null {
  if (t.clientIp === t.serverIp) return null;
  if (v.client === t.clientIp && v.server === t.serverIp) return 0;
  if (v.client === t.serverIp && v.server === t.clientIp) return 1;
  return null;
}

/**
 * The session a verdict belongs to. A discarded fragment whose set never showed its ports (its
 * first fragment had not arrived) names addresses only: it goes to the session between those
 * addresses that is open at its packet (the latest one started before it).
 */
export function verdictSessionKey(v: VerdictRecord, transcripts: readonly SessionTranscript[]): string {
  return new SessionLookup(transcripts).keyOf(v);
}

/** verdictSessionKey over one capture's sessions, indexed once (a fragmented capture has a record per fragment). */
export class SessionLookup {
  private readonly keys: Set<string>;
  private readonly byAddresses = new Map<string, SessionTranscript[]>();

  constructor(transcripts: readonly SessionTranscript[]) {
    this.keys = new Set(transcripts.map((t) => sessionKey(t.client, t.server)));
    for (const t of transcripts) {
      // both orders: a fragment record names its own sender first
      for (const k of new Set([`${t.clientIp}|${t.serverIp}`, `${t.serverIp}|${t.clientIp}`])) {
        const list = this.byAddresses.get(k);
        if (list) list.push(t);
        else this.byAddresses.set(k, [t]);
      }
    }
  }

  keyOf(v: VerdictRecord): string {
    const key = sessionKey(v.client, v.server);
    if (!isFragmentDiscard(v) || this.keys.has(key)) return key;
    let best: SessionTranscript | null = null;
    for (const t of this.byAddresses.get(`${v.client}|${v.server}`) ?? []) {
      if (t.firstPacket > v.packet) continue;
      const open = t.lastPacket >= v.packet;
      const bestOpen = best !== null && best.lastPacket >= v.packet;
      if (best === null || (open && !bestOpen) || (open === bestOpen && t.firstPacket > best.firstPacket)) best = t;
    }
    return best ? sessionKey(best.client, best.server) : key;
  }
}

const EVIDENCE_ACTION: Record<Evidence['kind'], string> = {
  'masked-banner': 'mask',
  'starttls-masked': 'mask',
  'ehlo-keyword-masked': 'mask',
  'x-verb-rejected': 'x-substitute',
  'x-verb': 'x-substitute',
  'died-after-rcpt-limit': 'drop-connection',
  'died-after-long-header': 'drop-connection',
  'died-after-long-command': 'drop-connection',
  'died-after-long-sender': 'drop-connection',
  'died-after-long-filename': 'drop-connection',
  'died-mid-data': 'drop-connection',
  'died-after-greeting': 'drop-connection',
};

/** Findings for what a firewall in the path already did (strong evidence only). */
export function findingsFromEvidence(t: SessionTranscript, evidence: readonly Evidence[], firewall: boolean): Finding[] {
  const mine = evidence.filter((e) => e.session === t.id && (e.strong || firewall));
  const xed = mine.filter((e) => e.kind === 'x-verb-rejected' || e.kind === 'x-verb').length;
  return mine.map((e) => {
    const action = EVIDENCE_ACTION[e.kind];
    const category = categorize(e.rule, e.kind === 'starttls-masked' ? 'STARTTLS' : '');
    return {
      packet: e.packet,
      rule: e.rule,
      action,
      category,
      severity: severityOf(category, action),
      direction: e.kind.startsWith('died') || e.kind.startsWith('x-verb') ? 'client-to-server' : 'server-to-client',
      detail: e.shows,
      syslog: [],
      symptom: symptomFor(category, action, stageAt(t, e.packet, null, xed), t.client, t.server, ''),
      fix: null,
      source: 'capture' as const,
      uncertain: null,
    };
  });
}

/** What an emulated finding is about, in the terms of Evidence.subject (null: nothing evidence reports). */
export function findingSubject(f: Finding): string | null {
  if (f.rule === 'mask-banner') return 'banner';
  if (f.action === 'x-substitute') return 'x-verb';
  const kw = /^EHLO keyword (\S+) \(/.exec(f.detail);
  return kw && f.action === 'mask' ? `kw:${kw[1] ?? ''}` : null;
}

function evidenceDirection(e: Evidence): string {
  return e.subject === 'x-verb' || e.kind.startsWith('died') ? 'client-to-server' : 'server-to-client';
}

/**
 * Emulated findings minus those that repeat what the firewall in the path already did: same
 * direction, same subject (the banner, an X'd command, an EHLO keyword) and a packet among those
 * that carried the observed line. Each observation absorbs at most one finding, so two X'd commands
 * pipelined in one packet with one of them already X'd in the capture still leave one finding.
 */
export function withoutRepeats(emulated: readonly Finding[], evidence: readonly Evidence[]): Finding[] {
  const used = new Set<Evidence>();
  return emulated.filter((f) => {
    const subject = findingSubject(f);
    if (subject === null) return true;
    const same = evidence.find((e) => !used.has(e) && e.subject === subject && evidenceDirection(e) === f.direction
      && f.packet >= e.span[0] && f.packet <= e.span[1]);
    if (!same) return true;
    used.add(same);
    return false;
  });
}

/**
 * What the capture needs for a limit: the value it actually reaches in the session, measured as the
 * engine measures it (line lengths without CR LF unless `length-counts-crlf=yes`).
 */
export function observedValue(t: SessionTranscript, category: Category, lengthCountsCrlf = false, settings: ExplainSettings = {}): number {
  const eol = lengthCountsCrlf ? 2 : 0;
  if (category === 'invalid-recipients') return invalidRecipients(t, settings);
  // header-line-length=unfolded measures whole fields, CR LF never counted (src/inspect/esmtp/session.ts)
  const unfolded = category === 'header-line-length' && settings.headerLineLength === 'unfolded';
  let v = 0;
  for (const e of t.entries) {
    switch (category) {
      case 'cmd-rcpt-count':
        v = t.rcptCount;
        break;
      case 'cmd-line-length':
        if (e.kind === 'command') v = Math.max(v, e.length + eol);
        break;
      case 'sender-address-length':
        if (e.kind === 'command' && e.verb === 'MAIL') v = Math.max(v, senderLength(e.text, e.length));
        break;
      case 'header-line-length':
        if (e.message) v = Math.max(v, unfolded ? e.message.maxHeaderField : e.message.maxHeaderLine + eol);
        break;
      case 'body-line-length':
        if (e.message) v = Math.max(v, e.message.maxBodyLine + eol);
        break;
      case 'mime-filename-length':
        if (e.message) v = Math.max(v, e.message.maxFilename);
        break;
      case 'header-length':
      case 'body-length':
        if (e.message) v = Math.max(v, e.message.bytes);
        break;
      default:
        break;
    }
  }
  return v;
}

/**
 * The most RCPTs the server refused in one transaction (or the connection, rcpt-count-scope), as
 * `match invalid-recipients count` counts them: replies 5xx, or 4xx-5xx with
 * invalid-recipient-replies=4xx-5xx. Replies are paired with the commands in order (pipelining).
 */
export function invalidRecipients(t: SessionTranscript, settings: ExplainSettings = {}): number {
  return invalidRecipientTally(t, settings).count;
}

/** As invalidRecipients, with the reply codes of that transaction's counted refusals, in order. */
export function invalidRecipientTally(t: SessionTranscript, settings: ExplainSettings = {}): { count: number; codes: number[] } {
  const lowest = settings.invalidRecipientReplies === '4xx-5xx' ? 400 : 500;
  const pending: string[] = [];
  let run: number[] = [];
  let best: number[] = [];
  let greeted = false;
  for (const e of t.entries) {
    if (e.kind === 'command') {
      pending.push(e.verb);
      if (settings.rcptCountScope !== 'connection' && (e.verb === 'MAIL' || e.verb === 'RSET')) run = [];
    } else if (e.kind === 'message') {
      if (settings.rcptCountScope !== 'connection') run = [];
    } else if (e.kind === 'reply') {
      if (!greeted) {
        greeted = true;
        if (pending.length === 0) continue; // the greeting answers no command
      }
      const verb = pending.shift();
      const code = Number(e.verb);
      if (verb === 'RCPT' && code >= lowest && code <= 599) {
        run.push(code);
        if (run.length > best.length) best = run.slice();
      }
    }
  }
  return { count: best.length, codes: best };
}

/** "450, 550, 450": counted reply codes in reply order; past 8, each once with how often ("550 x101"), as the engine's detail. */
export function codeList(codes: readonly number[]): string {
  if (codes.length <= 8) return codes.join(', ');
  const n = new Map<number, number>();
  for (const c of codes) n.set(c, (n.get(c) ?? 0) + 1);
  return [...n].map(([c, k]) => (k > 1 ? `${c} x${k}` : String(c))).join(', ');
}

function inspectingClass(d: ClassDecision): InspectingClass | null {
  if (!d.esmtp) return null;
  return { policyMap: d.policyMap, className: d.className, mapName: d.esmtp.name };
}

/**
 * The interfaces diagnose's replays put clients and servers on when the config has no interfaces
 * with addresses (the replay pipeline's defaults, as `replay` without --client-interface /
 * --server-interface); with them, sessionInterfaces places each session as the replay does. The
 * class decisions diagnose reasons about must be the replay's, or an interface service-policy is missed.
 */
export const DIAGNOSE_INTERFACES = { client: 'outside', server: 'inside' } as const;

/** A session's interfaces as the replay places them: from the config's interfaces and routes when it has them. */
function sessionInterfaces(policy: CompiledPolicy, t: SessionTranscript): { client: string; server: string } {
  const ifs = new InterfaceEnds(policy.interfaceRouting, undefined, undefined).of(t.clientIp, t.serverIp);
  return { client: ifs.client, server: ifs.server };
}

function decisionFor(policy: CompiledPolicy, t: SessionTranscript): ClassDecision {
  const sides = sessionInterfaces(policy, t);
  return policy.classify({
    ipVersion: t.ipVersion, clientIp: t.clientIp, clientPort: t.clientPort, serverIp: t.serverIp, serverPort: t.serverPort,
    ingressInterface: sides.client, egressInterface: sides.server,
    ...(t.startTimeSec !== undefined ? { startTimeSec: t.startTimeSec } : {}),
  });
}

type Compile = DiagnoseInput['compile'];

/** Most rounds of "exempt where it is inspected, then look again" (interface policy, then global). */
const EXEMPT_ROUNDS = 4;

/**
 * The seed article's exemption for the gateway(s) of `all`: every class that inspects one of those
 * sessions stops, and a class whose ACL denies the gateway inspects the rest. Found by rounds: once
 * an interface policy's class no longer inspects a session, the global policy may (per-flow
 * precedence), so the policy is compiled again with the lines so far and any class still
 * inspecting is exempted too.
 */
function exemptCandidate(all: readonly SessionTranscript[], policy: CompiledPolicy, policyText: string, compile: Compile | null): Candidate {
  const g = chooseGateways(all);
  const classKey = (c: InspectingClass) => `${c.policyMap}\n${c.className}`;
  const inspecting = (p: CompiledPolicy, skip: ReadonlySet<string>) => {
    const found = new Map<string, InspectingClass>();
    for (const t of all) {
      const c = inspectingClass(decisionFor(p, t));
      if (c && !skip.has(classKey(c))) found.set(classKey(c), c);
    }
    return [...found.values()];
  };
  let classes = inspecting(policy, new Set());
  if (classes.length === 0) classes = [{ policyMap: 'global_policy', className: 'inspection_default', mapName: null }];
  const selected = selectedEntries(policy.normalized(), classes.map((c) => c.className));
  const { lines, className } = exemptGatewayInClasses(g.gateways, g.ports, classes, policyText, selected);
  const done = new Set(classes.map(classKey));
  const placed = new Set(classes.map((c) => c.policyMap));
  for (let round = 1; compile !== null && round < EXEMPT_ROUNDS; round++) {
    let fixed: CompiledPolicy;
    try {
      fixed = compile(`${policyText.replace(/\s*$/, '')}\n${lines.join('\n')}\n`, `${policy.source} + proposed fix`);
    } catch {
      break; // verification reports the compile error
    }
    // the exempting class itself still inspecting a gateway session: more lines would not help
    const more = inspecting(fixed, done).filter((c) => c.className !== className);
    if (more.length === 0) break;
    for (const c of more) {
      lines.push(...classExemptLines(c, className, placed));
      done.add(classKey(c));
    }
  }
  return {
    key: `exempt:${g.gateways.join(',')}`,
    kind: 'exempt-gateway',
    summary: `exempt the mail gateway${g.gateways.length > 1 ? 's' : ''} ${g.gateways.join(', ')} (${g.role} side) from ESMTP inspection`,
    config: lines,
  };
}

/**
 * The addresses to exempt: the fewest hosts that take part in every affected session, picked
 * greedily (the host in most of the sessions left first; on a tie the server side, then the
 * first seen). A mail gateway both receives (server) and delivers (client, to many remote MXes):
 * its one address covers both directions, since each exempted host is denied as source and as
 * destination, so the remote MXes it delivered to are not listed as gateways of their own.
 */
export function chooseGateways(affected: readonly SessionTranscript[]): { gateways: string[]; ports: number[]; role: GatewayRole } {
  const ports = [...new Set(affected.map((t) => t.serverPort))];
  const gateways: string[] = [];
  const roles = new Set<'server' | 'client'>();
  let left = [...affected];
  while (left.length > 0) {
    const tally = new Map<string, { sessions: number; asServer: number; order: number }>();
    const add = (ip: string, server: boolean) => {
      const e = tally.get(ip) ?? { sessions: 0, asServer: 0, order: tally.size };
      e.sessions++;
      if (server) e.asServer++;
      tally.set(ip, e);
    };
    for (const t of left) {
      add(t.serverIp, true);
      if (t.clientIp !== t.serverIp) add(t.clientIp, false);
    }
    let best: string | null = null;
    let bestE: { sessions: number; asServer: number; order: number } | null = null;
    for (const [ip, e] of tally) {
      if (bestE === null || e.sessions > bestE.sessions
        || (e.sessions === bestE.sessions && (e.asServer > bestE.asServer || (e.asServer === bestE.asServer && e.order < bestE.order)))) {
        best = ip;
        bestE = e;
      }
    }
    if (best === null) break;
    const gw = best;
    gateways.push(gw);
    for (const t of left) {
      if (t.serverIp === gw) roles.add('server');
      else if (t.clientIp === gw) roles.add('client');
    }
    left = left.filter((t) => t.serverIp !== gw && t.clientIp !== gw);
  }
  const role: GatewayRole = roles.size > 1 ? 'server and client' : roles.has('client') ? 'client' : 'server';
  return { gateways, ports, role };
}

/** Where the exempted hosts stand in the affected sessions (for the fix's wording). */
export type GatewayRole = 'server' | 'client' | 'server and client';

interface Candidate {
  key: string;
  kind: FixKind;
  summary: string;
  config: string[];
}

function matchFor(d: ClassDecision, rule: string): EsmtpMatch | undefined {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
  return d.esmtp?.matches.find((m) => norm(m.text) === norm(rule));
}

/** Per capture (its transcript list), per map and criterion: the value a raised limit is based on. */
const captureMemo = new WeakMap<readonly SessionTranscript[], Map<string, { observed: number; text: string }>>();

/**
 * The capture's sessions a raised limit applies to: those inspected with the same ESMTP map (the
 * copy replaces it for all of them), so "this capture reaches N" is the maximum over them.
 */
function sessionsUnderMap(mapName: string, t: SessionTranscript, capture: readonly SessionTranscript[], policy: CompiledPolicy): SessionTranscript[] {
  const same = capture.filter((x) => x === t || decisionFor(policy, x).esmtp?.name === mapName);
  return same.includes(t) ? same : [t, ...same];
}

/** The largest observed value over `sessions`, and the session that reaches it (first on ties). */
function maxObserved(sessions: readonly SessionTranscript[], value: (x: SessionTranscript) => number): { value: number; session: SessionTranscript | null } {
  let best: { value: number; session: SessionTranscript | null } = { value: 0, session: null };
  for (const x of sessions) {
    const v = value(x);
    if (v > best.value) best = { value: v, session: x };
  }
  return best;
}

/**
 * The exemption for one scope of sessions, computed once per diagnose run: it classifies every
 * session of the scope and compiles the policy up to EXEMPT_ROUNDS times, and every finding of
 * the scope asks the same (policy, text and compiler are fixed for the run).
 */
type ExemptMemo = WeakMap<readonly SessionTranscript[], Candidate>;

function candidateFor(kind: FixKind, f: Finding, t: SessionTranscript, all: readonly SessionTranscript[], policy: CompiledPolicy, policyText: string, compile: Compile | null, lengthCountsCrlf = false, settings: ExplainSettings = {}, capture: readonly SessionTranscript[] = [t], exemptMemo: ExemptMemo | null = null): Candidate | null {
  if (kind === 'exempt-gateway') {
    let c = exemptMemo?.get(all);
    if (!c) {
      c = exemptCandidate(all, policy, policyText, compile);
      exemptMemo?.set(all, c);
    }
    return c;
  }
  const d = decisionFor(policy, t);
  const cls = inspectingClass(d);
  if (!cls || !d.esmtp) return null;
  const copyName = freshName('ESMTP-DIAG-MAP', policyText);
  let change: MapChange;
  let summary: string;
  let key: string;
  if (kind === 'raise-limit') {
    const m = matchFor(d, f.rule);
    const cur = m ? /\bgt\s+(\d+)\s*$/i.exec(m.text) : null;
    if (!m || !cur) return null;
    // one copy of the map serves every session inspected with it: the limit must fit them all
    // (measured once per map and criterion: every finding of the capture asks the same)
    let memo = captureMemo.get(capture);
    if (!memo) captureMemo.set(capture, (memo = new Map()));
    const memoKey = `${d.esmtp.name}\n${f.category}`;
    let reach = memo.get(memoKey);
    if (!reach) {
      const under = sessionsUnderMap(d.esmtp.name, t, capture, policy);
      const top = maxObserved(under, (x) => observedValue(x, f.category, lengthCountsCrlf, settings));
      const inSession = (x: SessionTranscript | null) => (under.length > 1 && x ? ` (session ${x.id})` : '');
      reach = { observed: top.value, text: `${inSession(top.session)}${measuredAs(under, top.session ?? t, f.category, settings, inSession)}` };
      memo.set(memoKey, reach);
    }
    const observed = reach.observed;
    const gt = raisedLimit(Number(cur[1]), observed);
    change = { raise: { classId: m.classId, gt } };
    summary = `raise "${m.text}" to gt ${gt} (a copy of ${d.esmtp.name}${observed > 0 ? `; this capture reaches ${observed}${reach.text}` : ''})`;
    key = `raise:${d.esmtp.name}:${m.classId}`;
  } else if (kind === 'allow-tls') {
    change = { allowTls: true };
    summary = `allow STARTTLS (allow-tls in a copy of ${d.esmtp.name})`;
    key = `tls:${d.esmtp.name}`;
  } else {
    change = { noMaskBanner: true };
    summary = `stop masking the banner (no mask-banner in a copy of ${d.esmtp.name})`;
    key = `banner:${d.esmtp.name}`;
  }
  return { key, kind, summary, config: [...mapCopyLines(d.esmtp, copyName, change), ...switchMapLines(cls, copyName)] };
}

/**
 * How the value a raised limit is based on was measured, when an engine option decides it: the
 * admin must know which criterion the ASA is assumed to apply (and that the default reads it otherwise).
 */
function measuredAs(under: readonly SessionTranscript[], top: SessionTranscript, category: Category, settings: ExplainSettings, inSession: (x: SessionTranscript | null) => string): string {
  if (category === 'header-line-length' && settings.headerLineLength === 'unfolded') {
    const physical = maxObserved(under, (x) => observedValue(x, category, settings.lengthCountsCrlf ?? false));
    return ` as the longest header field unfolded, header-line-length=unfolded (folded lines counted together, CR LF not counted); its longest physical header line, which the default header-line-length=physical measures, is ${physical.value}${inSession(physical.session)}`;
  }
  if (category === 'invalid-recipients') {
    const scope = settings.rcptCountScope === 'connection' ? 'in the connection' : 'in one transaction';
    const codes = codeList(invalidRecipientTally(top, settings).codes);
    if (settings.invalidRecipientReplies !== '4xx-5xx') return ` recipients refused with 5xx ${scope} (${codes}; invalid-recipient-replies=5xx)`;
    const only5 = maxObserved(under, (x) => invalidRecipients(x, { ...settings, invalidRecipientReplies: '5xx' }));
    return ` recipients refused with 4xx or 5xx ${scope} (${codes}; invalid-recipient-replies=4xx-5xx); with 5xx only: ${only5.value}${inSession(only5.session)}`;
  }
  return '';
}

/** What fix verification needs of a verdict in a replay with a fix: an inspection hit's category and action. */
export interface Hit {
  category: Category;
  action: string;
}

/**
 * A replay's inspection hits (the firewall's own drops left out: a fix does not lift them) by
 * session key (client|server), in replay order: each finding looks at its own session only, and a
 * trial keeps two fields per hit instead of the whole record until every finding is verified.
 */
export function hitsBySession(verdicts: readonly VerdictRecord[]): Map<string, Hit[]> {
  const m = new Map<string, Hit[]>();
  for (const v of verdicts) {
    if (!isInspectionFinding(v) || isFirewallDrop(v)) continue;
    const k = sessionKey(v.client, v.server);
    const hit = { category: categorize(v.rule, v.detail), action: v.action };
    const list = m.get(k);
    if (list) list.push(hit);
    else m.set(k, [hit]);
  }
  return m;
}

/** Does finding f still happen in its session's hits of a replay with the fix? */
function stillHappens(f: Finding, kind: FixKind, hits: readonly Hit[]): boolean {
  if (kind === 'exempt-gateway') return hits.length > 0; // any inspection left on the session
  return hits.some((v) => v.category === f.category && (v.action === f.action || isBreakingAction(v.action)));
}

export async function diagnose(inp: DiagnoseInput): Promise<DiagnoseReport> {
  const first = await inp.replay(inp.policy);
  const transcripts = first.transcripts;
  const detection = detectFirewall(transcripts);
  const byKey = new Map<string, VerdictRecord[]>();
  const lookup = new SessionLookup(transcripts);
  for (const v of first.verdicts) {
    const k = lookup.keyOf(v);
    const list = byKey.get(k) ?? [];
    list.push(v);
    byKey.set(k, list);
  }
  const settings = inp.settings ?? {};
  // findings repeat across sessions (the same detail, syslog and symptom wording): one copy each
  const texts = new TextInterner();
  const symptoms = new Interner<Symptom>();
  const lines = new Interner<string[]>();
  const share = (f: Finding): void => {
    f.rule = texts.text(f.rule);
    f.detail = texts.text(f.detail);
    f.direction = texts.text(f.direction);
    f.syslog = lines.get(JSON.stringify(f.syslog), f.syslog.map((l) => texts.text(l)));
    f.symptom = symptoms.get(JSON.stringify(f.symptom), f.symptom);
  };
  // each session looks at its own evidence (a capture behind a firewall has some in every session)
  const evidenceOf = new Map<number, Evidence[]>();
  for (const e of detection.evidence) {
    const list = evidenceOf.get(e.session);
    if (list) list.push(e);
    else evidenceOf.set(e.session, [e]);
  }
  const sessions: SessionReport[] = transcripts.map((t) => {
    const decision = decisionFor(inp.policy, t);
    const mine = evidenceOf.get(t.id) ?? [];
    const fromCapture = findingsFromEvidence(t, mine, detection.firewallDetected);
    // Behind a firewall our emulation re-masks what is already masked: those are not news.
    const emulated = withoutRepeats(
      findingsFromVerdicts(t, byKey.get(sessionKey(t.client, t.server)) ?? [], settings),
      mine.filter((e) => e.strong || detection.firewallDetected),
    );
    const findings = [...emulated, ...fromCapture].sort((a, b) => a.packet - b.packet);
    for (const f of findings) share(f);
    const caveats = sessionCaveats(t, byKey.get(sessionKey(t.client, t.server)) ?? [], findings);
    markUncertain(findings, caveats);
    return {
      id: t.id, client: t.client, server: t.server, inspected: decision.esmtp !== null,
      decision: texts.text(decision.reason ?? ''), timeRange: explainTimeRange(decision),
      findings, caveats, uncertain: isUncertain(caveats), transcript: t,
    };
  });

  // Fixes: try each finding's candidates in order until one verifies; share identical proposals.
  interface Trial { p: FixProposal; hits: Map<string, Hit[]> | null; failures: string[]; passes: number }
  const proposals = new Map<string, Trial>();
  let nextId = 1;
  const verify = async (c: Candidate): Promise<Trial> => {
    let entry = proposals.get(c.key);
    if (entry) return entry;
    const p: FixProposal = { id: `fix-${nextId++}`, kind: c.kind, summary: c.summary, config: c.config, verified: null, verification: '' };
    entry = { p, hits: null, failures: [], passes: 0 };
    proposals.set(c.key, entry);
    try {
      const fixed = inp.compile(`${inp.policyText.replace(/\s*$/, '')}\n${c.config.join('\n')}\n`, `${inp.policy.source} + proposed fix`);
      const run = await inp.replay(fixed);
      entry.hits = hitsBySession(run.verdicts);
      if (run.servicePolicy) p.servicePolicy = run.servicePolicy;
    } catch (err) {
      p.verified = false;
      p.verification = `the fixed policy could not be compiled or replayed: ${err instanceof Error ? err.message : String(err)}`;
    }
    return entry;
  };

  const affectedTranscripts = (pred: (f: Finding) => boolean) =>
    sessions.filter((s) => s.findings.some(pred)).map((s) => s.transcript);
  // a connection-limit refusal or a fragment discard is not ESMTP inspection: exempting the gateway does not lift it
  const byInspection = (f: Finding) => f.category !== 'connection-limit' && f.category !== 'ip-fragment';
  const breaking = affectedTranscripts((f) => byInspection(f) && (f.severity === 'breaks' || f.severity === 'degrades'));
  const affected = breaking.length > 0 ? breaking : affectedTranscripts((f) => byInspection(f) && f.severity !== 'logged');

  const exemptMemo: ExemptMemo = new WeakMap();
  for (const s of sessions) {
    const key = sessionKey(s.client, s.server);
    const scope = affected.length ? affected : [s.transcript];
    for (const f of s.findings) {
      if (f.category === 'ip-fragment') {
        const c = fragmentFix(f, byKey.get(key) ?? [], sessionInterfaces(inp.policy, s.transcript), largestFragmentSet(s.transcript));
        let e = proposals.get(c.key);
        if (!e) {
          e = { p: { id: `fix-${nextId++}`, kind: c.kind, summary: c.summary, config: c.config, verified: null, verification: c.verification }, hits: null, failures: [], passes: 0 };
          proposals.set(c.key, e);
        }
        f.fix = e.p;
        continue;
      }
      const kinds = fixKindsFor(f.category, f.severity);
      if (kinds.length === 0) continue;
      if (f.source === 'capture') {
        const c = candidateFor('exempt-gateway', f, s.transcript, scope, inp.policy, inp.policyText, inp.compile, false, {}, [s.transcript], exemptMemo);
        if (!c) continue;
        let e = proposals.get(c.key);
        if (!e) {
          e = {
            p: { id: `fix-${nextId++}`, kind: c.kind, summary: c.summary, config: c.config, verified: null,
              verification: "the capture already carries a firewall's changes, so replaying cannot show the original traffic: apply the exemption on the firewall in the path" },
            hits: null, failures: [], passes: 0,
          };
          proposals.set(c.key, e);
        }
        f.fix = e.p;
        continue;
      }
      let chosen: FixProposal | null = null;
      for (const kind of kinds) {
        const c = candidateFor(kind, f, s.transcript, scope, inp.policy, inp.policyText, inp.compile, inp.lengthCountsCrlf, settings, transcripts, exemptMemo);
        if (!c) continue;
        const e = await verify(c);
        chosen ??= e.p;
        if (!e.hits) continue;
        if (stillHappens(f, kind, e.hits.get(key) ?? [])) {
          e.failures.push(`"${f.rule}" still hits session ${s.id} at packet ${f.packet}`);
          continue;
        }
        e.passes++;
        chosen = e.p;
        break;
      }
      f.fix = chosen;
    }
  }
  for (const e of proposals.values()) {
    if (!e.hits) continue;
    e.p.verified = e.failures.length === 0;
    e.p.verification = e.failures.length === 0
      ? `replayed with the fix: the finding${e.passes > 1 ? 's are' : ' is'} gone`
      : `replayed with the fix: ${e.failures.slice(0, 3).join('; ')}${e.failures.length > 3 ? ` (+${e.failures.length - 3} more)` : ''}`;
  }

  // The recommended fix: exempt the gateway(s) of every affected session, verified on all of them.
  let recommended: FixProposal | null = null;
  if (affected.length > 0) {
    const anyEmulated = sessions.some((s) => s.findings.some((f) => f.source === 'emulation' && f.severity !== 'logged' && byInspection(f)));
    const someFinding = sessions.flatMap((s) => s.findings)[0];
    const c = someFinding ? candidateFor('exempt-gateway', someFinding, affected[0] as SessionTranscript, affected, inp.policy, inp.policyText, inp.compile, false, {}, [affected[0] as SessionTranscript], exemptMemo) : null;
    if (c && anyEmulated) {
      const e = await verify(c);
      if (e.hits) {
        const left = affected.filter((t) => (e.hits?.get(sessionKey(t.client, t.server))?.length ?? 0) > 0);
        e.p.verified = left.length === 0;
        e.p.verification = left.length === 0
          ? `replayed with the fix: inspection no longer touches the ${affected.length} affected session${affected.length > 1 ? 's' : ''}`
          : `replayed with the fix: ${left.length} session(s) still inspected (${left.map((t) => t.id).join(', ')})`;
        // the firewall's own drops (fragments, connection limits) are not inspection: say that they stay
        const own = sessions.filter((x) => x.findings.some((f) => f.source === 'emulation' && !byInspection(f)));
        if (own.length > 0) e.p.verification += `; it does not lift the firewall's own drops (IP fragments discarded, connections refused by a limit) in session${own.length > 1 ? 's' : ''} ${own.map((x) => x.id).join(', ')}: see ${own.length > 1 ? 'their' : 'its'} findings`;
      }
      recommended = e.p;
    } else if (c) recommended = proposals.get(c.key)?.p ?? null;
  }

  const all = sessions.flatMap((s) => s.findings);
  return {
    input: inp.input,
    policy: inp.policy.source,
    sessions,
    firewallDetected: detection.firewallDetected,
    evidence: detection.evidence,
    servicePolicy: first.servicePolicy ?? '',
    recommended,
    fixes: [...proposals.values()].map((e) => e.p),
    counts: {
      sessions: sessions.length,
      affected: sessions.filter((s) => s.findings.some((f) => f.severity !== 'logged')).length,
      broken: sessions.filter((s) => s.findings.some((f) => f.severity === 'breaks')).length,
      findings: all.length,
      uncertain: sessions.filter((s) => s.uncertain).length,
    },
  };
}
