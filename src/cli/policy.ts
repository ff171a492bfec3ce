/**
 * `smtp-inspect policy check FILE [--verbose] [--json]`: compile a policy (a pasted
 * `show running-config` or an excerpt) and print the effective policy, normalised, or the error.
 * `smtp-inspect policy default`: print the ASA factory-default policy text to start from.
 * `smtp-inspect policy criteria`: the match criteria table (syntax, values, actions).
 */
import { Option, type Command } from 'commander';
import { EXIT } from '../errors.js';
import { ACTIONS, CRITERIA, PARAMETERS, criterionSyntax } from '../policy/criteria.js';
import { POLICY_MODES, defaultPolicyText, loadPolicy, type PolicyMode } from '../policy/load.js';
import { action } from './errors.js';

interface CheckOptions {
  policyMode?: PolicyMode;
  verbose?: boolean;
  json?: boolean;
}

export function criteriaHelp(): string {
  const lines = ['Match criteria (policy-map type inspect esmtp NAME / match [not] ...):'];
  for (const c of CRITERIA) {
    const range = c.value.type === 'number' ? ` (N ${c.value.min}-${c.value.max})` : c.value.type === 'list' ? ` (WORD: ${c.value.vocabulary.join(' ')})` : '';
    lines.push(`  ${criterionSyntax(c)}${range}`, `      ${c.help}; actions: ${c.actions.join(', ')}`);
  }
  lines.push('Actions:');
  for (const a of ACTIONS) lines.push(`  ${a.syntax.padEnd(24)} ${a.help}`);
  lines.push('Parameters (parameters sub-mode):');
  for (const p of PARAMETERS) lines.push(`  ${p.syntax}`, `      ${p.help}; default ${p.default}`);
  return lines.join('\n') + '\n';
}

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').summary('check, print and explain ASA policies').description('check, print and explain ASA policies (the CLI subset of native-notes/policy-language.md)');

  policy
    .command('check')
    .description('compile a policy file (pasted show running-config or an excerpt) and print the effective policy, normalised; errors exit 2')
    .argument('<file>', 'policy file')
    .option('--verbose', 'also list the running-config lines that are not modelled (ignored)')
    .addOption(
      new Option('--policy-mode <MODE>', 'how FILE is laid over the ASA factory default: auto (a show running-config printout replaces, an excerpt is merged as commands), merge, snapshot')
        .choices([...POLICY_MODES])
        .default('auto'),
    )
    .option('--json', 'machine-readable output: {source, layering, interfaces, normalized, esmtpMaps, esmtpPorts, clock, timeRanges, ignored}')
    .action(
      action(async (file: string, opts: CheckOptions) => {
        const p = await loadPolicy(file, opts.policyMode ? { mode: opts.policyMode } : {});
        if (opts.json) {
          const maps = [...p.esmtpMaps.values()].map((m) => ({
            name: m.name,
            parameters: m.parameters,
            matches: m.matches.map((x) => ({ classId: x.classId, text: x.text, not: x.not, kind: x.criterion.kind, actions: x.actions, line: x.line })),
          }));
          const out = { source: p.source, layering: p.layering ?? null, interfaces: p.interfaceRouting?.usable === true ? p.interfaceRouting.describe() : null, normalized: p.normalized(), esmtpMaps: maps, esmtpPorts: p.esmtpPorts(), clock: p.clock(), timeRanges: p.timeRanges(), ignored: p.ignored };
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return EXIT.OK;
        }
        process.stdout.write(p.normalized());
        if (p.interfaceRouting?.usable === true) {
          // `!` lines: the output stays a policy text that compiles
          process.stdout.write(`! interfaces from the config (replay, live, diagnose and regress place each connection's client and server by them unless --client-interface / --server-interface is given): ${p.interfaceRouting.describe()}\n`);
        }
        const n = p.ignored.length;
        if (opts.verbose) {
          process.stdout.write(n > 0 ? `! ${n} line(s) not modelled (ignored):\n` : '! no line ignored: every line is modelled\n');
          for (const i of p.ignored) process.stdout.write(`!   ${file}:${i.line}: ${i.text}${i.reason ? `   [${i.reason}]` : ''}\n`);
        } else if (n > 0) process.stdout.write(`! ${n} line(s) not modelled were ignored (list them with --verbose)\n`);
        return EXIT.OK;
      }),
    );

  policy
    .command('default')
    .description('print the ASA factory-default policy text (_default_esmtp_map, inspection_default, global_policy)')
    .action(
      action(() => {
        process.stdout.write(defaultPolicyText());
        return EXIT.OK;
      }),
    );

  policy
    .command('criteria')
    .description('list the ESMTP match criteria, actions and parameters with their syntax and value ranges')
    .action(
      action(() => {
        process.stdout.write(criteriaHelp());
        return EXIT.OK;
      }),
    );
}
