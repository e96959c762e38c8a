import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // typed-emitter is types only: its declarations are inlined, so installs do not pull it in.
  dts: { resolve: ['typed-emitter'] },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
});
