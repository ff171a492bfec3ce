/**
 * Address text for output (flows, verdicts, syslog). Not for the per-packet hot path: called once
 * per connection.
 */

const HEX = '0123456789abcdef';

function hex16(v: number): string {
  // Lower-case, no leading zeros (RFC 5952 §4.1, §4.3).
  if (v < 0x10) return HEX[v]!;
  if (v < 0x100) return HEX[v >> 4]! + HEX[v & 15]!;
  if (v < 0x1000) return HEX[v >> 8]! + HEX[(v >> 4) & 15]! + HEX[v & 15]!;
  return HEX[v >> 12]! + HEX[(v >> 8) & 15]! + HEX[(v >> 4) & 15]! + HEX[v & 15]!;
}

function ipv4Text(buf: Uint8Array, o: number): string {
  return `${buf[o]!}.${buf[o + 1]!}.${buf[o + 2]!}.${buf[o + 3]!}`;
}

function ipv6Text(buf: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((buf[o + 2 * i]! << 8) | buf[o + 2 * i + 1]!);

  // IPv4-mapped addresses keep the dotted quad (RFC 5952 §5), as tshark prints them.
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return `::ffff:${ipv4Text(buf, o + 12)}`;
  }

  // The longest run of two or more zero words becomes "::"; the first one on a tie (§4.2).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return words.map(hex16).join(':');
  const head = words.slice(0, bestStart).map(hex16).join(':');
  const tail = words.slice(bestStart + bestLen).map(hex16).join(':');
  return `${head}::${tail}`;
}

/** Dotted quad for IPv4, RFC 5952 canonical text for IPv6. */
export function formatIp(buf: Uint8Array, offset: number, length: 4 | 16): string {
  if (offset < 0 || offset + length > buf.length) throw new RangeError('formatIp: address outside buffer');
  return length === 4 ? ipv4Text(buf, offset) : ipv6Text(buf, offset);
}

/** `1.2.3.4:25` or `[::1]:25` (RFC 5952 §6). */
export function formatEndpoint(ip: string, port: number, ipVersion: 4 | 6): string {
  return ipVersion === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
