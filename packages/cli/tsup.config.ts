import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  },
  {
    entry: ['src/bin.ts'],
    // CommonJS: the same process loaded through require() holds ~10 MiB less than through the
    // ESM loader (measured on `ptftp serve --root`: 71-72 against 79-84 MiB RSS at idle).
    format: ['cjs', 'esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
