/**
 * Entry points: the ASA default policy, a policy text, or a policy file (a pasted
 * `show running-config` or an excerpt), each compiled to a CompiledPolicy.
 */
import { readFile } from 'node:fs/promises';
import { PolicyError, SmtpInspectError } from '../errors.js';
import { PolicyImpl, layer, resolve, type PolicyOptions } from './compile.js';
import { chooseLayering, type PolicyMode } from './detect.js';
import { printedOverDefault } from './printed.js';
import { DEFAULT_POLICY_SOURCE, DEFAULT_POLICY_TEXT } from './default-policy.js';
import { parseConfig } from './parser.js';
import { readInterfaceMap, type InterfaceMap } from './interface-map.js';
import { lexPolicyText } from './lexer.js';
import type { CompiledPolicy, PolicyWarning } from './types.js';

export type { PolicyOptions } from './compile.js';
export { POLICY_MODES, type PolicyMode } from './detect.js';

/** The ASA factory default (the default map and global_policy), compiled from its policy text. */
export function defaultPolicy(options: PolicyOptions = {}): CompiledPolicy {
  const cfg = parseConfig(DEFAULT_POLICY_TEXT, DEFAULT_POLICY_SOURCE);
  return new PolicyImpl(resolve(cfg, DEFAULT_POLICY_SOURCE, DEFAULT_POLICY_SOURCE, 'none'), options);
}

/** Options of compilePolicyText / loadPolicy: the layering mode besides the PolicyOptions. */
export interface CompileOptions extends PolicyOptions {
  /**
   * How the text is laid over the factory default (native-notes "layering", `--policy-mode`):
   * 'auto' (default) reads the signs of a `show running-config` printout; 'merge' applies it as
   * configuration commands; 'snapshot' makes its objects replace the default ones.
   */
  mode?: PolicyMode;
}

/**
 * Compiles a policy text over the factory default (`_default_esmtp_map`, `class-map
 * inspection_default`, `policy-map global_policy`, `service-policy global_policy global`), as
 * configuration commands typed on the device (merge: entering an existing object adds to it, `no`
 * and `clear configure` lines remove) or as a printout whose objects replace the default's
 * (snapshot); `options.mode` chooses, 'auto' by the signs of a printout (src/policy/detect.ts).
 * Throws PolicyError (E_POLICY_SYNTAX, E_POLICY_REFERENCE, E_POLICY_VALUE) with file, line and column.
 */
export function compilePolicyText(text: string, source: string, options: CompileOptions = {}): CompiledPolicy {
  const base = parseConfig(DEFAULT_POLICY_TEXT, DEFAULT_POLICY_SOURCE);
  const clean = text.replace(/^\uFEFF/, '');
  const choice = chooseLayering(clean, options.mode ?? 'auto');
  let cfg;
  if (choice.mode === 'snapshot') cfg = layer(base, parseConfig(clean, source), choice.full, choice.line ?? 1);
  else {
    cfg = parseConfig(clean, source, base);
    cfg.warnings.push(...printedOverDefault(base, cfg));
  }
  const resolved = resolve(cfg, source, source, choice.mode);
  resolved.layeringChoice = { requested: choice.requested, mode: choice.mode, reason: choice.reason };
  const policy = new PolicyImpl(resolved, options);
  const routing = readInterfaceMap(lexPolicyText(clean, source).lines);
  policy.interfaceRouting = routing;
  if (routing.usable) placedInterfaceNotes(policy.warnings, routing);
  return policy;
}

/** The note's head compile.ts writes for an interface service-policy on a name other than outside/inside. */
const INTERFACE_POLICY_NOTE = /^(service-policy \S+ interface (\S+) inspects esmtp only for connections entering or leaving by "\2"): /;

/**
 * With the config's interfaces placing each connection, the interface policy's note says so
 * instead of asking for --client-interface / --server-interface (which would force one pair).
 */
function placedInterfaceNotes(warnings: PolicyWarning[], routing: InterfaceMap): void {
  for (const w of warnings) {
    const m = INTERFACE_POLICY_NOTE.exec(w.message);
    if (m === null) continue;
    const name = m[2] as string;
    w.message =
      routing.securityLevel(name) !== null
        ? `${m[1]}: replay, live, diagnose and regress place each connection on the config's interfaces by its addresses (as long as neither --client-interface nor --server-interface is given), so it applies where an address is on or routed through ${name}; the proxy takes the names from --client-interface / --server-interface`
        : `${m[1]}, and no interface of this config has nameif ${name} (names are case-sensitive): it applies to no connection placed by the config's interfaces; name it with --client-interface ${name} or --server-interface ${name} to force it`;
  }
}

export interface LoadOptions extends CompileOptions {
  /** Where the policy's warnings go, one line each; default: stderr. */
  warn?: (line: string) => void;
}

/** The warning lines loadPolicy prints: `smtp-inspect: FILE:LINE: warning: ...`. */
export function formatWarnings(policy: CompiledPolicy): string[] {
  return policy.warnings.map((w) => `smtp-inspect: ${policy.source}:${w.line}: ${w.level}: ${w.message}`);
}

/**
 * The text of a policy file. UTF-8 normally; UTF-16 when it starts with a UTF-16 byte-order mark, or
 * has the NUL byte of UTF-16 after its first two characters: Windows PowerShell 5's `>` and
 * `Out-File` write UTF-16LE, so a `show running-config` saved through `ssh`/`plink` there arrives so.
 * Read as UTF-8, every second byte is NUL and the file is refused at its first character.
 */
/** Windows-1252's 0x80–0x9F (curly quotes, dashes, €); 0 where it defines none (kept as the byte). */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A file that is not UTF-8 and has no UTF-16 pattern is Windows-1252 (Notepad's "ANSI" before
 * Windows 10 1903): a guide copied there keeps its no-break spaces as byte 0xA0 and its curly
 * quotes as 0x93/0x94. Read as UTF-8, each became U+FFFD and the lines they indent were ignored
 * without a warning. (Node's TextDecoder reads windows-1252 as Latin-1, hence the table.)
 */
function decodeCp1252(buf: Buffer): string {
  const latin1 = buf.toString('latin1');
  return latin1.replace(/[\u0080-\u009f]/g, (c) => {
    const u = CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? 0;
    return u === 0 ? c : String.fromCharCode(u);
  });
}

export function decodePolicyBytes(buf: Buffer): { text: string; encoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252' } {
  const be = (b: Buffer) => {
    const even = Buffer.from(b.subarray(0, b.length - (b.length % 2)));
    return even.swap16().toString('utf16le');
  };
  if (buf[0] === 0xff && buf[1] === 0xfe) return { text: buf.subarray(2).toString('utf16le'), encoding: 'utf-16le' };
  if (buf[0] === 0xfe && buf[1] === 0xff) return { text: be(buf.subarray(2)), encoding: 'utf-16be' };
  if (buf.length >= 4 && buf[0] !== 0 && buf[1] === 0 && buf[2] !== 0 && buf[3] === 0) return { text: buf.toString('utf16le'), encoding: 'utf-16le' };
  if (buf.length >= 4 && buf[0] === 0 && buf[1] !== 0 && buf[2] === 0 && buf[3] !== 0) return { text: be(buf), encoding: 'utf-16be' };
  try {
    return { text: UTF8_STRICT.decode(buf), encoding: 'utf-8' };
  } catch {
    return { text: decodeCp1252(buf), encoding: 'windows-1252' };
  }
}

/** Loads a policy file; null means the ASA default. Prints the policy's warnings (see LoadOptions.warn). */
export async function loadPolicy(path: string | null, options: LoadOptions = {}): Promise<CompiledPolicy> {
  if (path === null) return defaultPolicy(options);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const why = e instanceof Error && 'code' in e ? String((e as NodeJS.ErrnoException).code) : String(e);
    throw new SmtpInspectError('E_USAGE', `cannot read policy file (${why})`, { file: path });
  }
  const { text, encoding } = decodePolicyBytes(bytes);
  const policy = compilePolicyText(text, path, options);
  if (encoding !== 'utf-8') {
    const why = encoding === 'windows-1252' ? 'the file is not UTF-8: Notepad\'s "ANSI" writes Windows-1252' : 'the file is not UTF-8; Windows PowerShell 5 writes UTF-16 with ">"';
    policy.warnings.unshift({ line: 1, level: 'note', message: `read as ${encoding.toUpperCase()} (${why})` });
  }
  const warn = options.warn ?? ((line: string) => void process.stderr.write(`${line}\n`));
  for (const line of formatWarnings(policy)) warn(line);
  return policy;
}

export { PolicyError };

/** The factory-default policy text (what `smtp-inspect policy default` prints). */
export function defaultPolicyText(): string {
  return DEFAULT_POLICY_TEXT;
}
