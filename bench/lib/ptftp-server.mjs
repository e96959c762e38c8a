/**
 * Our server alone in a child process, so that its CPU and peak RSS are measured apart from
 * the clients. Prints {"port": N} on stdout once listening; exits on SIGTERM.
 *
 *   node bench/lib/ptftp-server.mjs ROOT
 */
import { createFsHandler, createServer } from '@ptftp/protocol';

const root = process.argv[2];
if (!root) {
  console.error('usage: ptftp-server.mjs ROOT');
  process.exit(2);
}
// PTFTP_BENCH_SERVER_OPTS: JSON merged into the server options, to try settings
// (e.g. '{"ports":"single"}'); the bench itself runs the defaults.
const extra = JSON.parse(process.env.PTFTP_BENCH_SERVER_OPTS ?? '{}');
const server = createServer({ handler: createFsHandler(root), ...extra });
const [bound] = await server.listen(['127.0.0.1:0']);
process.stdout.write(`${JSON.stringify({ port: bound.port })}\n`);
process.on('SIGTERM', () => {
  server.close().then(() => process.exit(0));
});
