#!/usr/bin/env node
// Stable entry point kept in git so npm links the `ptftp` bin even before the first build.
// It runs the CommonJS build: loaded through require(), `ptftp serve` holds ~8 MiB less RSS
// than through the ESM loader (docs/packages/cli.md, "Footprint").
import module, { createRequire } from 'node:module';

// Node 22.8+ keeps the compiled code of the modules we load on disk (V8 code cache), so the
// next run skips most of the parse and compile (NODE_DISABLE_COMPILE_CACHE=1 turns it off).
// Older Nodes lack the function and start as before.
if (typeof module.enableCompileCache === 'function') {
  try {
    module.enableCompileCache();
  } catch {
    // A cache folder that cannot be made costs only the speed-up.
  }
}

createRequire(import.meta.url)('../dist/bin.cjs');
