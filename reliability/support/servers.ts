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

/**
 * Every simulated phone here talks from 127.0.0.1 (or through a lossy link's one address), so
 * the per-source limits that are on by default would measure themselves instead of what a
 * check is about. They are lifted unless a check sets them (amplification.spec tests them).
 */
const ONE_ADDRESS_FOR_ALL_PHONES = {
  maxSessionsPerSource: Number.POSITIVE_INFINITY,
  newSessionsPerSecondPerSource: Number.POSITIVE_INFINITY,
} as const;

/** Serve `files` (name to bytes) with the real server; unknown names get ERROR 1. */
export async function startMapServer(
  files: ReadonlyMap<string, Uint8Array>,
  opts: Omit<TftpServerOptions, 'handler'> = {},
  host = '127.0.0.1',
): Promise<RunningServer> {
  const server = createServer({
    ...ONE_ADDRESS_FOR_ALL_PHONES,
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
