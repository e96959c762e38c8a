/**
 * Run the built `ptftp serve` binary (`node packages/cli/bin/ptftp.js serve ...`) on loopback
 * ports the OS picks, and read the addresses it announces. For tests that need the real
 * server as an operator runs it (build first: `npm run build`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PTFTP_BIN = fileURLToPath(new URL('../packages/cli/bin/ptftp.js', import.meta.url));
const DIST = fileURLToPath(new URL('../packages/cli/dist/bin.cjs', import.meta.url));

export interface ServedPtftp {
  readonly child: ChildProcess;
  /** The first TFTP address announced. */
  readonly tftp: { host: string; port: number };
  /** The first HTTP address announced, when HTTP was asked for. */
  readonly http: { host: string; port: number } | undefined;
  /** Everything written so far. */
  output(): string;
  stop(): Promise<void>;
}

function endpointOf(url: string): { host: string; port: number } {
  const u = new URL(url.replace(/^tftp:/, 'http:'));
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}

/**
 * Start `ptftp serve ARGS` and resolve once it announced its TFTP address (and its HTTP one
 * when `--http-listen` is among ARGS); rejects with its output when it exits or takes too long.
 *
 * @example
 * ```ts
 * const srv = await startPtftpServe(['--root', dir, '--listen', '127.0.0.1:0', '--no-admin']);
 * await tftpGet(srv.tftp, 'a.cfg');
 * await srv.stop();
 * ```
 */
export async function startPtftpServe(args: readonly string[], timeoutMs = 15_000): Promise<ServedPtftp> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run build first`);
  const child = spawn(process.execPath, [PTFTP_BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const wantHttp = args.includes('--http-listen');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const found = () => {
    const tftp = /listening on (tftp:\/\/\S+) \(TFTP\)/.exec(out)?.[1];
    const http = /listening on (http:\/\/\S+) \(HTTP\)/.exec(out)?.[1];
    return tftp && (!wantHttp || http) ? { tftp, http } : undefined;
  };
  const urls = await new Promise<{ tftp: string; http: string | undefined }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ptftp serve did not announce its addresses in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = (d: Buffer) => {
      out += d;
      const f = found();
      if (f) {
        clearTimeout(timer);
        resolve(f);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ptftp serve exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    child,
    tftp: endpointOf(urls.tftp),
    http: urls.http ? endpointOf(urls.http) : undefined,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
