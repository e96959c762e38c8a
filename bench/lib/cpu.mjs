/**
 * Per-packet cost: the CPU seconds a server spends sending one file, with the server pinned to
 * one core and the C client (atftp) to another, read from /proc/<pid>/stat (utime + stime of
 * every thread) before and after. CPU time, not wall time: a shared machine slows a transfer
 * down without making each packet cost more.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { binaries } from './peers.mjs';
import { freeUdpPort, startDaemon } from './processes.mjs';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Pin every thread of `pid` (and the threads it starts later) to `core`. */
export function pin(pid, core) {
  spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

/** `ptftp serve --root` (the CLI binary, built) on 127.0.0.1, TFTP only. */
export async function startPtftpCli(root) {
  const port = await freeUdpPort();
  const bin = fileURLToPath(new URL('../../packages/cli/bin/ptftp.js', import.meta.url));
  const args = [bin, 'serve', '--root', root, '--listen', `127.0.0.1:${port}`, '--no-http', '--no-admin'];
  return startDaemon('ptftp serve', process.execPath, [...args, '--log-level', 'error'], port);
}

/** One lockstep download by atftp pinned to `clientCore`; resolves when it exits. */
function atftpPinned(port, remote, out, blksize, clientCore) {
  return new Promise((resolve) => {
    const args = ['-c', String(clientCore), binaries.atftp, '--option', `blksize ${blksize}`];
    args.push('-g', '-r', remote, '-l', out, '127.0.0.1', String(port));
    const child = spawn('taskset', args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/**
 * CPU seconds `server` spends to send `remote` (`size` bytes) at `blksize` in lockstep, best of
 * `runs`. Resolves { cpu, ms } or { error }.
 */
export async function serverCpuPerFile(server, { remote, out, size, blksize = 1468, runs = 2 }) {
  pin(server.pid, 1);
  let best;
  for (let run = 0; run < runs; run++) {
    try {
      unlinkSync(out);
    } catch {}
    const before = cpuSeconds(server.pid);
    const start = process.hrtime.bigint();
    const code = await atftpPinned(server.port, remote, out, blksize, 0);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpu = cpuSeconds(server.pid) - before;
    let got = -1;
    try {
      got = statSync(out).size;
    } catch {}
    if (code !== 0 || got !== size) return { error: `atftp exit ${code}, ${got} bytes` };
    if (!best || cpu < best.cpu) best = { cpu, ms };
  }
  return best;
}
