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
  | 'other';

/** How bad it is for mail: breaks delivery, degrades it, cosmetic, or only logged. */
export type Severity = 'breaks' | 'degrades' | 'cosmetic' | 'logged';

/** The preferred fixes, in the order diagnose tries to verify them. */
export type FixKind = 'raise-limit' | 'allow-tls' | 'no-mask-banner' | 'exempt-gateway';

/** Classifies a verdict's rule (and detail) into a catalogue category. */
export function categorize(rule: string, detail = ''): Category {
  const r = rule.toLowerCase().replace(/\s+/g, ' ').trim();
  const d = detail.toLowerCase();
  // before the STARTTLS test below: the divergence notes are not masks
  if (r === 'starttls-divergence') return 'starttls-divergence';
  if (r === 'x-divergence') return 'x-divergence';
  if (r.includes('mask-banner') || r === 'banner') return 'mask-banner';
  if (r.includes('allow-tls') || r.includes('starttls')) return 'starttls-masked';
  if (r.includes('ehlo-reply-parameter')) return d.includes('starttls') ? 'starttls-masked' : 'ehlo-keyword-masked';
  if (r.includes('unknown-command') || r.includes('unsupported') || r.includes('incomplete-command')) return 'unknown-command';
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
  if (action === 'drop-connection' || action === 'reset') return 'breaks';
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
      return severity === 'logged' ? [] : ['raise-limit', 'exempt-gateway'];
    case 'starttls-masked':
    case 'starttls-divergence':
      return ['allow-tls', 'exempt-gateway'];
    case 'x-divergence':
      return ['exempt-gateway'];
    case 'mask-banner':
      return ['no-mask-banner', 'exempt-gateway'];
    case 'unknown-command':
    case 'ehlo-keyword-masked':
    case 'special-character':
    case 'mail-relay':
    case 'other-match':
      return ['exempt-gateway'];
    case 'other':
      return severity === 'breaks' ? ['exempt-gateway'] : [];
  }
}

/** Where in the dialogue a rule hit: the last command before it, for "after RCPT" wording. */
export interface Stage {
  /** The client's last command verb before the hit ('RCPT', 'DATA', 'MAIL', 'EHLO', '' = greeting). */
  lastCommand: string;
  /** True when the hit is inside message content. */
  inData: boolean;
  /** Number of X'd commands in the session (ESA bad-command limit). */
  xedCommands: number;
  /** The greeting is multi-line (220-...). */
  multiLineGreeting: boolean;
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

function afterWhat(stage: Stage): string {
  if (stage.inData) return 'DATA';
  return stage.lastCommand || 'CONNECT';
}

/** The symptom wording for one hit. `server`/`client` are the endpoints as printed. */
export function symptomFor(category: Category, action: string, stage: Stage, client: string, server: string, detail = ''): Symptom {
  const sHost = server.replace(/:\d+$/, '');
  const cHost = client.replace(/:\d+$/, '');
  if (action === 'drop-connection' || action === 'reset') {
    const what = dropWhat(category, detail);
    const reset = action === 'reset';
    const after = afterWhat(stage);
    return {
      summary: `${what}: the ASA ${reset ? 'resets' : 'silently drops'} the connection ${stage.inData ? 'in the middle of the message' : `at ${after}`}; the message is not delivered and the sender retries (and fails again) until it bounces.`,
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
    default:
      return {
        summary: `${dropWhat(category, detail)} (${action}).`,
        client: ['depends on the action; see the ASA syslog'],
        server: ['depends on the action'],
      };
  }
}

function dropWhat(category: Category, detail: string): string {
  const d = detail ? ` (${detail})` : '';
  switch (category) {
    case 'cmd-rcpt-count':
      return `More recipients than the limit${d}`;
    case 'header-line-length':
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
    case 'unknown-command':
      return `An unsupported command${d}`;
    default:
      return `A rule matched${d}`;
  }
}
