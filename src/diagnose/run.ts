/** Wires diagnose to the real layers: policy loading/compiling, transcripts, in-memory replays. */
import fs from 'node:fs';
import { PolicyError } from '../errors.js';
import { compilePolicyText, decodePolicyBytes, loadPolicy, type PolicyMode } from '../policy/load.js';
import { replayInMemory } from '../regress/replay-run.js';
import type { EngineOptions } from '../inspect/options.js';
import { diagnose } from './analyze.js';
import type { ExplainSettings } from './catalogue.js';
import { keptForDiagnose } from './notes.js';
import type { VerdictRecord } from '../output/verdicts.js';
import type { DiagnoseReport } from './model.js';
import { SMTP_PORTS, transcribeCapture } from './transcribe.js';

export interface DiagnoseOptions {
  policyPath: string | null;
  /** `--policy-mode` (native-notes "layering"); the proposed fixes are compiled in the mode the policy got. */
  policyMode?: PolicyMode;
  engineOptions?: EngineOptions;
}

/** The engine options that change what a finding means for the admin (catalogue.ts ExplainSettings). */
function explainSettings(o: EngineOptions): ExplainSettings {
  return {
    dropConnectionRst: o.dropConnectionRst,
    headerLineLength: o.headerLineLength,
    invalidRecipientReplies: o.invalidRecipientReplies,
    rcptCountScope: o.rcptCountScope,
    lengthCountsCrlf: o.lengthCountsCrlf,
  };
}

export async function runDiagnose(input: string, opts: DiagnoseOptions): Promise<DiagnoseReport> {
  const policy = await loadPolicy(opts.policyPath, opts.policyMode ? { mode: opts.policyMode } : {});
  let policyText: string;
  if (opts.policyPath) {
    try {
      policyText = decodePolicyBytes(fs.readFileSync(opts.policyPath)).text;
    } catch (err) {
      throw new PolicyError('E_POLICY_SYNTAX', `cannot read policy: ${(err as Error).message}`, { file: opts.policyPath });
    }
  } else policyText = ''; // compilePolicyText layers any text over the factory default
  const ports = policy.esmtpPorts();
  const transcripts = await transcribeCapture(input, ports === null ? null : [...new Set([...SMTP_PORTS, ...ports])], opts.engineOptions);
  const engine = {
    ...(opts.engineOptions ? { engineOptions: opts.engineOptions } : {}),
    // per-packet bookkeeping (one 'drop' record per dropped packet, one 'tcp-gap' per hole...) is
    // not needed: stay bounded; the notes diagnose uses are kept (notes.ts)
    keep: (r: VerdictRecord) => keptForDiagnose(r),
  };
  return diagnose({
    input,
    policy,
    policyText,
    lengthCountsCrlf: opts.engineOptions?.lengthCountsCrlf ?? false,
    ...(opts.engineOptions ? { settings: explainSettings(opts.engineOptions) } : {}),
    // a fix appended to the text must not flip its layering (e.g. a `no` line in a printout)
    compile: (text, source) => compilePolicyText(text, source, policy.layering ? { mode: policy.layering.mode } : {}),
    replay: async (p) => {
      const run = await replayInMemory(input, p, engine);
      return { verdicts: run.verdicts, transcripts, servicePolicy: run.summary.servicePolicy };
    },
  });
}
