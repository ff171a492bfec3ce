import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerInfo(program: Command): void {
  program.command('info').description('(being built)');
}
