/**
 * ASA port literals (the names `show running-config` prints in place of numbers, e.g. `eq smtp`).
 * From the ASA configuration guide table "TCP and UDP Ports" (literal names); only names the
 * ASA defines are accepted. `submission` (587) is not an ASA literal, write `eq 587`.
 */
export const TCP_PORT_NAMES: Readonly<Record<string, number>> = {
  aol: 5190,
  bgp: 179,
  chargen: 19,
  cifs: 3020,
  'citrix-ica': 1494,
  cmd: 514,
  ctiqbe: 2748,
  daytime: 13,
  discard: 9,
  domain: 53,
  echo: 7,
  exec: 512,
  finger: 79,
  ftp: 21,
  'ftp-data': 20,
  gopher: 70,
  h323: 1720,
  hostname: 101,
  http: 80,
  https: 443,
  ident: 113,
  imap4: 143,
  irc: 194,
  kerberos: 750,
  klogin: 543,
  kshell: 544,
  ldap: 389,
  ldaps: 636,
  login: 513,
  lotusnotes: 1352,
  lpd: 515,
  'netbios-ssn': 139,
  nfs: 2049,
  nntp: 119,
  'pcanywhere-data': 5631,
  'pim-auto-rp': 496,
  pop2: 109,
  pop3: 110,
  pptp: 1723,
  rsh: 514,
  rtsp: 554,
  sip: 5060,
  smtp: 25,
  sqlnet: 1521,
  ssh: 22,
  sunrpc: 111,
  tacacs: 49,
  talk: 517,
  telnet: 23,
  uucp: 540,
  whois: 43,
  www: 80,
};

export const UDP_PORT_NAMES: Readonly<Record<string, number>> = {
  biff: 512,
  bootpc: 68,
  bootps: 67,
  cifs: 3020,
  discard: 9,
  dnsix: 195,
  domain: 53,
  echo: 7,
  http: 80,
  isakmp: 500,
  kerberos: 750,
  'mobile-ip': 434,
  nameserver: 42,
  'netbios-dgm': 138,
  'netbios-ns': 137,
  nfs: 2049,
  ntp: 123,
  'pcanywhere-status': 5632,
  'pim-auto-rp': 496,
  radius: 1645,
  'radius-acct': 1646,
  rip: 520,
  'secureid-udp': 5510,
  sip: 5060,
  snmp: 161,
  snmptrap: 162,
  sunrpc: 111,
  syslog: 514,
  tacacs: 49,
  talk: 517,
  tftp: 69,
  time: 37,
  who: 513,
  www: 80,
  xdmcp: 177,
  vxlan: 4789,
};

export type PortProto = 'tcp' | 'udp' | 'tcp-udp';

/** Resolves a port token (number or ASA literal) for a protocol; null if unknown. */
export function portValue(token: string, proto: PortProto): number | null {
  if (/^\d{1,5}$/.test(token)) {
    const n = Number(token);
    return n <= 65535 ? n : null;
  }
  const t = token.toLowerCase();
  if (proto !== 'udp' && Object.hasOwn(TCP_PORT_NAMES, t)) return TCP_PORT_NAMES[t] ?? null;
  if (proto !== 'tcp' && Object.hasOwn(UDP_PORT_NAMES, t)) return UDP_PORT_NAMES[t] ?? null;
  return null;
}

/** The canonical TCP spelling of a port, as `show running-config` prints it (smtp, www, ...). */
const TCP_CANONICAL: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  // www is what the ASA prints for 80; cmd for 514 (rsh is an alias)
  const preferred = new Set(['http', 'rsh']);
  for (const [name, port] of Object.entries(TCP_PORT_NAMES)) {
    if (preferred.has(name)) continue;
    if (!m.has(port)) m.set(port, name);
  }
  return m;
})();

export function portName(port: number, proto: PortProto): string {
  if (proto !== 'udp') return TCP_CANONICAL.get(port) ?? String(port);
  return String(port);
}
