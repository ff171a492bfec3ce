import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerReplay(program: Command): void {
  program.command('replay').description('(being built)');
}
