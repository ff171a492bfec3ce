/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts, fonts or network), so it
 * can be mailed to a colleague or attached to a ticket. Everything taken from the capture is
 * escaped: banners and commands are attacker-controlled text.
 */
import type { DiagnoseReport, Finding, FixProposal, SessionReport } from './model.js';
import type { TranscriptEntry } from './transcript.js';
import type { Evidence } from './detect.js';
import type { Caveat } from './notes.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
main{padding:8px 28px 40px;max-width:1180px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:18px 0;padding:14px 18px}
h2{font-size:18px;margin:4px 0 10px}
h3{font-size:15px;margin:14px 0 6px}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#0f1720;color:#e6edf3;padding:10px 12px;border-radius:4px;overflow:auto}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #e6e9ed;padding:4px 6px;text-align:left;vertical-align:top}
.badge{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.breaks{background:#c1121f}.degrades{background:#e76f51}.cosmetic{background:#6c757d}.logged{background:#8d99ae}
.ok{color:#2a9d8f;font-weight:600}.bad{color:#c1121f;font-weight:600}.unk{color:#6c757d;font-weight:600}
.fw{border-left:5px solid #c1121f}
.ladder{overflow-x:auto}
.hit{background:#fff3f3;border-left:3px solid #c1121f;padding:6px 10px;margin:6px 0}
.caveat{background:#fff8e6;border-left:3px solid #e9a100;padding:6px 10px;margin:6px 0}
.unc{color:#9a6700;font-weight:600}
ul{margin:4px 0 4px 18px;padding:0}
`;

const COL_C = 190;
const COL_S = 770;
const ROW = 24;
const LABEL_MAX = 78;

function cut(s: string, n = LABEL_MAX): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function entryLabel(e: TranscriptEntry): string {
  if (e.kind === 'reply') {
    const first = e.text.split('\n')[0] ?? '';
    return cut(e.lineCount > 1 ? `${first}  (+${e.lineCount - 1} lines)` : first);
  }
  if (e.kind === 'command' && e.length > 60) return `${cut(e.text, 56)}  (${e.length} bytes)`;
  return cut(e.text);
}

/** Which transcript entry a finding belongs to: the one whose packets contain it, else the next one. */
export function entryIndexFor(entries: readonly TranscriptEntry[], packet: number, dirHint: number | null): number {
  let best = -1;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as TranscriptEntry;
    if (e.packet <= packet && packet <= e.endPacket) {
      if (dirHint === null || e.dir === dirHint) return i;
      if (best < 0) best = i;
    }
  }
  if (best >= 0) return best;
  for (let i = 0; i < entries.length; i++) if ((entries[i] as TranscriptEntry).packet >= packet) return i;
  return entries.length - 1;
}

function dirHint(f: Finding): number | null {
  return f.direction === 'client-to-server' ? 0 : f.direction === 'server-to-client' ? 1 : null;
}

/** The ladder diagram of one session as inline SVG. */
export function ladderSvg(s: SessionReport, evidence: readonly Evidence[]): string {
  const es = s.transcript.entries;
  const hits = new Map<number, string[]>();
  let dropAt = Infinity;
  for (const f of s.findings) {
    const i = entryIndexFor(es, f.packet, dirHint(f));
    if (i < 0) continue;
    const list = hits.get(i) ?? [];
    list.push(`${f.rule} → ${f.action}`);
    hits.set(i, list);
    if ((f.action === 'drop-connection' || f.action === 'reset') && f.source === 'emulation') dropAt = Math.min(dropAt, i);
  }
  for (const e of evidence) {
    if (e.session !== s.id) continue;
    const i = entryIndexFor(es, e.packet, null);
    if (i < 0) continue;
    const list = hits.get(i) ?? [];
    list.push(`firewall evidence: ${e.rule}`);
    hits.set(i, list);
  }
  // caveats: labelled in amber beside their entry, without the red highlight of a hit
  const notes = new Map<number, string[]>();
  for (const c of s.caveats) {
    const i = entryIndexFor(es, c.packet, null);
    if (i < 0) continue;
    const list = notes.get(i) ?? [];
    list.push(`caveat: ${c.kind}`);
    notes.set(i, list);
  }
  const rows = es.length + (s.transcript.elided > 0 ? 1 : 0);
  const height = 56 + rows * ROW + 20;
  const out: string[] = [];
  const width = COL_S + 360;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" style="max-width:100%;height:auto" role="img" aria-label="SMTP ladder diagram of session ${s.id}">`);
  out.push(`<defs><marker id="a${s.id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#34495e"/></marker>` +
    `<marker id="h${s.id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#c1121f"/></marker></defs>`);
  out.push(`<text x="${COL_C}" y="18" text-anchor="middle" font-weight="600" font-size="13">client ${esc(s.client)}</text>`);
  out.push(`<text x="${COL_S}" y="18" text-anchor="middle" font-weight="600" font-size="13">server ${esc(s.server)}</text>`);
  out.push(`<line x1="${COL_C}" y1="28" x2="${COL_C}" y2="${height - 10}" stroke="#8d99ae" stroke-width="2"/>`);
  out.push(`<line x1="${COL_S}" y1="28" x2="${COL_S}" y2="${height - 10}" stroke="#8d99ae" stroke-width="2"/>`);
  out.push(`<text x="8" y="42" font-size="11" fill="#6c757d">packet</text>`);
  es.forEach((e, i) => {
    const y = 56 + i * ROW;
    const hit = hits.get(i);
    const after = i > dropAt;
    const x1 = e.dir === 0 ? COL_C : COL_S;
    const x2 = e.dir === 0 ? COL_S : COL_C;
    const color = hit ? '#c1121f' : after ? '#adb5bd' : '#34495e';
    if (hit) out.push(`<rect x="4" y="${y - 15}" width="${COL_S + 352}" height="${ROW - 2}" fill="#ffe3e3" rx="3"/>`);
    out.push(`<text x="8" y="${y + 4}" font-size="11" fill="#6c757d">${e.packet}</text>`);
    out.push(`<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" stroke="${color}" stroke-width="${hit ? 2.5 : 1.3}"${after ? ' stroke-dasharray="5,4"' : ''} marker-end="url(#${hit ? 'h' : 'a'}${s.id})"/>`);
    out.push(`<text x="${(COL_C + COL_S) / 2}" y="${y - 4}" text-anchor="middle" font-family="ui-monospace,Menlo,Consolas,monospace" font-size="11.5" fill="${after ? '#868e96' : '#1d2329'}">${esc(entryLabel(e))}</text>`);
    const note = notes.get(i);
    const label = [...(hit ?? []), ...(note ?? [])];
    if (label.length > 0) {
      out.push(`<text x="${COL_S + 10}" y="${y + 4}" font-size="11" fill="${hit ? '#c1121f' : '#9a6700'}" font-weight="600">${esc(cut(label.length > 1 ? `${label[0] ?? ''} (+${label.length - 1})` : (label[0] ?? ''), 58))}</text>`);
    }
  });
  if (s.transcript.elided > 0) {
    out.push(`<text x="${(COL_C + COL_S) / 2}" y="${56 + es.length * ROW}" text-anchor="middle" font-size="11" fill="#6c757d">… ${s.transcript.elided} more lines not drawn</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function fixHtml(f: FixProposal): string {
  const v = f.verified === true ? `<span class="ok">verified</span>` : f.verified === false ? `<span class="bad">not verified</span>` : `<span class="unk">not verifiable</span>`;
  return `<div><b>${esc(f.summary)}</b> — ${v}: ${esc(f.verification)}<pre>${esc(f.config.join('\n'))}</pre></div>`;
}

function findingHtml(f: Finding): string {
  const li = (xs: string[]) => xs.map((x) => `<li>${esc(x)}</li>`).join('');
  return `<div class="hit"><span class="badge ${f.severity}">${esc(f.severity)}</span> packet <b>${f.packet}</b>: <code>${esc(f.rule)}</code> → <b>${esc(f.action)}</b>${f.source === 'capture' ? ' <i>(already done by a firewall in the path)</i>' : ''}${f.detail ? ` — ${esc(f.detail)}` : ''}
<div>${esc(f.symptom.summary)}</div>
<div>Client sees:<ul>${li(f.symptom.client)}</ul>Server sees:<ul>${li(f.symptom.server)}</ul></div>
${f.syslog.length ? `<div>ASA syslog:<pre>${esc(f.syslog.join('\n'))}</pre></div>` : ''}
${f.uncertain ? `<div class="unc">Uncertain: ${esc(f.uncertain)}</div>` : ''}
${f.fix ? `<div>Fix: ${esc(f.fix.summary)} (${f.fix.verified === true ? 'verified' : f.fix.verified === false ? 'NOT verified' : 'not verifiable'})</div>` : ''}</div>`;
}

function caveatHtml(c: Caveat): string {
  return `<div class="caveat">caveat, packet <b>${c.packet}</b> <code>${esc(c.kind)}</code>${c.source === 'capture' ? ' <i>(seen in the capture)</i>' : ''}: ${esc(c.text)}</div>`;
}

export function renderHtml(r: DiagnoseReport): string {
  return [...htmlParts(r)].join('\n');
}

/** The page in parts to join with newlines, one session at a time (the CLI writes them as they come). */
export function* htmlParts(r: DiagnoseReport): Generator<string> {
  yield '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">';
  yield `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`;
  yield `<title>smtp-inspect diagnose: ${esc(r.input)}</title><style>${CSS}</style></head><body>`;
  yield `<header><h1>smtp-inspect diagnose</h1><div>${esc(r.input)} — policy ${esc(r.policy)}</div></header><main>`;
  // summary
  yield '<section id="summary"><h2>Summary</h2><table>';
  yield `<tr><td>SMTP sessions</td><td>${r.counts.sessions}</td></tr>`;
  yield `<tr><td>sessions changed by inspection</td><td>${r.counts.affected}</td></tr>`;
  yield `<tr><td>sessions broken (connection dropped, reset, refused or stalled)</td><td>${r.counts.broken}</td></tr>`;
  yield `<tr><td>findings</td><td>${r.counts.findings}</td></tr>`;
  const unsure = r.sessions.filter((s) => s.uncertain).map((s) => `<a href="#session-${s.id}">${s.id}</a>`);
  yield `<tr><td>sessions whose findings are uncertain (gaps, divergence from the ASA's path, capture ends early)</td><td>${r.counts.uncertain}${unsure.length ? ` (sessions ${unsure.join(', ')})` : ''}</td></tr>`;
  yield `<tr><td>ESMTP-inspecting firewall already in the capture's path</td><td>${r.firewallDetected ? '<b class="bad">yes</b>' : 'no'}</td></tr>`;
  yield '</table>';
  if (r.servicePolicy.trim() !== '') {
    yield `<h3>show service-policy inspect esmtp, as the ASA would count this capture (policy ${esc(r.policy)})</h3><pre>${esc(r.servicePolicy.trimEnd())}</pre>`;
  }
  if (r.recommended) {
    yield `<h3>Recommended fix</h3>${fixHtml(r.recommended)}`;
    const after = r.recommended.servicePolicy;
    if (after && after.trim() !== '') yield `<h3>show service-policy inspect esmtp after the fix (this capture replayed with it)</h3><pre>${esc(after.trimEnd())}</pre>`;
  }
  yield '</section>';
  if (r.evidence.length > 0) {
    yield `<section id="evidence" class="${r.firewallDetected ? 'fw' : ''}"><h2>Firewall evidence in the capture</h2><table><tr><th>packet</th><th>session</th><th>rule</th><th>what it shows</th></tr>`;
    for (const e of r.evidence) {
      yield `<tr><td>${e.packet}${e.related.length ? ` (${e.related.join(', ')})` : ''}</td><td>${e.session}</td><td><code>${esc(e.rule)}</code>${e.strong ? '' : ' (weak)'}</td><td>${esc(e.shows)}</td></tr>`;
    }
    yield '</table></section>';
  }
  // each ladder draws its own session's evidence (a capture behind a firewall has some in every session)
  const evidenceOf = new Map<number, Evidence[]>();
  for (const e of r.evidence) {
    const list = evidenceOf.get(e.session);
    if (list) list.push(e);
    else evidenceOf.set(e.session, [e]);
  }
  for (const s of r.sessions) {
    yield `<section class="session" id="session-${s.id}"><h2>Session ${s.id}: ${esc(s.client)} → ${esc(s.server)}</h2>`;
    if (s.timeRange) yield `<p>${esc(s.timeRange)}</p>`;
    else if (!s.inspected) yield '<p>Not selected for ESMTP inspection by the policy.</p>';
    if (s.uncertain) yield '<p class="unc">The findings of this session are uncertain: see the caveats.</p>';
    for (const c of s.caveats) yield caveatHtml(c);
    if (s.findings.length === 0) yield s.uncertain ? '<p>Nothing found in what the capture shows.</p>' : '<p>Inspection leaves this session alone.</p>';
    for (const f of s.findings) yield findingHtml(f);
    yield `<div class="ladder">${ladderSvg(s, evidenceOf.get(s.id) ?? [])}</div></section>`;
  }
  if (r.fixes.length > 0) {
    yield '<section id="config"><h2>Proposed configuration</h2>';
    for (const f of r.fixes) yield fixHtml(f);
    yield '</section>';
  }
  yield '</main></body></html>\n';
}
