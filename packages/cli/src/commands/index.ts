import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/**
 * Every verb lives in its own module under `commands/` and exports
 * `register(program, io)`; this list wires them in.
 */
const registrars: Array<(program: Command, io: CliIo) => void> = [];

export function registerCommands(program: Command, io: CliIo): void {
  for (const register of registrars) register(program, io);
}
