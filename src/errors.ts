/**
 * One base error for everything the user can cause: bad captures, bad policies, bad arguments,
 * output failures. Each carries a stable `code` and, where it applies, the file plus a byte
 * offset (captures) or a line:column (policies), so messages point at the fault.
 * Hot paths return status values; only the reader/parser boundaries throw these.
 */
export type ErrorCode =
  // capture input
  | 'E_CAPTURE_OPEN'
  | 'E_CAPTURE_BAD_MAGIC'
  | 'E_CAPTURE_TRUNCATED'
  | 'E_CAPTURE_CORRUPT'
  | 'E_CAPTURE_RECORD_TOO_LARGE'
  | 'E_CAPTURE_GZIP'
  | 'E_CAPTURE_UNSUPPORTED'
  // output
  | 'E_OUTPUT'
  | 'E_OUTPUT_CLOSED'
  // policy / configuration
  | 'E_POLICY_SYNTAX'
  | 'E_POLICY_REFERENCE'
  | 'E_POLICY_VALUE'
  | 'E_OPTION'
  // usage
  | 'E_USAGE'
  // live capture
  | 'E_LIVE_UNAVAILABLE'
  | 'E_LIVE_PERMISSION'
  | 'E_LIVE_NO_DEVICE'
  | 'E_LIVE_FILTER'
  // regression suites
  | 'E_REGRESS';

export interface ErrorPosition {
  file?: string;
  /** Byte offset in the (decompressed) input where the fault starts. */
  offset?: number;
  /**
   * True when `offset` counts bytes of the decompressed input (a gzip-compressed capture), not of
   * the file as stored: messages then say "decompressed byte offset".
   */
  decompressed?: boolean;
  /** 1-based line and column for text inputs such as policies. */
  line?: number;
  column?: number;
}

export class SmtpInspectError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  /** `offset` is in the decompressed input (see ErrorPosition.decompressed). */
  readonly decompressed: boolean;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(code: ErrorCode, message: string, position: ErrorPosition = {}) {
    super(message);
    this.name = 'SmtpInspectError';
    this.code = code;
    this.file = position.file;
    this.offset = position.offset;
    this.decompressed = position.decompressed === true;
    this.line = position.line;
    this.column = position.column;
  }

  /** `file:line:col: message [code]` or `file: [decompressed ]byte offset N: message [code]`. */
  describe(): string {
    let where = this.file ?? '';
    if (this.line !== undefined) where += `:${this.line}:${this.column ?? 1}`;
    else if (this.offset !== undefined) where += `${where ? ': ' : ''}${this.decompressed ? 'decompressed ' : ''}byte offset ${this.offset}`;
    return `${where ? where + ': ' : ''}${this.message} [${this.code}]`;
  }
}

export class CaptureError extends SmtpInspectError {
  constructor(code: ErrorCode, message: string, position: ErrorPosition = {}) {
    super(code, message, position);
    this.name = 'CaptureError';
  }
}

export class PolicyError extends SmtpInspectError {
  constructor(code: ErrorCode, message: string, position: ErrorPosition = {}) {
    super(code, message, position);
    this.name = 'PolicyError';
  }
}

export class OutputError extends SmtpInspectError {
  constructor(code: ErrorCode, message: string, position: ErrorPosition = {}) {
    super(code, message, position);
    this.name = 'OutputError';
  }
}

/** Exit codes, documented in the README. */
export const EXIT = {
  OK: 0,
  /** A command-specific "found something" result (regress differences, replay --check failures). */
  FINDINGS: 1,
  /** Usage error or bad input (capture, policy, arguments). */
  USAGE_OR_INPUT: 2,
  /** Output could not be written (disk full, closed pipe). */
  OUTPUT: 3,
  /** Live capture unavailable (libpcap binding missing, permission, device). */
  LIVE: 4,
  /** Interrupted by SIGINT/SIGTERM after flushing outputs. */
  INTERRUPTED: 130,
} as const;
