import type { Command } from 'commander';

// Placeholder registration, replaced by the module that implements the command.
export function registerProxy(program: Command): void {
  program.command('proxy').description('(being built)');
}
