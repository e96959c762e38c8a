import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { register as admin } from './admin.js';
import { register as config } from './config.js';
import { register as dhcp } from './dhcp.js';
import { register as get } from './get.js';
import { register as phone } from './phone.js';
import { register as security } from './security.js';
import { register as serve } from './serve.js';

/**
 * Every verb group lives in its own module under `commands/` and exports
 * `register(program, io)`; this list wires them in.
 */
const registrars: Array<(program: Command, io: CliIo) => void> = [
  serve,
  config,
  admin,
  get,
  dhcp,
  security,
  phone,
];

export function registerCommands(program: Command, io: CliIo): void {
  for (const register of registrars) register(program, io);
}
