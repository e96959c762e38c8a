/**
 * `npm run bench`: build the packages, then run every bench/*.bench.mjs in turn. Each bench
 * prints its own markdown table and writes it to bench/results/<name>.md.
 *
 *   npm run bench                 # everything
 *   npm run bench -- protocol     # only benches whose name contains "protocol"
 *   PTFTP_BENCH_SKIP_BUILD=1 npm run bench   # reuse the current dist/ folders
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const filters = process.argv.slice(2);
let failed = 0;

if (!process.env.PTFTP_BENCH_SKIP_BUILD) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    // A package that did not build makes its own bench fail below; the others still run.
    console.error(`bench: npm run build exited with ${build.status}; running the benches anyway`);
    failed++;
  }
}

const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
for (const file of benches) {
  console.log(`\n## ${file}\n`);
  const r = spawnSync(process.execPath, [join(here, file)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${file} exited with ${r.status ?? r.signal}`);
    failed++;
  }
}
process.exitCode = failed > 0 ? 1 : 0;
