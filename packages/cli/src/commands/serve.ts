import type { Command } from 'commander';
import type { CliIo } from '../io.js';

export function register(_program: Command, _io: CliIo): void {}
