import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerRegress(program: Command): void {
  program.command('regress').description('(being built)');
}
