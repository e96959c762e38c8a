import { run } from './program.js';

// A reader that goes away (`ptftp serve | head -1`, a log shipper restarting) is no reason to
// stop: EPIPE is ignored and what is still written is dropped. Any other output error (a full
// disk under `ptftp dhcp plan > kea.conf`) makes the command fail, so no script trusts a file
// that was not written.
let outputFailed = false;
for (const stream of [process.stdout, process.stderr]) {
  let gone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (gone || err.code === 'EPIPE') {
      gone = true;
      return;
    }
    gone = true;
    outputFailed = true;
    process.exitCode = 1;
    if (stream === process.stdout) process.stderr.write(`ptftp: cannot write the output: ${err.message}\n`);
  });
}

// Long-running verbs (serve) keep the process alive through their sockets; the others end here.
void run(process.argv.slice(2)).then((code) => {
  process.exitCode = outputFailed && code === 0 ? 1 : code;
});
