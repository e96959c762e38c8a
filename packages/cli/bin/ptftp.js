#!/usr/bin/env node
// Stable entry point kept in git so npm links the `ptftp` bin even before the first build.
// It runs the CommonJS build: loaded through require(), `ptftp serve` holds ~8 MiB less RSS
// than through the ESM loader (docs/packages/cli.md, "Footprint").
import { createRequire } from 'node:module';

createRequire(import.meta.url)('../dist/bin.cjs');
