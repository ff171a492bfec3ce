/**
 * Entry points: the ASA default policy, a policy text, or a policy file (a pasted
 * `show running-config` or an excerpt), each compiled to a CompiledPolicy.
 */
import { readFile } from 'node:fs/promises';
import { PolicyError, SmtpInspectError } from '../errors.js';
import { PolicyImpl, layer, resolve, type PolicyOptions } from './compile.js';
import { DEFAULT_POLICY_SOURCE, DEFAULT_POLICY_TEXT } from './default-policy.js';
import { parseConfig } from './parser.js';
import type { CompiledPolicy } from './types.js';

export type { PolicyOptions } from './compile.js';

/** The ASA factory default (the default map and global_policy), compiled from its policy text. */
export function defaultPolicy(options: PolicyOptions = {}): CompiledPolicy {
  const cfg = parseConfig(DEFAULT_POLICY_TEXT, DEFAULT_POLICY_SOURCE);
  return new PolicyImpl(resolve(cfg, DEFAULT_POLICY_SOURCE, DEFAULT_POLICY_SOURCE, false), options);
}

/**
 * Compiles a policy text layered over the factory default: `_default_esmtp_map`,
 * `class-map inspection_default`, `policy-map global_policy` and `service-policy global_policy
 * global` exist unless the text redefines them (or, for service policies, has any
 * `service-policy` / `no service-policy` line). Throws PolicyError (E_POLICY_SYNTAX,
 * E_POLICY_REFERENCE, E_POLICY_VALUE) with file, line and column.
 */
export function compilePolicyText(text: string, source: string, options: PolicyOptions = {}): CompiledPolicy {
  const base = parseConfig(DEFAULT_POLICY_TEXT, DEFAULT_POLICY_SOURCE);
  const user = parseConfig(text.replace(/^\uFEFF/, ''), source);
  return new PolicyImpl(resolve(layer(base, user), source, source, true), options);
}

/** Loads a policy file; null means the ASA default. */
export async function loadPolicy(path: string | null, options: PolicyOptions = {}): Promise<CompiledPolicy> {
  if (path === null) return defaultPolicy(options);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const why = e instanceof Error && 'code' in e ? String((e as NodeJS.ErrnoException).code) : String(e);
    throw new SmtpInspectError('E_USAGE', `cannot read policy file (${why})`, { file: path });
  }
  return compilePolicyText(text, path, options);
}

export { PolicyError };

/** The factory-default policy text (what `smtp-inspect policy default` prints). */
export function defaultPolicyText(): string {
  return DEFAULT_POLICY_TEXT;
}
