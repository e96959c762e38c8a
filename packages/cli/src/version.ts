import { readFileSync } from 'node:fs';

// Written into the build by tsup (`define`, packages/cli/tsup.config.ts) from package.json, so
// the binary reads no file to answer --version; the TypeScript sources (tests) read the file.
declare const __PTFTP_VERSION__: string | undefined;

/** The version of the `ptftp` package this build came from. */
export const VERSION: string =
  typeof __PTFTP_VERSION__ === 'string'
    ? __PTFTP_VERSION__
    : JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
