/**
 * Which layering a policy text gets over the factory default (native-notes "layering"): `merge`
 * (configuration commands typed on a device) or `snapshot` (a printout of `show running-config`
 * or of `show running-config <section>`). `--policy-mode auto` reads the signs below; a typed
 * excerpt has none of them, and a printout has no command-only line.
 */
import { asciiBlanks, cliPrompt, tokenizeLine } from './lexer.js';

export const POLICY_MODES = ['auto', 'merge', 'snapshot'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export interface LayeringChoice {
  /** What was asked for (`--policy-mode`). */
  requested: PolicyMode;
  /** What was applied. */
  mode: 'merge' | 'snapshot';
  /**
   * A whole `show running-config` (header, `Cryptochecksum:`, `: end`, `hostname`, interfaces):
   * complete, so its service-policy lines are all there are, none meaning nothing is applied.
   * False for a section printout (`show run policy-map`) or an explicit snapshot of an excerpt.
   */
  full: boolean;
  /** One line for `policy check`: which mode and why (the line and sign that decided). */
  reason: string;
  /** The line of the sign that decided a snapshot (warnings about the layering point at it). */
  line?: number;
}

/** Lines a printout never has: commands an admin types (the ASA prints state, never these). */
const COMMAND_ONLY: Array<{ re: RegExp; what: string }> = [
  { re: /^clear\s/i, what: 'a "clear" command' },
  { re: /^no\s+(service-policy|policy-map|class-map|regex|access-list|object|object-group|class|inspect|match|set|description)\b/i, what: 'a "no" command' },
  { re: /^(exit|end|configure|conf|write|copy)\b/i, what: 'a session command' },
];

/** The default inspect list of class inspection_default as a printout shows it (ASA 9.x). */
const DEFAULT_INSPECTS = new Set(['dns', 'ftp', 'h323', 'ip-options', 'netbios', 'rsh', 'rtsp', 'skinny', 'sqlnet', 'sunrpc', 'tftp', 'sip', 'xdmcp']);
/** At least this many of them in one class: printed, not typed (an admin adds one or two). */
const PRINTED_INSPECT_LIST = 5;

interface Sign {
  line: number;
  what: string;
}

/** Reads the printout signs and command-only lines of a text (first 20000 lines: bounded). */
export function readSigns(text: string): { full: Sign | null; section: Sign | null; command: Sign | null } {
  let full: Sign | null = null;
  let section: Sign | null = null;
  let command: Sign | null = null;
  const lines = text.split(/\r?\n|\r/, 20000);
  let inDefaultMap = false;
  let inParams = false;
  const params = new Set<string>();
  let paramsLine = 0;
  let inspectList = 0;
  let inspectLine = 0;
  let blockWord = '';
  let inDnsPreset = 0;
  const dnsDefaults = new Set<string>();
  lines.forEach((copied, k) => {
    const line = k + 1;
    const captured = asciiBlanks(copied).text;
    // a pasted session line: what follows a configuration prompt was typed, so it is a command-only
    // line whatever it says (`asa(config)# hostname FW2`); an exec prompt's line is no configuration
    const prompt = cliPrompt(captured);
    if (prompt?.kind === 'exec') return;
    const raw = prompt ? captured.slice(prompt.length).trimStart() : captured;
    const t = tokenizeLine(raw, line).map((x) => x.lower);
    const w0 = t[0];
    if (w0 === undefined) return;
    if (prompt && !command) command = { line, what: `a command typed at a configuration prompt ("${captured.trim()}")` };
    const indented = /^[ \t]/.test(raw);
    // whole running-config: a header or trailer, never typed
    if (!full) {
      if (/^: Saved\b/.test(raw)) full = { line, what: '": Saved" header' };
      else if (/^ASA Version \S/.test(raw)) full = { line, what: '"ASA Version" line' };
      else if (/^! smtp-inspect effective policy\b/.test(raw)) full = { line, what: 'the header "policy check" prints' };
      // `show running-config` ends with `Cryptochecksum:<32 hex>`; `write memory` prints
      // `Cryptochecksum: xxxxxxxx xxxxxxxx xxxxxxxx xxxxxxxx` (a blank after the colon) after the
      // excerpt it saves, which is no printout
      else if (/^Cryptochecksum:\S/i.test(raw)) full = { line, what: '"Cryptochecksum:" line' };
      else if (/^: end\s*$/.test(raw)) full = { line, what: '": end" trailer' };
      else if (/^: (Serial Number|Hardware):/.test(raw)) full = { line, what: `": ${raw.slice(2).split(':')[0] ?? ''}:" header line` };
    }
    // Global lines a printout has but an admin may also type (weak: they yield to a typed command
    // and never mean a whole running-config, which would apply no service-policy it does not print).
    if (!section && !indented && w0 === 'hostname' && t.length === 2) section = { line, what: '"hostname" line' };
    else if (!section && !indented && w0 === 'interface' && t.length === 2) section = { line, what: '"interface" block' };
    if (!command) {
      const trimmed = raw.trim();
      const hit = COMMAND_ONLY.find((c) => c.re.test(trimmed));
      // `no` parameter lines are printed (`no mail-relay`, `no tcp-inspection`): only the listed ones count
      if (hit) command = { line, what: `${hit.what} ("${trimmed}")` };
    }
    if (!indented) {
      blockWord = t.slice(0, 4).join(' ');
      inDefaultMap = blockWord === 'policy-map type inspect esmtp' && t[4] === '_default_esmtp_map';
      inParams = false;
      inspectList = 0;
      inDnsPreset = blockWord === 'policy-map type inspect dns' && t[4] === 'preset_dns_map' ? line : 0;
      dnsDefaults.clear();
      return;
    }
    // the default DNS map printed with its factory values (typed, it would carry a changed value)
    if (inDnsPreset && w0 === 'message-length' && t[1] === 'maximum') {
      dnsDefaults.add(t.slice(2).join(' '));
      if (!section && dnsDefaults.has('client auto') && dnsDefaults.has('512'))
        section = { line: inDnsPreset, what: 'the printed default "policy-map type inspect dns preset_dns_map" (message-length maximum client auto / 512)' };
    }
    // a printed _default_esmtp_map: its description, or its full parameter list
    if (inDefaultMap) {
      if (!section && w0 === 'description' && /^\s*description Default ESMTP policy-map\s*$/.test(raw))
        section = { line, what: 'the printed "description Default ESMTP policy-map" of _default_esmtp_map' };
      if (w0 === 'parameters') {
        inParams = true;
        paramsLine = line;
        params.clear();
      } else if (inParams) {
        const p = w0 === 'no' ? t[1] : w0;
        if (p && ['mask-banner', 'mail-relay', 'special-character', 'allow-tls'].includes(p)) params.add(p);
        else inParams = false;
        if (!section && params.size === 4) section = { line: paramsLine, what: 'the full parameter list of _default_esmtp_map, as printed' };
      }
    }
    // a printed class inspection_default: the factory inspect list
    if (blockWord.startsWith('policy-map') && w0 === 'inspect' && t[1] && DEFAULT_INSPECTS.has(t[1])) {
      if (inspectList === 0) inspectLine = line;
      inspectList++;
      if (!section && inspectList === PRINTED_INSPECT_LIST) section = { line: inspectLine, what: `a printed default inspect list (${PRINTED_INSPECT_LIST}+ of the factory inspections in one class)` };
    } else if (w0 === 'class') inspectList = 0;
  });
  return { full, section, command };
}

/** Decides the layering of `text` for the requested mode. */
export function chooseLayering(text: string, requested: PolicyMode = 'auto'): LayeringChoice {
  const signs = readSigns(text);
  const at = (s: Sign) => `line ${s.line}: ${s.what}`;
  if (requested === 'merge') return { requested, mode: 'merge', full: false, reason: 'merge (--policy-mode merge): applied as configuration commands over the factory default' };
  if (requested === 'snapshot') {
    const full = signs.full !== null;
    return {
      requested,
      mode: 'snapshot',
      full,
      reason: `snapshot (--policy-mode snapshot): the objects printed replace the default ones${full ? `; a whole running-config (${at(signs.full as Sign)})` : ''}`,
      ...(signs.full ? { line: signs.full.line } : {}),
    };
  }
  // a header or trailer is never typed: it decides even with command lines after it
  if (signs.full) return { requested, mode: 'snapshot', full: true, reason: `snapshot (auto): a show running-config printout, ${at(signs.full)}`, line: signs.full.line };
  if (signs.section && !signs.command)
    return { requested, mode: 'snapshot', full: false, reason: `snapshot (auto): a show running-config section printout, ${at(signs.section)}`, line: signs.section.line };
  if (signs.section && signs.command)
    return {
      requested,
      mode: 'merge',
      full: false,
      reason: `merge (auto): printout sign at ${at(signs.section)}, but ${at(signs.command)} is typed, so the text is commands; --policy-mode snapshot to override`,
    };
  return { requested, mode: 'merge', full: false, reason: 'merge (auto): no sign of a show running-config printout, so configuration commands over the factory default' };
}
