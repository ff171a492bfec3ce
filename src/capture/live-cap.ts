/**
 * The thin, typed boundary around the optional `cap` libpcap binding: loading it lazily, listing
 * devices, opening a handle with a BPF filter and turning libpcap's failures into clear errors.
 * Nothing else in the project touches `cap` directly.
 */
import fs from 'node:fs';
import { SmtpInspectError } from '../errors.js';

/** The shape of the `cap` module we rely on (it ships no type declarations). */
export interface CapDeviceAddress {
  addr?: string;
  netmask?: string;
  broadaddr?: string;
}
export interface CapDevice {
  name: string;
  description?: string;
  addresses?: CapDeviceAddress[];
  flags?: string;
}
export interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

export const ENABLE_LIVE_HINT =
  'live capture needs the optional libpcap binding `cap`, which is not built on this machine; ' +
  'enable it with: apt-get install libpcap-dev && npm rebuild cap';

let loaded: Promise<CapModule> | null = null;

function isCapModule(m: unknown): m is CapModule {
  if (typeof m !== 'object' || m === null || !('Cap' in m)) return false;
  const cap = (m as { Cap: unknown }).Cap;
  return typeof cap === 'function' && typeof (cap as { deviceList?: unknown }).deviceList === 'function';
}

/**
 * Loads `cap` on first use only, so every other command (and `npm install` without libpcap's
 * headers) works without the native binding. A module name in a variable keeps TypeScript from
 * demanding declarations for a package that may legitimately be absent.
 */
export function loadCap(): Promise<CapModule> {
  if (!loaded) {
    const name = process.env.SMTP_INSPECT_CAP_MODULE ?? 'cap';
    loaded = import(name).then(
      (ns: unknown) => {
        const m = typeof ns === 'object' && ns !== null && 'default' in ns ? (ns as { default: unknown }).default : ns;
        if (!isCapModule(m)) throw new SmtpInspectError('E_LIVE_UNAVAILABLE', `${ENABLE_LIVE_HINT} (the module loaded but is not the expected binding)`);
        return m;
      },
      (err: unknown) => {
        const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
        throw new SmtpInspectError('E_LIVE_UNAVAILABLE', `${ENABLE_LIVE_HINT} (loading it failed: ${why})`);
      },
    );
    // A failed load is not cached forever: a test or a long-lived caller may rebuild and retry.
    loaded.catch(() => {
      loaded = null;
    });
  }
  return loaded;
}

export async function listDevices(): Promise<CapDevice[]> {
  const cap = await loadCap();
  return cap.Cap.deviceList();
}

/** One line per device: `lo  127.0.0.1, ::1  (loopback)`. */
export function formatDevices(devices: readonly CapDevice[]): string {
  const width = Math.max(4, ...devices.map((d) => d.name.length));
  return devices
    .map((d) => {
      const addrs = (d.addresses ?? []).map((a) => a.addr).filter((a): a is string => !!a);
      const notes: string[] = [];
      if (d.flags?.includes('LOOPBACK')) notes.push('loopback');
      if (d.description) notes.push(d.description);
      return `${d.name.padEnd(width)}  ${addrs.length ? addrs.join(', ') : '-'}${notes.length ? `  (${notes.join('; ')})` : ''}`;
    })
    .join('\n');
}

/**
 * libpcap link types as `cap` reports them (a name for the five it knows, "Unknown linktype N"
 * with the DLT_ number otherwise), mapped to the LINKTYPE_ numbers that capture files use.
 */
const CAP_LINK_NAMES: Record<string, number> = {
  NULL: 0,
  ETHERNET: 1,
  IEEE802_11_RADIO: 127,
  LINKTYPE_LINUX_SLL: 113,
  // DLT_RAW differs between platforms (12 or 14); in files it is always LINKTYPE_RAW.
  RAW: 101,
};
/** DLT_ values below 100 whose LINKTYPE_ number differs (pcap-linktype(7)); the rest are equal. */
const DLT_TO_LINKTYPE: Record<number, number> = { 12: 101, 14: 101, 108: 0 };

export function linkTypeFromCap(name: string): number | null {
  const known = CAP_LINK_NAMES[name];
  if (known !== undefined) return known;
  const m = /^Unknown linktype (\d+)$/.exec(name);
  if (!m?.[1]) return null;
  const dlt = Number(m[1]);
  return DLT_TO_LINKTYPE[dlt] ?? dlt;
}

export interface OpenedHandle {
  handle: CapHandle;
  /** LINKTYPE_ number of the device. */
  linkType: number;
  /** The link type name as libpcap/cap reported it, for messages. */
  linkName: string;
  /** The shared buffer cap copies every packet into (one packet at a time). */
  buffer: Buffer;
}

/** libpcap's snaplen in cap is fixed at 65535; the buffer must hold a whole record. */
export const CAP_SNAPLEN = 65535;

/**
 * The device's MTU from sysfs (Linux), or null when unknown. Loopback's is 65536: its frames can
 * exceed CAP_SNAPLEN, so the live command warns that such segments will be cut.
 */
export function deviceMtu(device: string): number | null {
  if (!/^[\w.:@-]+$/.test(device)) return null;
  try {
    const mtu = Number(fs.readFileSync(`/sys/class/net/${device}/mtu`, 'utf8').trim());
    return Number.isSafeInteger(mtu) && mtu > 0 ? mtu : null;
  } catch {
    return null;
  }
}

export interface OpenOptions {
  device: string;
  filter: string;
  /** Kernel capture buffer in bytes (libpcap's pcap_set_buffer_size). */
  kernelBuffer?: number;
}

/**
 * Opens `device` with the BPF `filter`. Checks the device name against libpcap's list first (so
 * a typo gets the list of real names), then maps libpcap's own failures to permission, device and
 * filter errors. libpcap compiles the filter only after activating the device, so a failure that
 * is not about permission or the device is retried without the filter to tell a bad filter apart.
 */
export async function openDevice(opts: OpenOptions): Promise<OpenedHandle> {
  const cap = await loadCap();
  const devices = cap.Cap.deviceList();
  if (!devices.some((d) => d.name === opts.device)) {
    const list = devices.length ? `\n${formatDevices(devices)}` : ' (libpcap lists none: are you root?)';
    throw new SmtpInspectError('E_LIVE_NO_DEVICE', `no capture device named "${opts.device}"; the devices are:${list}`);
  }
  const buffer = Buffer.alloc(CAP_SNAPLEN);
  const kernelBuffer = opts.kernelBuffer ?? 16 * 1024 * 1024;
  const handle = new cap.Cap();
  let linkName: string;
  try {
    linkName = handle.open(opts.device, opts.filter, kernelBuffer, buffer);
  } catch (err) {
    throw classifyOpenError(cap, opts, kernelBuffer, err);
  }
  const linkType = linkTypeFromCap(linkName);
  if (linkType === null) {
    handle.close();
    throw new SmtpInspectError('E_LIVE_UNAVAILABLE', `device ${opts.device}: unsupported link type (${linkName})`);
  }
  return { handle, linkType, linkName, buffer };
}

function classifyOpenError(cap: CapModule, opts: OpenOptions, kernelBuffer: number, err: unknown): SmtpInspectError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/permission|not permitted|EPERM|EACCES/i.test(msg)) {
    return new SmtpInspectError(
      'E_LIVE_PERMISSION',
      `cannot capture on ${opts.device}: ${msg}; live capture needs root or the CAP_NET_RAW capability ` +
        `(e.g. sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v node)")`,
    );
  }
  if (/no such device|doesn't exist|does not exist/i.test(msg)) {
    return new SmtpInspectError('E_LIVE_NO_DEVICE', `cannot capture on ${opts.device}: ${msg}`);
  }
  if (opts.filter) {
    const probe = new cap.Cap();
    try {
      probe.open(opts.device, '', kernelBuffer, Buffer.alloc(CAP_SNAPLEN));
      probe.close();
      return new SmtpInspectError('E_LIVE_FILTER', `bad capture filter "${opts.filter}": ${msg}`);
    } catch {
      // The device fails without the filter too: report the original failure below.
    }
  }
  return new SmtpInspectError('E_LIVE_UNAVAILABLE', `cannot capture on ${opts.device}: ${msg}`);
}

/**
 * IP fragments of TCP that `tcp port N` cannot see: IPv4 fragments after the first (no TCP header:
 * offset != 0, protocol TCP) and IPv6 packets whose first next header is a Fragment header. The
 * pipeline reassembles them (replay.md "IP fragments"); without them no fragment set completes.
 */
const FRAGMENTS_FILTER = '(ip[6:2] & 0x1fff != 0 and ip[9] == 6) or (ip6 and ip6[6] == 44)';

/**
 * At most this many `tcp port N` / `tcp portrange A-B` terms: each costs libpcap ~50 classic BPF
 * instructions per tag alternative (3 of them), and Linux refuses a socket filter longer than
 * 4096 (BPF_MAXINSNS). libpcap then prints "Warning: Kernel filter failed: Invalid argument" and
 * filters in userland, i.e. every packet on the device crosses the ring (drops on a busy NIC).
 * 32 terms compile to about 3,300 instructions; more take every TCP port (the pipeline still
 * applies the policy, so the wider filter only costs CPU).
 */
export const MAX_PORT_TERMS = 32;

/** Sorted, distinct ports as BPF terms: a run of consecutive ports is one `tcp portrange A-B`. */
export function portTerms(ports: readonly number[]): string[] {
  const uniq = [...new Set(ports)].sort((a, b) => a - b);
  const terms: string[] = [];
  for (let i = 0; i < uniq.length; ) {
    let j = i;
    while (j + 1 < uniq.length && (uniq[j + 1] as number) === (uniq[j] as number) + 1) j++;
    const lo = uniq[i] as number;
    const hi = uniq[j] as number;
    terms.push(lo === hi ? `tcp port ${lo}` : `tcp portrange ${lo}-${hi}`);
    i = j + 1;
  }
  return terms;
}

/**
 * The default BPF filter for the ports the policy can select (`null` = any port), with TCP's IP
 * fragments, untagged or behind one or two 802.1Q/802.1ad tags (a trunk or SPAN port: the decoder
 * reads the tags, so only the filter kept them out). libpcap's `vlan` shifts the offsets of
 * everything after it, so the tagged alternatives come last, the second `vlan` inside the first.
 * Consecutive ports (`match port tcp range 2500 2600`) become one portrange; more than
 * MAX_PORT_TERMS terms become `tcp` (see there).
 */
export function defaultFilter(ports: readonly number[] | null): string {
  const terms = ports === null ? [] : portTerms(ports.length === 0 ? [25] : ports);
  const base = (ports === null || terms.length > MAX_PORT_TERMS ? 'tcp' : terms.join(' or ')) + ' or ' + FRAGMENTS_FILTER;
  return `${base} or (vlan and (${base} or (vlan and (${base}))))`;
}
