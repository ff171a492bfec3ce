import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerLive(program: Command): void {
  program.command('live').description('(being built)');
}
