import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerFlows(program: Command): void {
  program.command('flows').description('(being built)');
}
