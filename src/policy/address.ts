/**
 * IPv4/IPv6 addresses as bytes, with prefix/mask and range tests: what ACEs and network objects
 * need to decide whether a connection's real (pre-NAT) addresses fall inside them.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddr {
  v: 4 | 6;
  bytes: Uint8Array; // 4 or 16
}

export function parseIp(text: string): IpAddr | null {
  if (isIPv4(text)) return { v: 4, bytes: Uint8Array.from(text.split('.').map(Number)) };
  if (isIPv6(text)) return { v: 6, bytes: parseIpv6(text) };
  return null;
}

function parseIpv6(text: string): Uint8Array {
  let s = text;
  const out = new Uint8Array(16);
  // an embedded dotted IPv4 tail (::ffff:1.2.3.4)
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const maybeV4 = s.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    tail = maybeV4.split('.').map(Number);
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups: number[] = [...h.map((g) => parseInt(g, 16))];
  if (rest !== undefined) {
    const zeros = 8 - h.length - r.length;
    for (let k = 0; k < zeros; k++) groups.push(0);
    groups.push(...r.map((g) => parseInt(g, 16)));
  }
  groups.forEach((g, k) => {
    out[k * 2] = g >> 8;
    out[k * 2 + 1] = g & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

export function formatIp(a: IpAddr): string {
  if (a.v === 4) return [...a.bytes].join('.');
  const groups: number[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(((a.bytes[k] as number) << 8) | (a.bytes[k + 1] as number));
  // RFC 5952: compress the longest run of zero groups (length ≥ 2)
  let bestStart = -1;
  let bestLen = 0;
  for (let k = 0; k < 8; ) {
    if (groups[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && groups[e] === 0) e++;
    if (e - k > bestLen && e - k >= 2) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Prefix length of a contiguous IPv4 mask, or null if not contiguous. */
export function maskToPrefix(mask: IpAddr): number | null {
  let len = 0;
  let seenZero = false;
  for (const byte of mask.bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      if (one && seenZero) return null;
      if (one) len++;
      else seenZero = true;
    }
  }
  return len;
}

export function prefixToMask(v: 4 | 6, len: number): IpAddr {
  const n = v === 4 ? 4 : 16;
  const bytes = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const bits = Math.max(0, Math.min(8, len - k * 8));
    bytes[k] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return { v, bytes };
}

/** True if `a` lies in network/prefix. */
export function inPrefix(a: IpAddr, net: IpAddr, prefix: number): boolean {
  if (a.v !== net.v) return false;
  let bits = prefix;
  for (let k = 0; k < a.bytes.length && bits > 0; k++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((a.bytes[k] as number) & m) !== ((net.bytes[k] as number) & m)) return false;
  }
  return true;
}

export function compareIp(a: IpAddr, b: IpAddr): number {
  for (let k = 0; k < a.bytes.length; k++) {
    const d = (a.bytes[k] as number) - (b.bytes[k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

export function inRange(a: IpAddr, lo: IpAddr, hi: IpAddr): boolean {
  return a.v === lo.v && compareIp(a, lo) >= 0 && compareIp(a, hi) <= 0;
}
