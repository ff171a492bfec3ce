/**
 * `smtp-inspect diagnose IN [--policy FILE] [--html REPORT.html] [--json]`: per SMTP session what
 * inspection does (or a firewall in the path already did), where, what each side logs, and a
 * verified fix as ASA configuration lines.
 */
import { Option, type Command } from 'commander';
import { EXIT, OutputError } from '../errors.js';
import { action } from './errors.js';
import { exitQuietlyOnClosedStdout, writeParts, writePartsToFile } from '../diagnose/stdout.js';
import { runDiagnose } from '../diagnose/run.js';
import { POLICY_MODES, type PolicyMode } from '../policy/load.js';
import { htmlParts } from '../diagnose/html.js';
import { textLines } from '../diagnose/text.js';
import { reportJsonText } from '../diagnose/model.js';
import { engineOptionsFromCli, collectEngineOption } from './engine-set.js';
import { checkOutputPaths } from './output-paths.js';
import { spoolStdinIfPiped } from './spool-stdin.js';

interface DiagnoseCliOptions {
  policy?: string;
  policyMode?: PolicyMode;
  html?: string;
  json?: boolean;
  engineOption?: string[];
  set?: string[];
}

export function registerDiagnose(program: Command): void {
  program
    .command('diagnose')
    .summary('explain why mail breaks through the ASA, with a verified fix')
    .description(
      'Explain why mail through an ESMTP-inspecting ASA breaks: per SMTP session the rule, the packet and the ' +
        'symptom each side logs, firewall fingerprints already in the capture, and a fix as ASA configuration ' +
        'lines, verified by replaying the capture with it. Exit 1 when a session is broken or degraded.',
    )
    .argument('<in>', 'capture file (pcap/pcapng, optionally gzipped)')
    .option('--policy <file>', 'ASA configuration (default: the ASA default policy)')
    .addOption(new Option('--policy-mode <MODE>', 'how the policy file is laid over the ASA factory default: auto (a show running-config printout replaces, an excerpt is merged as commands), merge, snapshot').choices([...POLICY_MODES]).default('auto'))
    .option('--html <report.html>', 'also write a self-contained HTML report with ladder diagrams')
    .option('--json', 'print one JSON object instead of text')
    .option('--set <OPTION=VALUE>', 'engine option for open behaviours (repeatable), as in replay, e.g. --set judging=line; --set help lists them', collectEngineOption)
    .option('--engine-option <name=value>', 'same as --set (kept for compatibility)', collectEngineOption)
    .action(
      action(async (input: string, opts: DiagnoseCliOptions) => {
        // The report goes to stdout: --html must be a file, and neither the capture nor the policy.
        checkOutputPaths(
          [
            { option: 'IN', path: input },
            { option: '--policy', path: opts.policy },
          ],
          [
            { option: '--html', path: opts.html },
            { option: opts.json ? 'the JSON report' : 'the text report', path: '-', stdoutHint: '(the report is always printed)' },
          ],
        );
        const engineTexts = [...(opts.set ?? []), ...(opts.engineOption ?? [])];
        const engineOptions = engineTexts.length > 0 ? engineOptionsFromCli(engineTexts, opts.engineOption ? '--set/--engine-option' : '--set') : null;
        exitQuietlyOnClosedStdout();
        // The capture is replayed once per proposed fix: a piped stdin is spooled to a file first.
        const spooled = await spoolStdinIfPiped(input);
        let report: Awaited<ReturnType<typeof runDiagnose>>;
        try {
          report = await runDiagnose(spooled.path, {
            policyPath: opts.policy ?? null,
            ...(opts.policyMode ? { policyMode: opts.policyMode } : {}),
            ...(engineOptions ? { engineOptions } : {}),
          });
        } finally {
          spooled.dispose();
        }
        // Name the input as the user gave it, not the temporary copy.
        report = { ...report, input };
        if (opts.html) {
          try {
            writePartsToFile(opts.html, htmlParts(report), '\n', '');
          } catch (err) {
            throw new OutputError('E_OUTPUT', `cannot write the HTML report: ${(err as Error).message}`, { file: opts.html });
          }
        }
        // written one session at a time: a big capture's report is never one string
        if (opts.json) await writeParts(process.stdout, reportJsonText(report), '', '');
        else await writeParts(process.stdout, textLines(report), '\n', '\n');
        if (opts.html && !opts.json) process.stdout.write(`\nHTML report: ${opts.html}\n`);
        const bad = report.firewallDetected || report.sessions.some((s) => s.findings.some((f) => f.severity === 'breaks' || f.severity === 'degrades'));
        return bad ? EXIT.FINDINGS : EXIT.OK;
      }),
    );
}
