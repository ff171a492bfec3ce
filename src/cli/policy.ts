import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerPolicy(program: Command): void {
  program.command('policy').description('(being built)');
}
