import { run } from './program.js';

// A reader that goes away (`ptftp cache --help | head -3`) must not crash the command with an
// unhandled EPIPE: what is still written is dropped, since nobody reads it.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

// Long-running verbs (serve) keep the process alive through their sockets; the others end here.
void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
