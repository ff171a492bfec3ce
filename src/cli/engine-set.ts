/**
 * `--set NAME=VALUE` (repeatable) to engine options, refusing the same option given twice with
 * different values: the last one would silently win, and the user meant one of them.
 */
import { SmtpInspectError } from '../errors.js';
import { engineOptionsHelp, parseEngineOptions, type EngineOptions } from '../inspect/options.js';

function optionName(text: string): string {
  const eq = text.indexOf('=');
  return (eq < 0 ? text : text.slice(0, eq)).trim();
}

function optionValue(text: string): string {
  const eq = text.indexOf('=');
  return eq < 0 ? '' : text.slice(eq + 1).trim();
}

/** `defaults`: option texts of the command's own defaults, each used unless the user names that option. */
export function engineOptionsFromCli(texts: readonly string[], flag = '--set', defaults: readonly string[] = []): EngineOptions {
  const seen = new Map<string, string>();
  for (const t of texts) {
    const name = optionName(t);
    const prev = seen.get(name);
    if (prev !== undefined && optionValue(prev) !== optionValue(t)) {
      throw new SmtpInspectError('E_USAGE', `${flag} ${prev.trim()} and ${flag} ${t.trim()} contradict each other: give ${name} once`);
    }
    seen.set(name, t);
  }
  return parseEngineOptions([...defaults.filter((d) => !seen.has(optionName(d))), ...texts]);
}

/**
 * commander's parser for `--set` (repeatable): `--set help` prints every engine option with its
 * values, default and evidence, and exits, as `--help` does.
 */
export function collectEngineOption(value: string, previous: string[] = []): string[] {
  if (value.trim() === 'help') {
    process.stdout.write(`engine options (--set NAME=VALUE, repeatable):\n${engineOptionsHelp()}\n`);
    process.exit(0);
  }
  return [...previous, value];
}
