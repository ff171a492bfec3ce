/**
 * Fuzz targets: one per parser layer (capture reader + decoder here; reassembly, the SMTP engine
 * and the policy parser add theirs as files under src/bench/fuzz-targets/). A target turns bytes
 * into work; the only acceptable outcomes are success or an error the target declares expected
 * (a SmtpInspectError subclass with its code and position). Anything else is a finding.
 */
export interface FuzzTarget {
  name: string;
  description: string;
  /** Real inputs to mutate (file paths); missing files are skipped. */
  seeds(): string[];
  /** Processes one input. Must not keep state between inputs. */
  run(input: Buffer): Promise<void>;
  /** Whether a thrown error is a defined outcome (e.g. CaptureError) rather than a bug. */
  isExpectedError(err: unknown): boolean;
}

const targets = new Map<string, FuzzTarget>();

export function registerFuzzTarget(target: FuzzTarget): void {
  if (targets.has(target.name)) throw new Error(`fuzz target "${target.name}" registered twice`);
  targets.set(target.name, target);
}

export function fuzzTargets(): FuzzTarget[] {
  return [...targets.values()];
}

export function fuzzTarget(name: string): FuzzTarget | undefined {
  return targets.get(name);
}
