/**
 * Servers the reliability checks run against: the real @ptftp/protocol server on loopback,
 * serving files from a map (a boot-storm fixture) or a folder.
 */
import { createServer, FileNotFoundError, type TftpServer, type TftpServerOptions } from '@ptftp/protocol';

export interface RunningServer {
  readonly server: TftpServer;
  readonly target: { address: string; port: number };
  close(graceMs?: number): Promise<void>;
}

/** Serve `files` (name to bytes) with the real server; unknown names get ERROR 1. */
export async function startMapServer(
  files: ReadonlyMap<string, Uint8Array>,
  opts: Omit<TftpServerOptions, 'handler'> = {},
  host = '127.0.0.1',
): Promise<RunningServer> {
  const server = createServer({
    ...opts,
    handler: ({ filename }) => {
      const data = files.get(filename);
      if (!data) throw new FileNotFoundError(filename);
      return data;
    },
  });
  const [bound] = await server.listen([host.includes(':') ? `[${host}]:0` : `${host}:0`]);
  return {
    server,
    target: { address: host, port: bound!.port },
    close: (graceMs = 0) => server.close({ graceMs }),
  };
}

/** Wait (bounded) until `done` holds; the caller's assertions then say what went wrong. */
export async function settle(done: () => boolean, maxMs = 10_000): Promise<void> {
  for (let waited = 0; waited < maxMs && !done(); waited += 20) await new Promise((r) => setTimeout(r, 20));
}
