import { defineConfig } from 'tsup';

export default defineConfig({
  // client: what `ptftp get` and embedders that only download load (no server, no content handles).
  entry: ['src/index.ts', 'src/client.ts', 'src/internal.ts', 'src/testing/index.ts'],
  format: ['esm', 'cjs'],
  // typed-emitter is types only: its declarations are inlined, so installs do not pull it (and its
  // optional rxjs, 12 MB) in.
  dts: { resolve: ['typed-emitter'] },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
});
