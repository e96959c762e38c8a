import { run } from './program.js';

// Long-running verbs (serve) keep the process alive through their sockets; the others end here.
process.exitCode = await run(process.argv.slice(2));
