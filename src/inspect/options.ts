/**
 * Engine options: every behaviour the ASA sources leave open, as one declarative table. The table
 * is the single source for defaults, `name=value` validation and help text (Snort 3 style); each
 * row names its evidence level (D documented, F field observation, I inference) and source.
 * native-notes/engine-options.md explains each choice at length.
 */
import { SmtpInspectError } from '../errors.js';

export interface EngineOptions {
  /** 'segment': verbs judged per TCP segment (Cisco TechNote 113423); 'line': per reassembled line. */
  judging: 'segment' | 'line';
  /** Banner masking: 'B' keeps every '2'/'0'; 'A' keeps only the first 4 bytes (reply code + separator). */
  bannerMask: 'B' | 'A';
  /** Bytes masked for an EHLO keyword matched by `ehlo-reply-parameter … mask`. */
  ehloMask: 'line' | 'keyword';
  /** Bytes masked by `match cmd verb … mask`. */
  cmdVerbMask: 'verb' | 'line';
  /** Whether line lengths (cmd, header, body) count the CR LF. */
  lengthCountsCrlf: boolean;
  /** `header line length`: each physical line, or each header field unfolded (RFC 5322 2.2.3). */
  headerLineLength: 'physical' | 'unfolded';
  /** Scope of `cmd RCPT count` and `invalid-recipients count`. */
  rcptCountScope: 'transaction' | 'connection';
  /** Which pipes are a "pipe signature" (pipe-to-program, 108003, session closed). */
  pipeSignature: 'leading' | 'any' | 'none';
  /** Where '|' is looked for: inside the <address> only, or the whole MAIL/RCPT argument. */
  pipeScope: 'address' | 'argument';
  /** Characters `special-character` looks for in addresses (when the parameter is enabled). */
  specialCharacters: string;
  /** Which RCPT replies `invalid-recipients count` counts: permanent failures only, or transient ones too. */
  invalidRecipientReplies: '5xx' | '4xx-5xx';
  /** `mail-relay DOMAIN`: whether subdomains of DOMAIN count as local. */
  mailRelaySubdomains: boolean;
  /**
   * BDAT chunk bytes after an X'd BDAT: 'offered': skipped as opaque data unless the server is
   * known not to offer CHUNKING (then judged as command lines, as that server reads them);
   * 'opaque': always skipped; 'commands': always judged as command lines.
   */
  bdatChunk: 'offered' | 'opaque' | 'commands';
  /**
   * The binary blob an X'd `XEXCH50 <size> <n>` announces, when the server answered it 354 anyway
   * (Exchange): 'skipped': the next <size> client bytes pass uninspected; 'commands': judged as
   * command lines (literal: the ASA does not know XEXCH50).
   */
  xexch50Blob: 'skipped' | 'commands';
  /**
   * What ends a message after 354: 'crlf': only CR LF . CR LF (RFC 5321 4.1.1.4, the exact
   * sequence PIX Mailguard looked for); 'lf': a '.' line ended by any line end (bare LF too).
   */
  endOfData: 'crlf' | 'lf';
  /**
   * The file name `mime filename length` measures: 'decoded' (RFC 2231 and RFC 2047 decoded: the
   * name's octets), 'rfc2231' (RFC 2231 decoded, RFC 2047 words as written), 'raw' (as written).
   */
  mimeFilename: 'decoded' | 'rfc2231' | 'raw';
  /** Log 108006 when a message exceeds the SIZE declared on MAIL FROM. */
  sizeCheck: boolean;
  /** `drop-connection` also sends an RST to each side (like `reset`), still counted as `drop`. */
  dropConnectionRst: boolean;
  /** Severity printed for 507003 (guide: 3; both field samples: 4). */
  syslog507003Level: 3 | 4;
  /** 108003 wording: current guide ('ESMTP … Mail Address:') or older ('ESMTP/SMTP … Data:'). */
  syslog108003Wording: 'current' | 'old';
  /** 302014 reset reason spacing: 'TCP Reset-I' (field logs) or 'TCP Reset - I' (guide table). */
  resetReasonSpacing: 'compact' | 'spaced';
  /** Pending-command queue bound (pipelining); beyond it the oldest entry is forgotten. */
  maxPending: number;
  /** Bytes kept of a command argument / address / MIME header field; longer ones are measured only. */
  maxFieldBuffer: number;
  /**
   * The server accepted (2xx) a STARTTLS the engine X'd (no allow-tls): a capture tail that cannot
   * happen through an ASA. 'stop': one note, inspection ends (state 'diverged'); 'inspect': judge
   * the TLS bytes as SMTP (literal, spurious verdicts).
   */
  starttlsDivergence: 'stop' | 'inspect';
  /**
   * The server accepted (2xx) a TURN/ATRN the engine X'd: the roles reverse, which cannot happen
   * through an ASA. 'stop': one x-divergence note, inspection ends (state 'diverged'); 'inspect':
   * judge the reversed dialogue as before (the client's replies X'd as unknown commands).
   */
  turnDivergence: 'stop' | 'inspect';
  /**
   * "Unexpected transition by the SMTP server" (a listed anomaly with no documented action): a
   * server line without a reply code stays a note ('note'), or each such event (also a reply no
   * command awaited, a 354 that answers no DATA) is a `log` verdict without a syslog line ('log').
   */
  unexpectedTransition: 'note' | 'log';
  /**
   * "Incorrect command termination" (a listed anomaly with no documented action): a command line
   * ended by a bare LF passes unchanged either way; 'log' also reports each one (bounded).
   */
  bareLfCommand: 'pass' | 'log';
  /** What an event beyond a match line's `rate-limit N` does. */
  rateLimitExceeded: 'drop-connection' | 'log';
  /** Octets (CR LF included, RFC 5321 4.5.3.1.5: 512) beyond which a server line is over-long. */
  replyLineLimit: number;
  /**
   * Where an over-long server line without its LF ends: 'segment': at its segment's end when the
   * server's next segment starts with a reply code; 'lf': only at an LF (tshark's reading).
   */
  longReplyLine: 'segment' | 'lf';
  /**
   * A line of a multi-line reply whose code differs from the first line's: 'split': the reply
   * ended without a final line and this line starts the next one; 'continue': it is one more line.
   */
  replyCodeChange: 'split' | 'continue';
}

type Scalar = string | number | boolean;

export interface OptionSpec {
  /** CLI name as typed: `--engine-option judging=line`. */
  name: string;
  key: keyof EngineOptions;
  /** Allowed values; for numbers, [min, max]. */
  values: readonly string[] | { min: number; max: number };
  default: string;
  help: string;
  evidence: string;
}

export const ENGINE_OPTION_TABLE: readonly OptionSpec[] = [
  {
    name: 'judging', key: 'judging', values: ['segment', 'line'], default: 'segment',
    help: 'judge command verbs per TCP segment (a verb split across segments is X\'d) or per reassembled line',
    evidence: 'D: TechNote 113423, Telnet H,E,L,O reaches the server as XXXX (ASA-ESMTP.md 2.3; ADDENDUM B-4)',
  },
  {
    name: 'banner-mask', key: 'bannerMask', values: ['B', 'A'], default: 'B',
    help: "greeting masking: B keeps every '2' and '0' plus the first 4 bytes; A keeps only the first 4 bytes",
    evidence: 'D wording + 4 F samples for B; 1 F sample (Gordano) for A (ASA-ESMTP.md 2.4.1; ADDENDUM B-1)',
  },
  {
    name: 'ehlo-mask', key: 'ehloMask', values: ['line', 'keyword'], default: 'line',
    help: 'bytes an ehlo-reply-parameter mask overwrites with X: the whole line text after "250-" or only the keyword',
    evidence: 'I: bytes undocumented; ADDENDUM B-2 recommends the whole line',
  },
  {
    name: 'cmd-verb-mask', key: 'cmdVerbMask', values: ['verb', 'line'], default: 'verb',
    help: 'bytes a `match cmd verb … mask` overwrites with X: the verb only or the whole line (CR LF kept)',
    evidence: 'D: "masks out the matching portion of the packet" (ASA-ESMTP.md 3.3); bytes I',
  },
  {
    name: 'length-counts-crlf', key: 'lengthCountsCrlf', values: ['no', 'yes'], default: 'no',
    help: 'count the CR LF in cmd/header/body line lengths (MANIFEST 13c is the ambiguous case)',
    evidence: 'F weak: ConetriX (ADDENDUM B-8); RFC 5322 998 excludes CRLF',
  },
  {
    name: 'header-line-length', key: 'headerLineLength', values: ['physical', 'unfolded'], default: 'physical',
    help: '`header line length` measures each physical line (a folded field is several lines) or each header field unfolded (RFC 5322 2.2.3: the CR LF before a continuation line removed; CR LF never counted then)',
    evidence: 'F weak: ConetriX, Outlook x-cr-hashedpuzzle continuation lines trip gt 998 (ADDENDUM B-8); ASA-ESMTP.md 11.8 open',
  },
  {
    name: 'rcpt-count-scope', key: 'rcptCountScope', values: ['transaction', 'connection'], default: 'transaction',
    help: 'count RCPT commands (and invalid recipients) per mail transaction (reset by MAIL, RSET, end of DATA) or per connection',
    evidence: 'I: ADDENDUM B-9/B-10 (F: the ASA counts RCPT commands, not accepted recipients)',
  },
  {
    name: 'pipe-signature', key: 'pipeSignature', values: ['leading', 'any', 'none'], default: 'leading',
    help: "which '|' in a MAIL/RCPT address close the session (108003, drop): a '|' starting the mailbox (pipe-to-program, as sendmail reads one: also after an opening quote, \"|prg args\", or after a source route @a:), any '|' (the seed TechNote's reading; MANIFEST 15a), or none; every other '|' becomes a space + 108002",
    evidence: 'D: config + syslog guides: | -> space + 108002 (ASA-ESMTP.md 2.2); D: seed TechNote: pipe signature closes the session; 108003 patterns undocumented (I)',
  },
  {
    name: 'pipe-scope', key: 'pipeScope', values: ['address', 'argument'], default: 'address',
    help: "look for '|' inside the <address> only, or in the whole MAIL/RCPT argument incl. ESMTP parameters (MANIFEST 15c)",
    evidence: 'D: "Mail addresses are scanned for strange characters" (ASA-ESMTP.md 2.2)',
  },
  {
    name: 'special-characters', key: 'specialCharacters', values: { min: 1, max: 32 }, default: '|',
    help: 'characters the special-character parameter looks for in addresses (a string; backslash escapes \\0 \\` allowed)',
    evidence: 'I: set undocumented; only "|" is named by Cisco (ADDENDUM B-6)',
  },
  {
    name: 'invalid-recipient-replies', key: 'invalidRecipientReplies', values: ['5xx', '4xx-5xx'], default: '5xx',
    help: 'RCPT replies that count as an invalid recipient for `invalid-recipients count`: 5xx (permanent: no such user) or 4xx and 5xx (also 450/451/452 try-again replies)',
    evidence: 'I: computation undocumented (ASA-ESMTP.md 11.10; ADDENDUM B-10 recommends 5xx)',
  },
  {
    name: 'mail-relay-subdomains', key: 'mailRelaySubdomains', values: ['no', 'yes'], default: 'no',
    help: 'treat subdomains of the mail-relay domain as local',
    evidence: 'I: ADDENDUM B-7',
  },
  {
    name: 'bdat-chunk', key: 'bdatChunk', values: ['offered', 'opaque', 'commands'], default: 'offered',
    help: "bytes of a BDAT chunk (after the X'd BDAT line): offered: skipped uninspected unless the server did not offer CHUNKING (its last EHLO reply lacked it, the session used HELO, or no EHLO reply came before), then judged as command lines, as that server reads them; opaque: always skipped; commands: always judged as command lines",
    evidence: 'D: CHUNKING unsupported (the ASA X\'s BDAT and does not know chunks); RFC 3030 2: a server that did not offer CHUNKING rejects BDAT and reads the chunk as commands; chunk handling undocumented (I; MANIFEST 06)',
  },
  {
    name: 'xexch50-blob', key: 'xexch50Blob', values: ['skipped', 'commands'], default: 'skipped',
    help: "bytes of the binary blob an X'd `XEXCH50 <size> <n>` announces when the server answered it 354 (Exchange's 'Send binary data'): skipped: the next <size> client bytes pass uninspected (one note); commands: judged as command lines (a blob is binary: X'd, and a run of 513 bytes without LF trips `cmd line length gt 512`)",
    evidence: "D: XEXCH50 and private extensions are unsupported (ASA-ESMTP.md 1.1), so through the ASA the server gets X's, answers 5xx and the client sends no blob; the 354 and the blob in a capture are a path the ASA does not allow (I); framing as Snort 3's smtp inspector reads it (XEXCH50's first argument is the blob size, like BDAT's)",
  },
  {
    name: 'end-of-data', key: 'endOfData', values: ['crlf', 'lf'], default: 'crlf',
    help: "what ends a message after the 354: crlf: only CR LF . CR LF; lf: a '.' line with any line end (bare LF: <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF>), for servers that accept those",
    evidence: 'I: RFC 5321 4.1.1.4 / 2.3.8 (CR LF . CR LF; bare LF is not a line end); D/F: PIX Mailguard looked for the CRLF.CRLF string (MS KB Q295725, CSCds90792; ASA-ESMTP.md 2.3); SMTP smuggling (SEC Consult 2023): servers differ',
  },
  {
    name: 'mime-filename', key: 'mimeFilename', values: ['decoded', 'rfc2231', 'raw'], default: 'decoded',
    help: "the file name `mime filename length` measures (Content-Type name / Content-Disposition filename): decoded: RFC 2231 (filename*=, percent-encoding, charset prefix) and RFC 2047 (=?UTF-8?B?…?= words) decoded to the name's octets; rfc2231: only RFC 2231 decoded (the behaviour before this option); raw: the parameter as written",
    evidence: 'D: "a file name is longer than the specified number of bytes" (ASA-ESMTP.md 3.2); how the ASA reads encoded names is undocumented (I)',
  },
  {
    name: 'size-check', key: 'sizeCheck', values: ['yes', 'no'], default: 'yes',
    help: 'log 108006 when a message is larger than the SIZE declared on MAIL FROM',
    evidence: 'D: syslog guide 108006 (ASA-ESMTP.md 2.5)',
  },
  {
    name: 'drop-connection-rst', key: 'dropConnectionRst', values: ['no', 'yes'], default: 'no',
    help: 'drop-connection (and the other drops: pipe signature, mail-relay, special-character, rate-limit-exceeded=drop-connection) silently discards the connection (no), or also synthesises an RST to each side as `reset` does (yes); counted as drop either way, never reset-drop (replay and live; the proxy has --drop-mode)',
    evidence: 'I from D: Cisco defines drop-connection and reset as distinct actions, and a default-map device shows reset-drop 0 (ADDENDUM B-11, F counters); Oxford blog "the remote server simply sees a TCP connection reset" (F, weak); ASA-ESMTP.md 11.11',
  },
  {
    name: 'syslog-507003-level', key: 'syslog507003Level', values: ['4', '3'], default: '4',
    help: 'severity printed in %ASA-N-507003',
    evidence: 'D guide: 3; F: two field samples at 4 (ASA-ESMTP.md 10.11; ADDENDUM B-11)',
  },
  {
    name: 'syslog-108003-wording', key: 'syslog108003Wording', values: ['current', 'old'], default: 'current',
    help: "108003 text: current guide ('ESMTP connection … Mail Address:') or older ('ESMTP/SMTP connection … Data:')",
    evidence: 'D: both wordings exist (ASA-ESMTP.md 10.6)',
  },
  {
    name: 'reset-reason-spacing', key: 'resetReasonSpacing', values: ['compact', 'spaced'], default: 'compact',
    help: "302014 reset reasons as 'TCP Reset-I' (field logs) or 'TCP Reset - I' (guide table)",
    evidence: 'F weak vs D table (ASA-ESMTP.md 7.2)',
  },
  {
    name: 'max-pending', key: 'maxPending', values: { min: 1, max: 100000 }, default: '128',
    help: 'pipelined commands awaiting a reply that are remembered; beyond it the oldest is forgotten (note verdict)',
    evidence: 'I: bound, as Zeek caps its queue at 1000',
  },
  {
    name: 'max-field-buffer', key: 'maxFieldBuffer', values: { min: 64, max: 1048576 }, default: '4096',
    help: 'bytes kept of an address, command argument or MIME header field; longer ones are measured, not stored',
    evidence: 'I: bounded memory (Suricata-style line cap)',
  },
  {
    name: 'turn-divergence', key: 'turnDivergence', values: ['stop', 'inspect'], default: 'stop',
    help: "when the server answers 2xx to a TURN or ATRN the engine X'd, stop inspecting with one x-divergence note (the roles reverse: through an ASA the server would have answered 5xx and nothing would reverse), or judge the reversed dialogue as SMTP commands (the client's replies X'd)",
    evidence: "D: ATRN and TURN are unsupported (ASA-ESMTP.md 1.1: ATRN listed; TURN named among blocked verbs [S13][S40]), so the verb is X'd and the server answers 5xx; RFC 821 4.1.1 (TURN) and RFC 2645 (ATRN): after a 250 the server becomes the sending side (I)",
  },
  {
    name: 'starttls-divergence', key: 'starttlsDivergence', values: ['stop', 'inspect'], default: 'stop',
    help: "when the server answers 2xx to a STARTTLS the engine X'd (no allow-tls) or to Exchange's X-ANONYMOUSTLS (always X'd), stop inspecting with one note (through an ASA the server would have answered 500 and no TLS would follow), or judge the captured TLS bytes as SMTP commands",
    evidence: 'I from D: without allow-tls the verb is X\'d and the server answers 500 (ADDENDUM B-3, ESA TechNote [S10]); MANIFEST 04/12 captures were made without an ASA',
  },
  {
    name: 'unexpected-transition', key: 'unexpectedTransition', values: ['note', 'log'], default: 'note',
    help: '"unexpected transition by the SMTP server": a server line without a reply code gives a note and nothing else (note), or every such event (also a reply no command awaited, a 354 answering no DATA) is a log verdict (a finding) with no syslog line, since none is documented (log); nothing is dropped either way',
    evidence: 'D: listed among the anomalies SMTP inspection monitors, no action or syslog documented (ASA-ESMTP.md 2.2, 11.5; ADDENDUM B-5: no action by default)',
  },
  {
    name: 'bare-lf-command', key: 'bareLfCommand', values: ['pass', 'log'], default: 'pass',
    help: '"incorrect command termination": a client command line ended by a bare LF (no CR) is forwarded unchanged and judged like any line (pass), or is also reported, one log verdict per line without a syslog line (none is documented), at most 16 per connection with the notes (log); never X\'d or dropped',
    evidence: 'D: listed among the anomalies SMTP inspection monitors, no action or syslog documented (ASA-ESMTP.md 2.2, 2.3: a Telnet session "may hang"); I: Cisco\'s own workaround is netcat (TechNote 113423), which ends lines with a bare LF, and RFC 5321 servers such as Postfix and Exim accept it',
  },
  {
    name: 'rate-limit-exceeded', key: 'rateLimitExceeded', values: ['drop-connection', 'log'], default: 'drop-connection',
    help: 'an event beyond `rate-limit N` (token bucket per policy-map class and match line: burst N, N per second of capture time): the ASA drops the message; the replay cannot replay the retransmission, so it cuts the connection at that packet (drop-connection), or only reports it (log)',
    evidence: 'D: "rate-limit message_rate - limits the rate of messages" (ASA-ESMTP.md 3.3); per-class policing is a token bucket (I); the consequence for a TCP stream is undocumented (I)',
  },
  {
    name: 'reply-line-limit', key: 'replyLineLimit', values: { min: 16, max: 1048576 }, default: '512',
    help: 'octets (CR LF included) beyond which a server reply line is over-long: such a line, still without its LF, is what long-reply-line decides about (shorter lines split across segments are never cut)',
    evidence: 'I: RFC 5321 4.5.3.1.5 (reply line: 512 octets incl. CR LF); the ASA sources say nothing on server line limits',
  },
  {
    name: 'long-reply-line', key: 'longReplyLine', values: ['segment', 'lf'], default: 'segment',
    help: "an over-long server line without LF ends where its segment ends when the server's next segment starts with a reply code (DDD + SP, '-', CR or LF), or only at an LF (tshark: the next reply is absorbed into it)",
    evidence: 'I: servers write replies whole; the ASA judges per segment (ASA-ESMTP.md 2.3) and the engine already resyncs a gap at such a segment; RFC 5321 4.5.3.1.5 + "be liberal"; suricata-verify smtp-bug-6053',
  },
  {
    name: 'reply-code-change', key: 'replyCodeChange', values: ['split', 'continue'], default: 'split',
    help: 'a line of a multi-line reply whose code differs from its first line (250- then 334 ...): the reply ended without a final line and this line starts the next reply, or it is one more line of the same reply',
    evidence: 'I: RFC 5321 4.2.1 (every line of a multi-line reply has the same code); ASA behaviour undocumented',
  },
] as const;

function convert(spec: OptionSpec, value: string): Scalar | null {
  if (Array.isArray(spec.values)) {
    const allowed = spec.values as readonly string[];
    if (!allowed.includes(value)) return null;
    if (allowed.length === 2 && allowed.includes('yes') && allowed.includes('no')) return value === 'yes';
    if (spec.key === 'syslog507003Level') return Number(value);
    return value;
  }
  const range = spec.values as { min: number; max: number };
  if (spec.key === 'specialCharacters') {
    const decoded = value.replace(/\\0/g, '\0').replace(/\\`/g, '`');
    return decoded.length >= range.min && decoded.length <= range.max ? decoded : null;
  }
  if (!/^\d+$/.test(value)) return null;
  const n = Number(value);
  return n >= range.min && n <= range.max ? n : null;
}

function describeValues(spec: OptionSpec): string {
  if (Array.isArray(spec.values)) return (spec.values as readonly string[]).join('|');
  const r = spec.values as { min: number; max: number };
  return spec.key === 'specialCharacters' ? `string of ${r.min}-${r.max} characters` : `${r.min}..${r.max}`;
}

export function defaultEngineOptions(): EngineOptions {
  const out: Record<string, Scalar> = {};
  for (const spec of ENGINE_OPTION_TABLE) {
    const v = convert(spec, spec.default);
    if (v === null) throw new Error(`bad default for engine option ${spec.name}`);
    out[spec.key] = v;
  }
  return out as unknown as EngineOptions;
}

/** Parse one `name=value`; throws SmtpInspectError E_OPTION naming the allowed values. */
export function parseEngineOption(text: string, into: EngineOptions = defaultEngineOptions()): EngineOptions {
  const eq = text.indexOf('=');
  const name = (eq < 0 ? text : text.slice(0, eq)).trim();
  const spec = ENGINE_OPTION_TABLE.find((s) => s.name === name);
  if (!spec) {
    throw new SmtpInspectError('E_OPTION', `unknown engine option '${name}' (known: ${ENGINE_OPTION_TABLE.map((s) => s.name).join(', ')})`);
  }
  if (eq < 0) throw new SmtpInspectError('E_OPTION', `engine option '${name}' needs a value: ${name}=${describeValues(spec)}`);
  const value = text.slice(eq + 1).trim();
  const v = convert(spec, value);
  if (v === null) {
    throw new SmtpInspectError('E_OPTION', `engine option '${name}': bad value '${value}' (expected ${describeValues(spec)})`);
  }
  (into as unknown as Record<string, Scalar>)[spec.key] = v;
  return into;
}

export function parseEngineOptions(texts: readonly string[]): EngineOptions {
  const opts = defaultEngineOptions();
  for (const t of texts) parseEngineOption(t, opts);
  return opts;
}

/** Help text, one block per option: name=values (default), help, evidence. */
export function engineOptionsHelp(): string {
  return ENGINE_OPTION_TABLE.map(
    (s) => `  ${s.name}=${describeValues(s)}  (default ${s.default})\n      ${s.help}\n      evidence: ${s.evidence}`,
  ).join('\n');
}
