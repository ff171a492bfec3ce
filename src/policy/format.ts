/** Canonical text of parsed pieces, in the spelling `show running-config` uses. */
import { formatIp, prefixToMask } from './address.js';
import type { Ace, AddrSpec, PortSpec, ProtoSpec, ServiceEntry } from './model.js';
import { portName, type PortProto } from './ports.js';

export function formatAddr(a: AddrSpec): string {
  switch (a.kind) {
    case 'any':
      return a.v === null ? 'any' : `any${a.v}`;
    case 'prefix':
      if (a.addr.v === 4) {
        if (a.prefix === 32) return `host ${formatIp(a.addr)}`;
        return `${formatIp(a.addr)} ${formatIp(prefixToMask(4, a.prefix))}`;
      }
      if (a.prefix === 128) return `host ${formatIp(a.addr)}`;
      return `${formatIp(a.addr)}/${a.prefix}`;
    case 'range':
      return `range ${formatIp(a.lo)} ${formatIp(a.hi)}`;
    case 'object':
      return `object ${a.name}`;
    case 'group':
      return `object-group ${a.name}`;
    case 'never':
      return a.text;
  }
}

export function formatPort(p: PortSpec, proto: PortProto): string {
  switch (p.op) {
    case 'any':
      return '';
    case 'range':
      return `range ${portName(p.lo, proto)} ${portName(p.hi, proto)}`;
    case 'group':
      return `object-group ${p.name}`;
    default:
      return `${p.op} ${portName(p.port, proto)}`;
  }
}

export function portProtoOf(proto: string): PortProto {
  return proto === 'udp' ? 'udp' : proto === 'tcp-udp' ? 'tcp-udp' : 'tcp';
}

export function formatProto(p: ProtoSpec): string {
  switch (p.kind) {
    case 'name':
      return p.proto;
    case 'object':
      return `object ${p.name}`;
    case 'group':
      return `object-group ${p.name}`;
  }
}

export function formatAce(a: Omit<Ace, 'text'>): string {
  const pp = portProtoOf(a.proto.kind === 'name' ? a.proto.proto : 'tcp');
  const ifc = (n: string | undefined) => (n === undefined ? '' : `ifc ${n}`);
  const parts = [a.trust ? 'trust' : a.action, formatProto(a.proto), ifc(a.srcIfc), formatAddr(a.src), formatPort(a.srcPort, pp), ifc(a.dstIfc), formatAddr(a.dst), formatPort(a.dstPort, pp)];
  if (a.timeRange) parts.push(`time-range ${a.timeRange.name}`);
  if (a.inactive) parts.push('inactive');
  return parts.filter((s) => s !== '').join(' ');
}

export function formatService(s: ServiceEntry): string {
  const pp = portProtoOf(s.proto);
  const parts = [s.proto];
  if (s.src.op !== 'any') parts.push('source', formatPort(s.src, pp));
  if (s.dst.op !== 'any') parts.push('destination', formatPort(s.dst, pp));
  return parts.join(' ');
}
