/**
 * Child processes of a bench: start a TFTP daemon, wait until it answers, read its peak RSS,
 * and make sure every one is gone when the bench exits (normally, on error or on Ctrl-C).
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

const running = new Set();

function killAll() {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** An unused UDP port on 127.0.0.1 (bound, then released). */
export async function freeUdpPort() {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', resolve);
  });
  const { port } = sock.address();
  await new Promise((resolve) => sock.close(resolve));
  return port;
}

/** Resolves once something answers a TFTP RRQ on 127.0.0.1:port. */
export async function waitForTftp(port, timeoutMs = 5000) {
  const sock = dgram.createSocket('udp4');
  const rrq = Buffer.from('\x00\x01__ptftp_probe__\x00octet\x00', 'latin1');
  let tick;
  let deadline;
  try {
    await new Promise((resolve, reject) => {
      deadline = setTimeout(() => reject(new Error(`nothing answers TFTP on 127.0.0.1:${port}`)), timeoutMs);
      tick = setInterval(() => sock.send(rrq, port, '127.0.0.1'), 50);
      sock.on('message', resolve);
      sock.on('error', () => {});
      sock.send(rrq, port, '127.0.0.1');
    });
  } finally {
    clearTimeout(deadline);
    clearInterval(tick);
    sock.close();
  }
}

/** Start a daemon and wait for its TFTP port. Returns { pid, port, stop(), peakRssKiB() }. */
export async function startDaemon(name, cmd, args, port, { ready } = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const collect = (d) => {
    if (output.length < 4096) output += d;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const actualPort = await Promise.race([
      ready ? ready(child) : waitForTftp(port).then(() => port),
      exited.then((code) => {
        throw new Error(`${name} exited at start (${code}): ${output.trim().slice(0, 500)}`);
      }),
    ]);
    if (ready) await waitForTftp(actualPort);
    return {
      name,
      pid: child.pid,
      port: actualPort,
      /** Peak resident set of the process so far (VmHWM), in KiB. */
      peakRssKiB() {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          return m ? Number(m[1]) : undefined;
        } catch {
          return undefined;
        }
      },
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 2000);
          await exited;
          clearTimeout(t);
        }
        running.delete(child);
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    running.delete(child);
    throw err;
  }
}

/** Run a command to completion; resolves { code, stdout, stderr, ms }. */
export function runTimed(cmd, args, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr, ms });
    });
  });
}
