/**
 * What importing the resolver costs: @ptftp/security (and node-forge behind it) loads only
 * when a file is re-signed, so a proxy that never re-signs does not carry it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Module files loaded by a fresh Node process after running `script` (CommonJS build). */
function loadedAfter(script: string): string[] {
  const out = execFileSync(
    process.execPath,
    ['-e', `(async () => { ${script}; console.log(JSON.stringify(Object.keys(require.cache))); })()`],
    { cwd: packageDir, encoding: 'utf8' },
  );
  return JSON.parse(out) as string[];
}

describe('@ptftp/resolver footprint', () => {
  it('importing it loads neither @ptftp/security nor node-forge', () => {
    const loaded = loadedAfter("require('@ptftp/resolver')");
    expect(loaded.some((f) => f.includes('resolver'))).toBe(true);
    expect(loaded.filter((f) => /node-forge|[\\/]security[\\/]dist/.test(f))).toEqual([]);
  });

  it('the first use of a .sgn helper loads them', () => {
    const loaded = loadedAfter(
      "const r = require('@ptftp/resolver/internal'); await r.sgnBody(new Uint8Array(0)).catch(() => {})",
    );
    expect(loaded.some((f) => /[\\/]security[\\/]dist/.test(f))).toBe(true);
  });
});
