import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { register as cert } from './security/cert.js';
import { register as enc } from './security/enc.js';
import { register as sgn } from './security/sgn.js';
import { register as tlv } from './security/tlv.js';
import { register as trust } from './security/trust.js';

/** The Cisco security-file verbs: `sgn`, `tlv`, `enc`, `trust` and `cert`. */
export function register(program: Command, io: CliIo): void {
  for (const group of [sgn, tlv, enc, trust, cert]) group(program, io);
}
