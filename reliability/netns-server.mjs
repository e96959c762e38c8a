// The real @ptftp/protocol server (the BUILT package) serving a folder, for netns-loss.sh.
// Prints "PORT <n>" once listening; on SIGTERM prints one JSON line of counters and exits.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../packages/protocol/dist/index.js', import.meta.url));
if (!existsSync(dist)) {
  console.error(`netns-server: ${dist} is missing: run "npm run build -w @ptftp/protocol" first`);
  process.exit(2);
}
const { createFsHandler, createServer } = await import(dist);

const root = process.argv[2];
if (!root) {
  console.error('usage: netns-server.mjs ROOT');
  process.exit(2);
}
const counters = { complete: 0, errors: 0, retransmissions: 0 };
const server = createServer({
  handler: createFsHandler(root),
  retransmitTimeoutMs: Number(process.env.PTFTP_RTO_MS ?? 300),
  retries: 10,
});
server.on('transferComplete', (s) => {
  counters.complete++;
  counters.retransmissions += s.retransmissions;
});
server.on('transferError', () => counters.errors++);
const [bound] = await server.listen(['127.0.0.1:0']);
console.log(`PORT ${bound.port}`);
// A test that dies must not leave this server behind: a hard stop after 10 minutes.
const limit = setTimeout(() => process.kill(process.pid, 'SIGTERM'), 600_000);
limit.unref();
process.once('SIGTERM', async () => {
  const activeAtStop = server.activeSessions;
  // A session whose last ACK was lost resends its last DATA until its retries run out: let
  // those finish, so every transfer is counted as complete or failed.
  await server.close({ graceMs: 5000 });
  console.log(JSON.stringify({ ...counters, activeAtStop, activeAfterClose: server.activeSessions }));
  process.exit(0);
});
