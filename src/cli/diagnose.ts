import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerDiagnose(program: Command): void {
  program.command('diagnose').description('(being built)');
}
