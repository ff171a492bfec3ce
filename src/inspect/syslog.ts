/**
 * ASA syslog lines in their documented formats (ASA-ESMTP.md section 7). Pure formatters: the
 * engine formats the ESMTP messages; the replay formats connection-level ones (302013/302014,
 * 201010-201013) with the same functions. Lines carry no timestamp/hostname prefix.
 */

/** One side of a connection as ASA prints it: `ifname:ip/port`. */
export interface Endpoint {
  iface: string;
  ip: string;
  port: number;
}

export function endpoint(e: Endpoint): string {
  return `${e.iface}:${e.ip}/${e.port}`;
}

export type ReqResp = 'Request' | 'Response';

/** 108002: a '|' in an address replaced by a space. `data` is the replaced string. */
export function syslog108002(clientIp: string, serverIp: string, data: string): string {
  return `%ASA-2-108002: SMTP replaced string: out ${clientIp} in ${serverIp} data: ${printable(data)}`;
}

/** 108003: malicious pattern (pipe signature) in a mail address; the connection is terminated. */
export function syslog108003(src: Endpoint, dst: Endpoint, address: string, wording: 'current' | 'old' = 'current'): string {
  return wording === 'old'
    ? `%ASA-2-108003: Terminating ESMTP/SMTP connection; malicious pattern detected in the mail address from ${endpoint(src)} to ${endpoint(dst)}. Data:${printable(address)}`
    : `%ASA-2-108003: Terminating ESMTP connection; malicious pattern detected in the mail address from ${endpoint(src)} to ${endpoint(dst)}. Mail Address:${printable(address)}`;
}

export type ActionClass = 'ESMTP Classification' | 'ESMTP Parameter';
export type Action108004 = 'Dropped' | 'Dropped connection for' | 'Reset connection for' | 'Masked header flags for';

/**
 * `matched Class N: criterion` (field form, ASA-ESMTP.md 7.1: the match line as configured without
 * its `match ` keyword). A `match not` line keeps its `not` (I: no field sample has one, but `not` is
 * part of the configured criterion, and without it the line would name the opposite condition).
 */
export function matchedClass(classId: number, criterionText: string, not = false): string {
  return `matched Class ${classId}: ${not ? 'not ' : ''}${criterionText}`;
}

/** 108004: a configured (non-log-only) action was taken. */
export function syslog108004(cls: ActionClass, action: Action108004, rr: ReqResp, src: Endpoint, dst: Endpoint, furtherInfo: string): string {
  return `%ASA-4-108004: ${cls}: ${action} ESMTP ${rr} from ${endpoint(src)} to ${endpoint(dst)}; ${furtherInfo}`;
}

/** 108005: a standalone `log` action. */
export function syslog108005(cls: ActionClass, rr: ReqResp, src: Endpoint, dst: Endpoint, furtherInfo: string): string {
  return `%ASA-6-108005: ${cls}: Received ESMTP ${rr} from ${endpoint(src)} to ${endpoint(dst)}; ${furtherInfo}`;
}

/** 108006: message larger than the declared SIZE. */
export function syslog108006(src: Endpoint, dst: Endpoint, declared: number, actual: number): string {
  return `%ASA-7-108006: Detected ESMTP size violation from ${endpoint(src)} to ${endpoint(dst)}; declared size is: ${declared}, actual size is ${actual}`;
}

/** 108007: the server answered 220 to STARTTLS with allow-tls; inspection stops. */
export function syslog108007(client: Endpoint, server: Endpoint): string {
  return `%ASA-6-108007: TLS started on ESMTP session between client ${endpoint(client)} and server ${endpoint(server)}`;
}

export type Reason507003 =
  | 'inspector disconnected, dropped packet'
  | 'inspector drop reset'
  | 'inspector reset unconditionally'
  | 'inspector received data after FIN';

/** 507003: flow terminated by the inspection engine. */
export function syslog507003(src: Endpoint, dst: Endpoint, reason: Reason507003, level: 3 | 4 = 4, protocol = 'tcp'): string {
  return `%ASA-${level}-507003: ${protocol} flow from ${endpoint(src)} to ${endpoint(dst)} terminated by inspection engine, reason - ${reason}.`;
}

/** 302013: Built inbound/outbound TCP connection (real = mapped unless NAT is modelled). */
export function syslog302013(
  connId: number,
  direction: 'inbound' | 'outbound',
  from: Endpoint,
  to: Endpoint,
  mappedFrom: { ip: string; port: number } = from,
  mappedTo: { ip: string; port: number } = to,
): string {
  return (
    `%ASA-6-302013: Built ${direction} TCP connection ${connId} for ${endpoint(from)} (${mappedFrom.ip}/${mappedFrom.port})` +
    ` to ${endpoint(to)} (${mappedTo.ip}/${mappedTo.port})`
  );
}

export type TeardownReason =
  | 'Flow closed by inspection'
  | 'Deny Terminate'
  | 'TCP FINs'
  | 'TCP Reset-I'
  | 'TCP Reset-O'
  | 'TCP Reset-APPLIANCE'
  | 'Conn-timeout'
  | 'SYN Timeout'
  | 'FIN Timeout'
  | 'Flow terminated by TCP Intercept';

/** Apply the reset-reason spacing option: 'TCP Reset-I' (compact) or 'TCP Reset - I' (spaced). */
export function teardownReasonText(reason: TeardownReason, spacing: 'compact' | 'spaced' = 'compact'): string {
  if (spacing === 'spaced' && reason.startsWith('TCP Reset-')) return `TCP Reset - ${reason.slice('TCP Reset-'.length)}`;
  return reason;
}

/** `h:mm:ss` as ASA prints durations. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** 302014: Teardown TCP connection. */
export function syslog302014(
  connId: number,
  from: Endpoint,
  to: Endpoint,
  durationSec: number,
  bytes: number,
  reason: TeardownReason,
  spacing: 'compact' | 'spaced' = 'compact',
): string {
  return (
    `%ASA-6-302014: Teardown TCP connection ${connId} for ${endpoint(from)} to ${endpoint(to)}` +
    ` duration ${formatDuration(durationSec)} bytes ${bytes} ${teardownReasonText(reason, spacing)}`
  );
}

export type LimitPacketDir = 'input' | 'output';

function hostPort(ip: string, port: number): string {
  return `${ip}/${port}`;
}

/** 201010: embryonic connection limit (MPF embryonic-conn-max) exceeded. */
export function syslog201010(cur: number, limit: number, dir: LimitPacketDir, src: { ip: string; port: number }, dst: { ip: string; port: number }, iface: string): string {
  return `%ASA-6-201010: Embryonic connection limit exceeded ${cur}/${limit} for ${dir} packet from ${hostPort(src.ip, src.port)} to ${hostPort(dst.ip, dst.port)} on interface ${iface}`;
}

/** 201011: connection limit (conn-max) exceeded. */
export function syslog201011(cur: number, limit: number, dir: LimitPacketDir, src: { ip: string; port: number }, dst: { ip: string; port: number }, iface: string): string {
  return `%ASA-3-201011: Connection limit exceeded ${cur}/${limit} for ${dir} packet from ${hostPort(src.ip, src.port)} to ${hostPort(dst.ip, dst.port)} on interface ${iface}`;
}

/** 201012: per-client embryonic limit exceeded. */
export function syslog201012(cur: number, limit: number, dir: LimitPacketDir, src: { ip: string; port: number }, dst: { ip: string; port: number }, iface: string): string {
  return `%ASA-6-201012: Per-client embryonic connection limit exceeded ${cur}/${limit} for ${dir} packet from ${hostPort(src.ip, src.port)} to ${hostPort(dst.ip, dst.port)} on interface ${iface}`;
}

/** 201013: per-client connection limit exceeded. */
export function syslog201013(cur: number, limit: number, dir: LimitPacketDir, src: { ip: string; port: number }, dst: { ip: string; port: number }, iface: string): string {
  return `%ASA-3-201013: Per-client connection limit exceeded ${cur}/${limit} for ${dir} packet from ${hostPort(src.ip, src.port)} to ${hostPort(dst.ip, dst.port)} on interface ${iface}`;
}

/** Payload text for a log line: control bytes shown as \xNN, bounded length. */
export function printable(s: string, max = 256): string {
  let out = '';
  for (let i = 0; i < s.length && out.length < max; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f ? s[i] : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s.length > max ? out + '...' : out;
}

/** Bytes to a log-safe string (only when building verdict detail / syslog, never on the hot path). */
export function bytesText(b: Uint8Array, start = 0, end = b.length, max = 256): string {
  return printable(Buffer.from(b.buffer, b.byteOffset + start, Math.max(0, end - start)).toString('latin1'), max);
}
