/**
 * The single table of `policy-map type inspect esmtp` match criteria, parameters and actions
 * (STYLE.md practice 3): the parser reads keywords and value rules from it, validation takes the
 * allowed actions from it, and `policy check --help` / native-notes print its help text.
 */
import type { CriterionKind } from './types.js';

export type ActionName = 'drop-connection' | 'reset' | 'log' | 'mask' | 'rate-limit';

export type CriterionValue =
  /** `gt N`: N in [min, max]. */
  | { type: 'number'; min: number; max: number }
  /** One or more words from a vocabulary, canonicalised to upper or lower case. */
  | { type: 'list'; vocabulary: readonly string[]; canonical: 'upper' | 'lower' }
  /** `regex NAME` or `regex class NAME` (a `class-map type regex match-any`). */
  | { type: 'matcher' };

export interface CriterionSpec {
  kind: CriterionKind;
  /** Keywords after `match [not]`, spelled canonically; the parser compares case-insensitively. */
  keywords: readonly string[];
  value: CriterionValue;
  actions: readonly ActionName[];
  /** What the engine measures. */
  help: string;
}

/** Largest `gt N` accepted: the ASA's own CLI ranges were not retrieved (open question 12). */
export const GT_MAX = 2_147_483_647;
const GT: CriterionValue = { type: 'number', min: 0, max: GT_MAX };

/** Actions of the 9.x generic list except `mask` (documented for cmd verb and ehlo-reply-parameter only). */
const NO_MASK: readonly ActionName[] = ['drop-connection', 'reset', 'log', 'rate-limit'];
const ALL: readonly ActionName[] = ['drop-connection', 'reset', 'log', 'mask', 'rate-limit'];

/** The recognised verbs (ADDENDUM B-3: the 15 classic verbs plus STARTTLS; the ASA list is unverified). */
export const CMD_VERBS = [
  'AUTH',
  'DATA',
  'EHLO',
  'ETRN',
  'HELO',
  'HELP',
  'MAIL',
  'NOOP',
  'QUIT',
  'RCPT',
  'RSET',
  'SAML',
  'SEND',
  'SOML',
  'VRFY',
  'STARTTLS',
] as const;

/** EHLO reply keywords (ADDENDUM B-2: hypothesised list, unverified; `others` = any other keyword). */
export const EHLO_PARAMETERS = [
  '8bitmime',
  'auth',
  'binarymime',
  'checkpnt',
  'checkpoint',
  'dsn',
  'ecode',
  'etrn',
  'others',
  'pipelining',
  'size',
  'vrfy',
] as const;

/** `match mime encoding` types (ASA-ESMTP.md §3.2). */
export const MIME_ENCODINGS = ['7bit', '8bit', 'base64', 'binary', 'others', 'quoted-printable'] as const;

export const CRITERIA: readonly CriterionSpec[] = [
  { kind: 'body-length', keywords: ['body', 'length', 'gt'], value: GT, actions: NO_MASK, help: 'message body longer than N bytes' },
  { kind: 'body-line-length', keywords: ['body', 'line', 'length', 'gt'], value: GT, actions: NO_MASK, help: 'a body line longer than N bytes (CR LF not counted)' },
  {
    kind: 'cmd-verb',
    keywords: ['cmd', 'verb'],
    value: { type: 'list', vocabulary: CMD_VERBS, canonical: 'upper' },
    actions: ALL,
    help: 'client command verb is one of the listed verbs',
  },
  { kind: 'cmd-line-length', keywords: ['cmd', 'line', 'length', 'gt'], value: GT, actions: NO_MASK, help: 'a command line longer than N bytes (CR LF not counted)' },
  { kind: 'cmd-rcpt-count', keywords: ['cmd', 'RCPT', 'count', 'gt'], value: GT, actions: NO_MASK, help: 'more than N RCPT commands (per transaction by default)' },
  {
    kind: 'ehlo-reply-parameter',
    keywords: ['ehlo-reply-parameter'],
    value: { type: 'list', vocabulary: EHLO_PARAMETERS, canonical: 'lower' },
    actions: ALL,
    help: "EHLO reply keyword is one of the listed parameters ('others' = any keyword not in the list)",
  },
  { kind: 'header-length', keywords: ['header', 'length', 'gt'], value: GT, actions: NO_MASK, help: 'header block longer than N bytes' },
  { kind: 'header-line-length', keywords: ['header', 'line', 'length', 'gt'], value: GT, actions: NO_MASK, help: 'a physical header line longer than N bytes (CR LF not counted, not unfolded)' },
  { kind: 'header-to-fields-count', keywords: ['header', 'to-fields', 'count', 'gt'], value: GT, actions: NO_MASK, help: 'more than N To: header fields' },
  { kind: 'invalid-recipients-count', keywords: ['invalid-recipients', 'count', 'gt'], value: GT, actions: NO_MASK, help: 'more than N recipients answered with 5xx' },
  { kind: 'mime-filetype', keywords: ['mime', 'filetype'], value: { type: 'matcher' }, actions: NO_MASK, help: 'MIME content type matches the regex or regex class' },
  { kind: 'mime-filename-length', keywords: ['mime', 'filename', 'length', 'gt'], value: GT, actions: NO_MASK, help: 'a MIME attachment file name longer than N bytes' },
  {
    kind: 'mime-encoding',
    keywords: ['mime', 'encoding'],
    value: { type: 'list', vocabulary: MIME_ENCODINGS, canonical: 'lower' },
    actions: NO_MASK,
    help: 'Content-Transfer-Encoding is one of the listed types',
  },
  { kind: 'sender-address-length', keywords: ['sender-address', 'length', 'gt'], value: GT, actions: NO_MASK, help: 'MAIL FROM address longer than N bytes' },
  { kind: 'sender-address', keywords: ['sender-address'], value: { type: 'matcher' }, actions: NO_MASK, help: 'MAIL FROM address matches the regex or regex class' },
];

export interface ParameterSpec {
  name: string;
  syntax: string;
  default: string;
  help: string;
}

/** `parameters` sub-mode commands (ASA-ESMTP.md §3.1; syntax of the last two inferred, ADDENDUM B-13). */
export const PARAMETERS: readonly ParameterSpec[] = [
  { name: 'mask-banner', syntax: '[no] mask-banner', default: 'off (on in _default_esmtp_map)', help: 'mask the server greeting with *' },
  {
    name: 'mail-relay',
    syntax: 'mail-relay DOMAIN action {drop-connection | log} | no mail-relay',
    default: 'off',
    help: 'act on RCPT domains other than the local DOMAIN (ADDENDUM B-7)',
  },
  {
    name: 'special-character',
    syntax: 'special-character action {drop-connection [log] | log} | no special-character',
    default: 'off',
    help: 'act on special characters in MAIL FROM / RCPT TO addresses (syntax inferred, B-13)',
  },
  { name: 'allow-tls', syntax: 'allow-tls [action log] | no allow-tls', default: 'off', help: 'let STARTTLS through; the rest of the connection is not inspected (syntax inferred, B-13)' },
];

export interface ActionSpec {
  name: ActionName;
  syntax: string;
  help: string;
}

export const ACTIONS: readonly ActionSpec[] = [
  { name: 'drop-connection', syntax: 'drop-connection [log]', help: 'drop the packet and forget the connection (no RST)' },
  { name: 'reset', syntax: 'reset [log]', help: 'drop the packet, close the connection and send RSTs' },
  { name: 'mask', syntax: 'mask [log]', help: 'mask the matching bytes (cmd verb and ehlo-reply-parameter only)' },
  { name: 'log', syntax: 'log', help: 'send a syslog message (alone or with another action)' },
  { name: 'rate-limit', syntax: 'rate-limit N', help: 'limit the rate of messages to N per second' },
];

/** Largest rate-limit value accepted (the ASA range was not retrieved). */
export const RATE_LIMIT_MAX = 2_147_483_647;

/** Syntax line of a criterion for help and error messages: 'cmd line length gt N'. */
export function criterionSyntax(spec: CriterionSpec): string {
  const head = spec.keywords.join(' ');
  switch (spec.value.type) {
    case 'number':
      return `${head} N`;
    case 'list':
      return `${head} WORD [WORD ...]`;
    case 'matcher':
      return `${head} regex {NAME | class NAME}`;
  }
}
