#!/usr/bin/env node
// Stable entry point kept in git so npm links the `ptftp` bin even before the first build.
import '../dist/bin.js';
