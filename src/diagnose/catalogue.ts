/**
 * The symptom catalogue: for each thing ESMTP inspection does to a session, what each side sees and
 * logs, in the words mail software uses, and which kind of fix removes it. Sources are the spec
 * (ASA-ESMTP.md §8, with its evidence levels) and the mail software's own log wording; the full
 * list with sources is in native-notes/diagnose.md.
 */

/** The default map's limits (ASA-ESMTP.md §3.5). */
export const DEFAULT_LIMITS = {
  cmdLine: 512,
  rcptCount: 100,
  bodyLine: 998,
  headerLine: 998,
  senderAddress: 320,
  mimeFilename: 255,
} as const;

export type Category =
  | 'mask-banner'
  | 'starttls-masked'
  | 'ehlo-keyword-masked'
  | 'unknown-command'
  | 'cmd-line-length'
  | 'cmd-rcpt-count'
  | 'header-line-length'
  | 'header-length'
  | 'body-line-length'
  | 'body-length'
  | 'sender-address-length'
  | 'mime-filename-length'
  | 'special-character'
  | 'mail-relay'
  | 'other-match'
  /** The capture shows the server accepting STARTTLS that the ASA X's (engine note). */
  | 'starttls-divergence'
  /** The capture shows the server accepting a command the ASA X's (engine note). */
  | 'x-divergence'
  /** `match invalid-recipients count gt N`: RCPTs the server refused (5xx, or 4xx-5xx per the engine option). */
  | 'invalid-recipients'
  /** unexpected-transition=log: the server answered out of step with the dialogue (no ASA syslog). */
  | 'unexpected-transition'
  /** size-check=yes: the message is larger than the SIZE declared on MAIL FROM (108006). */
  | 'size-violation'
  /** bare-lf-command=log: a client command line ended by a bare LF (no ASA syslog, forwarded unchanged). */
  | 'bare-lf-command'
  /** A `set connection` limit of the class refused the connection (pipeline, 201011/201013...). */
  | 'connection-limit'
  /** The ASA's fragment database discarded the IP fragments of a segment (pipeline, over a `fragment` limit). */
  | 'ip-fragment'
  | 'other';

/**
 * The engine options that change what a finding means for the admin (src/inspect/options.ts):
 * which replies count as invalid recipients, how header lines are measured, whether a drop also
 * resets both sides. Absent: the defaults.
 */
export interface ExplainSettings {
  dropConnectionRst?: boolean;
  headerLineLength?: 'physical' | 'unfolded';
  invalidRecipientReplies?: '5xx' | '4xx-5xx';
  rcptCountScope?: 'transaction' | 'connection';
  lengthCountsCrlf?: boolean;
}

/** How bad it is for mail: breaks delivery, degrades it, cosmetic, or only logged. */
export type Severity = 'breaks' | 'degrades' | 'cosmetic' | 'logged';

/** The preferred fixes, in the order diagnose tries to verify them. */
export type FixKind = 'raise-limit' | 'allow-tls' | 'no-mask-banner' | 'exempt-gateway'
  /** The ASA's `fragment` limits (or no fragmentation): not ESMTP policy, so not verified by replay. */
  | 'fragment-limits';

/** Classifies a verdict's rule (and detail) into a catalogue category. */
export function categorize(rule: string, detail = ''): Category {
  const r = rule.toLowerCase().replace(/\s+/g, ' ').trim();
  const d = detail.toLowerCase();
  // before the STARTTLS test below: the divergence notes are not masks
  if (r === 'starttls-divergence') return 'starttls-divergence';
  if (r === 'x-divergence') return 'x-divergence';
  if (r === 'unexpected-transition') return 'unexpected-transition';
  if (r === 'size-violation') return 'size-violation';
  if (r === 'bare-lf-command') return 'bare-lf-command';
  if (r.startsWith('set connection ')) return 'connection-limit';
  if (r === 'ip fragment reassembly') return 'ip-fragment';
  if (r.includes('mask-banner') || r === 'banner') return 'mask-banner';
  if (r.includes('allow-tls') || r.includes('starttls')) return 'starttls-masked';
  if (r.includes('ehlo-reply-parameter')) return d.includes('starttls') ? 'starttls-masked' : 'ehlo-keyword-masked';
  if (r.includes('unknown-command') || r.includes('unsupported') || r.includes('incomplete-command')) return 'unknown-command';
  if (/invalid-recipients count/.test(r)) return 'invalid-recipients';
  if (/cmd line length/.test(r)) return 'cmd-line-length';
  if (/cmd rcpt count/.test(r)) return 'cmd-rcpt-count';
  if (/header line length/.test(r)) return 'header-line-length';
  if (/header length/.test(r)) return 'header-length';
  if (/body line length/.test(r)) return 'body-line-length';
  if (/body length/.test(r)) return 'body-length';
  if (/sender-address length/.test(r)) return 'sender-address-length';
  if (/mime filename length/.test(r)) return 'mime-filename-length';
  if (r.includes('special-character') || r.includes('pipe')) return 'special-character';
  if (r.includes('mail-relay')) return 'mail-relay';
  if (r.startsWith('match ')) return 'other-match';
  return 'other';
}

/** Actions that change what the endpoints see. */
export function isBreakingAction(action: string): boolean {
  return action === 'drop-connection' || action === 'reset' || action === 'x-substitute' || action === 'replace';
}

export function severityOf(category: Category, action: string): Severity {
  if (action === 'drop-connection' || action === 'reset' || category === 'connection-limit' || category === 'ip-fragment') return 'breaks';
  // Through the ASA the server rejects what the capture shows it accepting: the client sees a 5xx.
  if (category === 'starttls-divergence' || category === 'x-divergence') return 'degrades';
  if (category === 'unknown-command' || category === 'starttls-masked' || action === 'replace') return 'degrades';
  if (category === 'mask-banner' || category === 'ehlo-keyword-masked') return 'cosmetic';
  if (action === 'mask' || action === 'x-substitute') return 'degrades';
  return 'logged';
}

export function fixKindsFor(category: Category, severity: Severity): FixKind[] {
  switch (category) {
    case 'cmd-line-length':
    case 'cmd-rcpt-count':
    case 'header-line-length':
    case 'header-length':
    case 'body-line-length':
    case 'body-length':
    case 'sender-address-length':
    case 'mime-filename-length':
    case 'invalid-recipients':
      return severity === 'logged' ? [] : ['raise-limit', 'exempt-gateway'];
    case 'unexpected-transition':
    case 'size-violation':
    case 'bare-lf-command':
      return [];
    case 'connection-limit':
      // ESMTP exemption does not lift a `set connection` limit: the fix is the limit itself (symptom text)
      return [];
    case 'ip-fragment':
      // the ASA reassembles fragments for all traffic: the fix is the fragmentation or the `fragment` limits (analyze.ts)
      return [];
    case 'starttls-masked':
    case 'starttls-divergence':
      return ['allow-tls', 'exempt-gateway'];
    case 'x-divergence':
      return ['exempt-gateway'];
    case 'mask-banner':
      return ['no-mask-banner', 'exempt-gateway'];
    case 'unknown-command':
    case 'ehlo-keyword-masked':
      return ['exempt-gateway'];
    case 'special-character':
    case 'mail-relay':
    case 'other-match':
      // a match whose action only logs changes nothing on the wire: no fix to propose for it
      return severity === 'logged' ? [] : ['exempt-gateway'];
    case 'other':
      return severity === 'breaks' ? ['exempt-gateway'] : [];
  }
}

/** Where in the dialogue a rule hit: the last command before it, for "after RCPT" wording. */
export interface Stage {
  /** The client's last command verb before the hit ('RCPT', 'DATA', 'MAIL', 'EHLO', '' = greeting). */
  lastCommand: string;
  /**
   * The last command the server received whole, in packets before the hit's own (a drop or reset
   * leaves that packet out): what Postfix smtpd's "timeout after X" names. '' = none yet (CONNECT).
   * Differs from lastCommand when the dropped packet carried the command (the 513-byte EHLO, the
   * long MAIL FROM, a pipelined MAIL+RCPT group). Absent: lastCommand.
   */
  serverLastCommand?: string;
  /** True when the hit is inside message content. */
  inData: boolean;
  /** Number of X'd commands in the session (ESA bad-command limit). */
  xedCommands: number;
  /** The greeting is multi-line (220-...). */
  multiLineGreeting: boolean;
  /** Who sent the packet the hit is on, when known (fragment discards: whose segment was lost). */
  sender?: 'client' | 'server';
}

export interface Symptom {
  /** One sentence for the admin. */
  summary: string;
  /** What the SMTP client (sending MTA) sees and logs. */
  client: string[];
  /** What the SMTP server (receiving MTA / mail gateway) sees and logs. */
  server: string[];
}

/** Postfix smtp(8) "while sending X" wording for the command in flight. */
function postfixWhile(stage: Stage): string {
  if (stage.inData) return 'while sending message body';
  switch (stage.lastCommand) {
    case 'MAIL':
      return 'while sending MAIL FROM';
    case 'RCPT':
      return 'while sending RCPT TO';
    case 'DATA':
      return 'while sending DATA command';
    case 'EHLO':
    case 'HELO':
      return 'while performing the EHLO handshake';
    case '':
      return 'while receiving the initial server greeting';
    default:
      return `while sending ${stage.lastCommand}`;
  }
}

/** Where the client was when the ASA cut in: the command in flight. */
function atWhat(stage: Stage): string {
  if (stage.inData) return 'DATA';
  return stage.lastCommand || 'CONNECT';
}

/** Postfix smtpd's "after X": the last command the server itself received. */
function afterWhat(stage: Stage): string {
  if (stage.inData) return 'DATA';
  return (stage.serverLastCommand ?? stage.lastCommand) || 'CONNECT';
}

/** The symptom wording for one hit. `server`/`client` are the endpoints as printed. */
export function symptomFor(
  category: Category,
  action: string,
  stage: Stage,
  client: string,
  server: string,
  detail = '',
  settings: ExplainSettings = {},
  syslog: readonly string[] = [],
): Symptom {
  const sHost = server.replace(/:\d+$/, '');
  const cHost = client.replace(/:\d+$/, '');
  if (category === 'connection-limit') return connectionLimitSymptom(detail, syslog, sHost);
  if (category === 'ip-fragment') return fragmentSymptom(detail, stage, sHost, cHost);
  if (action === 'drop-connection' || action === 'reset') {
    const what = dropWhat(category, detail, settings);
    // drop-connection-rst=yes: a drop also sends each side an RST, so both ends see a reset, not a time-out
    const rstDrop = action === 'drop-connection' && settings.dropConnectionRst === true;
    const reset = action === 'reset' || rstDrop;
    const at = atWhat(stage);
    const after = afterWhat(stage);
    const how = action === 'reset'
      ? 'resets'
      : rstDrop
        ? 'drops (and, with drop-connection-rst=yes, sends a TCP reset to each side of)'
        : 'silently drops';
    return {
      summary: `${what}: the ASA ${how} the connection ${stage.inData ? 'in the middle of the message' : `at ${at}`}; ${rstDrop ? 'both sides see the connection reset at once instead of waiting for a time-out; ' : ''}the message is not delivered and the sender retries (and fails again) until it bounces.`,
      client: reset
        ? [
            `Postfix smtp: "lost connection with ${sHost} ${postfixWhile(stage)}"`,
            `Cisco ESA (delivering): "Connection error: DCID … [Errno 54] Connection reset by peer"; "Message aborted MID …"`,
          ]
        : [
            `Postfix smtp: "conversation with ${sHost} timed out ${postfixWhile(stage)}"`,
            `Cisco ESA (delivering): "Connection error: DCID … [Errno 60] Operation timed out"; "Message aborted MID …"`,
          ],
      server: [
        reset
          ? `Postfix smtpd: "lost connection after ${after} from ${cHost}"`
          : `Postfix smtpd: "timeout after ${after} from ${cHost}" (then "lost connection after ${after}")`,
        `Cisco ESA (receiving): "Receiving aborted ICID … lost", "ICID … close"; "Message aborted MID …"`,
      ],
    };
  }
  switch (category) {
    case 'mask-banner':
      return {
        summary: `The server's greeting is replaced by asterisks (only the digits 2/0 survive).`,
        client: [
          `sees "220 ****…" instead of the server's host name; MXToolbox: "Reverse DNS does not match SMTP Banner"`,
          ...(stage.multiLineGreeting
            ? [`multi-line greeting: a strict client may not find the final "220 " line and wait: Postfix smtp "conversation with ${sHost} timed out while receiving the initial server greeting"`]
            : []),
        ],
        server: ['nothing: the server does not see the change'],
      };
    case 'starttls-masked':
      return {
        summary: `STARTTLS is removed from the EHLO reply (XXXXXXXA): mail that should be encrypted goes in clear text or is deferred.`,
        client: [
          `sender falls back to plaintext because STARTTLS is not offered (Postfix smtp_tls_security_level=may)`,
          `Postfix with TLS required (encrypt/dane/MTA-STS): "TLS is required, but was not offered by host ${sHost}" and the mail is deferred`,
          `Cisco ESA (delivering, TLS required): "TLS failed" / "STARTTLS command not supported"`,
        ],
        server: ['mail arrives unencrypted (no "STARTTLS" from the client in the log)'],
      };
    case 'ehlo-keyword-masked':
      return {
        summary: `An EHLO extension (${/keyword\s+([A-Za-z0-9-]+)/i.exec(detail)?.[1] ?? 'keyword'}) is masked in the server's reply: the client cannot use it.`,
        client: [
          `the extension is not offered; for SMTPUTF8 Postfix logs "SMTPUTF8 is required, but was not offered by host ${sHost}" and bounces internationalised mail; for CHUNKING the client falls back to DATA`,
        ],
        server: ['nothing visible'],
      };
    case 'unknown-command': {
      const esa = stage.xedCommands >= 5
        ? [`Cisco ESA (receiving): this session has ${stage.xedCommands} X'd commands; at its bad-command limit (5 by default) the ESA answers "421 Exceeded bad SMTP command limit, disconnecting." and closes the session`]
        : [`Cisco ESA (receiving) counts each as a bad command; at its limit (5 by default) it answers "421 Exceeded bad SMTP command limit, disconnecting."`];
      return {
        summary: `The command${detail ? ` (${detail})` : ''} is replaced by X's (length kept); the server rejects the X's as an unknown command.`,
        client: [
          `Postfix smtp: "host ${sHost} said: 500 5.5.2 Error: command not recognized (in reply to XXXX command)"; the feature (e.g. STARTTLS, BDAT, XCLIENT) is unusable`,
        ],
        server: [
          `Postfix smtpd answers "500 5.5.2 Error: command not recognized" (Postfix 3.x; older and other MTAs "502 5.5.2" / "500 Command unrecognized: \\"XXXX\\"")`,
          ...esa,
        ],
      };
    }
    case 'starttls-divergence':
      return {
        summary: `The server accepted STARTTLS in this capture, but through the ASA (no allow-tls) the command arrives as X's: the server rejects it, no TLS starts, and the session goes on in plaintext or ends.`,
        client: [
          `gets a 5xx reply to STARTTLS instead of "220": an opportunistic sender (Postfix smtp_tls_security_level=may) continues in plaintext; one that requires TLS (encrypt/dane/MTA-STS) gives up and defers the mail`,
        ],
        server: [
          `receives X's instead of STARTTLS and answers them as an unknown command (Postfix smtpd: "500 5.5.2 Error: command not recognized")`,
          `mail that does arrive comes unencrypted`,
        ],
      };
    case 'x-divergence': {
      const code = /answered (\d{3})/.exec(detail)?.[1] ?? '2xx';
      return {
        summary: `The server accepted a command that the ASA X's (it answered ${code} in this capture): through the ASA it receives X's and answers 5xx instead, so the client sees a rejection and what depended on the reply (EHLO keywords, a BDAT chunk) goes differently.`,
        client: [
          `gets a 5xx where this capture shows ${code}: Postfix smtp "host ${sHost} said: 500 5.5.2 Error: command not recognized (in reply to XXXX command)"`,
        ],
        server: [
          `receives X's instead of the command and answers "500 5.5.2 Error: command not recognized" (Postfix; other MTAs 502): the rest of the dialogue in this capture does not happen that way through the ASA`,
        ],
      };
    }
    case 'body-line-length':
    case 'body-length':
      return {
        summary: `Only logged (body line longer than the limit): mail is not affected.`,
        client: ['nothing'],
        server: ['nothing'],
      };
    case 'unexpected-transition':
      return unexpectedTransitionSymptom(detail, sHost);
    case 'bare-lf-command':
      return {
        summary: `A client command line ended by a bare LF instead of CR LF ("incorrect command termination", an anomaly the ASA documents watching, with no action or syslog): the line was judged and forwarded unchanged; reported only because bare-lf-command=log.`,
        client: ['nothing from the ASA; such lines usually come from hand-typed tests (netcat sends a bare LF) or a broken client, and RFC 5321 asks for CR LF'],
        server: ['receives the line unchanged; most servers accept a bare LF at the end of a command, some answer 500 or close'],
      };
    case 'size-violation':
      return {
        summary: `The message is larger than the SIZE the client declared on MAIL FROM${detail ? ` (${detail})` : ''}: only logged (size-check=yes, 108006); mail is not affected by the ASA.`,
        client: ['nothing from the ASA; a server that enforces the declared SIZE may answer 552 at the end of DATA'],
        server: ['receives the whole message; a client declaring too small a SIZE is a client bug worth reporting to its owner'],
      };
    default:
      break;
  }
  if (category === 'special-character' && action === 'replace') {
    return {
      summary: `A '|' in the envelope address is replaced by a space${detail ? ` (${detail})` : ''}: the server receives a different address than the client sent.`,
      client: ['no error from the ASA; a server that rejects the changed address answers 5xx to MAIL/RCPT (Postfix smtpd: "501 5.1.3 Bad recipient address syntax") and the client bounces the mail'],
      server: ['sees the address with a space where the \'|\' was: mail goes to a different (often nonexistent) mailbox or is refused', 'the ASA logs 108002 with the address'],
    };
  }
  if (action === 'rate-limit') {
    return {
      summary: `${dropWhat(category, detail, settings)}: ${detail.includes('not enforced') ? 'the rate-limit could not be judged (no capture time), so nothing happened' : 'the rate-limit was exceeded; reported only (rate-limit-exceeded=log), the ASA would drop this message'}.`,
      client: [detail.includes('not enforced') ? 'nothing' : 'through the ASA: the dropped message is retransmitted by TCP and, while the rate stays exceeded, the session stalls until a time-out'],
      server: ['no ASA syslog line is documented for rate-limit drops'],
    };
  }
  const logged = syslog.length > 0 ? `the ASA logs ${syslogIds(syslog)}` : 'no ASA syslog line is written for it';
  if (action === 'log') {
    return {
      summary: `Only logged: ${lowerFirst(dropWhat(category, detail, settings))}; mail is not affected.`,
      client: ['nothing'],
      server: [`nothing; ${logged}`],
    };
  }
  return {
    summary: `${dropWhat(category, detail, settings)} (${action}).`,
    client: [action === 'mask' ? 'receives the matched part masked (the bytes are replaced, the length kept)' : 'depends on the action'],
    server: [logged],
  };
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** "108005" / "108004 and 507003": the message ids of the syslog lines. */
function syslogIds(lines: readonly string[]): string {
  const ids = [...new Set(lines.map((l) => /%ASA-\d-(\d+)/.exec(l)?.[1] ?? 'a line'))];
  return ids.join(' and ');
}

/**
 * unexpected-transition=log (ASA-ESMTP.md 11.5): the server answered out of step with the
 * dialogue. No ASA syslog line is documented for it, so the admin is pointed at what to look at
 * instead, per the engine's three kinds (src/inspect/esmtp/session.ts).
 */
function unexpectedTransitionSymptom(detail: string, sHost: string): Symptom {
  const noSyslog = 'no ASA syslog line: the ASA documents "unexpected transition by the SMTP server" among the anomalies it watches, but no action or message for it; the emulator reports it only because unexpected-transition=log';
  const code = /server reply (\d{3})/.exec(detail)?.[1];
  if (/354/.test(detail) && /other than DATA/.test(detail)) {
    return {
      summary: `The server answered out of step: a 354 ("start mail input") to a command other than DATA (e.g. to RCPT). The ASA ignores it and keeps judging the client's lines as commands; a client that believed the 354 and sent the message would have its message lines judged (and X'd) as commands.`,
      client: [
        `the client gets a 354 where it expects 250/4xx/5xx and usually gives up on the transaction (Postfix words such replies "host ${sHost} said: 354 … (in reply to RCPT TO command)")`,
        noSyslog,
      ],
      server: [
        `look at the server (or a proxy/anti-spam front end before it) at this packet: a 354 to RCPT is a server bug or a server that read pipelined commands out of order; its log for this session shows which command it thought it answered`,
      ],
    };
  }
  if (/while no command awaited/.test(detail)) {
    return {
      summary: `The server sent a reply${code ? ` (${code})` : ''} that no command of the client was waiting for: the replies after it are out of step with the commands they answer.`,
      client: [
        `a client may take this reply as the answer to its next command (and a later reply as the answer to the one after): look at the client's log for replies that do not fit the command (e.g. "in reply to QUIT command" with a 250/451)`,
        noSyslog,
      ],
      server: [
        `look at the server's log at this time: an unsolicited reply is often a time-out or shutdown notice (421/451 "Timeout waiting for client input") or a duplicated reply after a server-side error`,
      ],
    };
  }
  return {
    summary: `The server sent a line without a 3-digit reply code (${detail || 'an unexpected server line'}); the ASA's reading of the replies after it is not documented.`,
    client: [
      `a strict client cannot parse the reply and may give up on the session; a lenient one skips the line (look at the client's log for a malformed or unexpected reply from ${sHost} at this time)`,
      noSyslog,
    ],
    server: [
      `look at what wrote the line at this packet: a server banner or debug output, a proxy or load balancer inserting text, or a non-SMTP service on the port`,
    ],
  };
}

/** `[2001:db8::25]` -> `2001:db8::25`: Postfix brackets the address itself (`host[addr]:port`). */
function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A class's `set connection` limit refused the connection (pipeline, src/pipeline/connection-limits.ts). */
function connectionLimitSymptom(detail: string, syslog: readonly string[], sHost: string): Symptom {
  return {
    summary: `The ASA refuses the connection: a \`set connection\` limit of the class that matched it is reached${detail ? ` (${detail})` : ''}. Exempting the server from ESMTP inspection does not lift it: raise or remove the \`set connection\` line in that class (or give the mail gateway its own class without it).`,
    client: [
      `Postfix smtp: "connect to …[${unbracketed(sHost)}]:…: Connection timed out" (the SYN is dropped), the mail is deferred and retried`,
    ],
    server: ['never sees the connection', syslog.length > 0 ? `the ASA logs ${syslogIds(syslog)}` : 'no ASA syslog line for this packet'],
  };
}

/** Which `fragment` limit the pipeline's discard detail names (src/pipeline/inspection-pipeline.ts). */
export type FragmentLimit = 'chain' | 'timeout' | 'size';

export function fragmentLimitOf(detail: string): FragmentLimit | null {
  if (/\(fragment chain \d+\)/.test(detail)) return 'chain';
  if (/\(fragment timeout \d+\)/.test(detail)) return 'timeout';
  if (/fragment database full/.test(detail)) return 'size';
  return null;
}

/**
 * The ASA's fragment database discarded a segment's IP fragments (Cisco ASA command reference,
 * `fragment`: chain default 24 / max 8200, size default 200, timeout default 5 s / max 30 s). The
 * endpoint never gets the datagram; the sender retransmits, and while the path fragments it the
 * same way every copy is discarded too: the session stalls until a time-out.
 */
function fragmentSymptom(detail: string, stage: Stage, sHost: string, cHost: string): Symptom {
  const limit = fragmentLimitOf(detail);
  const why = limit === 'chain'
    ? `the datagram came in more fragments than \`fragment chain\` allows (${/fragment chain (\d+)/.exec(detail)?.[1] ?? '24'}; ASA default 24)`
    : limit === 'timeout'
      ? `not all of the datagram's fragments arrived within \`fragment timeout\` (${/fragment timeout (\d+)/.exec(detail)?.[1] ?? '5'} s; ASA default 5 s)`
      : limit === 'size'
        ? `the ASA's fragment database was full (\`fragment size\`, ASA default 200 fragments awaiting reassembly)`
        : `a \`fragment\` limit${detail ? ` (${detail})` : ''}`;
  const sender = stage.sender === 'server' ? `the server (${sHost})` : stage.sender === 'client' ? `the client (${cHost})` : 'the sender';
  const at = stage.inData ? 'in the middle of the message' : `at ${atWhat(stage)}`;
  const raise = limit === 'chain'
    ? '`fragment chain N interface` (up to 8200)'
    : limit === 'timeout'
      ? '`fragment timeout N interface` (up to 30 s) if the missing fragments arrive late; if they never arrive they were lost on the way, and the endpoint could not have reassembled the datagram either'
      : limit === 'size'
        ? '`fragment size N interface`, after checking with `show fragment` (its Overflow counter) whether other fragmented traffic or a fragment flood fills the database'
        : 'the `fragment` limit named above';
  return {
    summary: `The ASA discards the IP fragments of a segment from ${sender} ${at}: ${why}. The datagram never arrives; the sender retransmits it and, as long as the path fragments it the same way, every copy is discarded too: the session stalls until a time-out and the mail is deferred, then retried (and fails again) until it bounces. The ASA reassembles fragments for all traffic before any inspection, so exempting the gateway from ESMTP inspection does not help. Fix the fragmentation: keep the ASA's TCP MSS clamp on (\`sysopt connection tcpmss\`, default 1380) or lower it below the smallest MTU on the path minus 40, check the MTUs along the path (tunnels, PPPoE, a small interface MTU), and have the sender use path MTU discovery (DF set) instead of fragmenting; or raise the limit with ${raise} (Cisco ASA command reference, \`fragment\`).`,
    client: [
      `Postfix smtp: "conversation with ${sHost} timed out ${postfixWhile(stage)}"`,
      `Cisco ESA (delivering): "Connection error: DCID … [Errno 60] Operation timed out"; "Message aborted MID …"`,
    ],
    server: [
      `Postfix smtpd: "timeout after ${afterWhat(stage)} from ${cHost}" (then "lost connection after ${afterWhat(stage)}")`,
      `Cisco ESA (receiving): "Receiving aborted ICID … lost", "ICID … close"`,
      'on the ASA, `show fragment` counts the discarded sets under Fail (or Overflow for a full database)',
    ],
  };
}

function dropWhat(category: Category, detail: string, settings: ExplainSettings = {}): string {
  const d = detail ? ` (${detail})` : '';
  switch (category) {
    case 'cmd-rcpt-count':
      return `More recipients than the limit${d}`;
    case 'invalid-recipients': {
      const counted = settings.invalidRecipientReplies === '4xx-5xx'
        ? 'counting RCPTs the server refused with 4xx or 5xx (invalid-recipient-replies=4xx-5xx): temporary refusals such as greylisting (450/451) and "too many recipients" (452) count as invalid, so a legitimate sender retrying a greylisted batch can trip it'
        : 'counting RCPTs the server refused with 5xx, a permanent "no such user" (invalid-recipient-replies=5xx, the default); 4xx refusals do not count';
      const scope = settings.rcptCountScope === 'connection' ? 'per connection' : 'per mail transaction';
      return `More invalid recipients than the limit${d}, ${counted}, ${scope}`;
    }
    case 'header-line-length':
      if (settings.headerLineLength === 'unfolded') {
        return `A header field longer than the limit when unfolded${d}: header-line-length=unfolded counts a folded field's lines together, so it trips even when every physical line is short (typical: long DKIM signatures, References, To/Cc lists)`;
      }
      return `A header line longer than the limit${d} (long DKIM signatures, References, To/Cc lists)`;
    case 'header-length':
      return `A header longer than the limit${d}`;
    case 'cmd-line-length':
      return `A command line longer than the limit${d}`;
    case 'sender-address-length':
      return `A sender address longer than the limit${d}`;
    case 'mime-filename-length':
      return `An attachment file name longer than the limit${d}`;
    case 'body-line-length':
      return `A body line longer than the limit${d}`;
    case 'body-length':
      return `A body longer than the limit${d}`;
    case 'special-character':
      return `A special character ('|') in the envelope address${d}`;
    case 'mail-relay':
      return `Mail to a domain the relay rule does not allow${d}`;
    case 'unexpected-transition':
      return `The server answered out of step${d}`;
    case 'size-violation':
      return `A message larger than its declared SIZE${d}`;
    case 'bare-lf-command':
      return `A command line ended by a bare LF${d}`;
    case 'connection-limit':
      return `A connection limit${d}`;
    case 'unknown-command':
      return `An unsupported command${d}`;
    default:
      return `A rule matched${d}`;
  }
}
