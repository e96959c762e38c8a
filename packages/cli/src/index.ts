/**
 * @packageDocumentation
 * The `ptftp` command, also usable in-process: `run(['dhcp', 'option150', '10.1.1.10'])`.
 */

export { CliError, type CliIo, captureIo, defaultIo } from './io.js';
export { createProgram, run } from './program.js';
