/**
 * `ptftp get` and `ptftp put`: fetch a file from (or send one to) any TFTP server, with the
 * options a field engineer needs to probe a server (block size, window, timeouts).
 */
import { createReadStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
// The client entry alone: `get` does not load the server, content handles or node:crypto.
import {
  InvalidArgumentError,
  isPtftpError,
  parseTftpUrl,
  type TftpNegotiated,
  type TftpTransferOptions,
  tftpGetFile,
  tftpGetStream,
  tftpPut,
} from '@ptftp/protocol/client';
import type { Command } from 'commander';
import { CliError, type CliIo, defaultIo } from '../io.js';

interface TransferFlags {
  blksize?: string;
  windowsize?: string;
  timeout?: string;
  retries?: string;
  rexmt?: string;
  netascii?: boolean;
}

/** Parse a whole decimal number, or fail as a usage error naming the flag and the value. */
function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) throw new CliError(`${flag}: "${value}" is not a whole number`, 2);
  return Number(value);
}

function transferOptions(flags: TransferFlags, forUpload: boolean): TftpTransferOptions {
  // One transfer at a time: a closed port can fail at once (see detectClosedPort).
  const opts: TftpTransferOptions = { mode: flags.netascii ? 'netascii' : 'octet', detectClosedPort: true };
  const blksize = integer('--blksize', flags.blksize);
  const windowsize = integer('--windowsize', flags.windowsize);
  const timeout = integer('--timeout', flags.timeout);
  const retries = integer('--retries', flags.retries);
  const rexmt = integer('--rexmt', flags.rexmt);
  if (blksize !== undefined) opts.blksize = blksize;
  if (windowsize !== undefined && !forUpload) opts.windowsize = windowsize;
  if (timeout !== undefined) opts.timeout = timeout;
  if (retries !== undefined) opts.retries = retries;
  if (rexmt !== undefined) opts.retransmitTimeoutMs = rexmt;
  return opts;
}

/** The flag that sets each client option, so that a range error names what the user typed. */
const FLAGS: Readonly<Record<string, string>> = {
  blksize: '--blksize',
  windowsize: '--windowsize',
  timeout: '--timeout',
  retries: '--retries',
  retransmitTimeoutMs: '--rexmt',
};

/** Library errors become one line; bad arguments are usage errors (exit 2). */
function cliErrorFrom(err: unknown): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof InvalidArgumentError) {
    const flag = FLAGS[err.field];
    return new CliError(flag ? `${flag}${err.message.slice(err.field.length)}` : err.message, 2);
  }
  if (isPtftpError(err)) return new CliError(err.message, 1);
  if (err instanceof Error && 'code' in err && typeof err.code === 'string')
    return new CliError(`${err.message}`, 1); // fs errors (ENOENT, EACCES...) already name the path
  return err;
}

function parseUrl(url: string) {
  try {
    return parseTftpUrl(url);
  } catch (err) {
    throw cliErrorFrom(err);
  }
}

/** A progress bar on stderr, only for a person watching a terminal (loaded only then). */
async function progressBar(io: CliIo) {
  if (!io.isTTY) return undefined;
  const { default: cliProgress } = await import('cli-progress');
  let bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
  return {
    update(bytes: number, total: number | undefined) {
      if (!bar) {
        bar = new cliProgress.SingleBar({
          stream: process.stderr,
          format:
            total === undefined
              ? '{value} bytes | {duration_formatted}'
              : '[{bar}] {percentage}% | {value}/{total} bytes | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: true,
        });
        bar.start(total ?? 0, 0);
      }
      bar.update(bytes);
    },
    stop() {
      bar?.stop();
    },
  };
}

async function download(url: string, output: string | undefined, flags: TransferFlags, io: CliIo) {
  const { host, port, filename } = parseUrl(url);
  const opts = transferOptions(flags, false);
  const bar = await progressBar(io);
  let bytes = 0;
  // Called per block: only when someone watches a bar (the byte count comes from the result).
  if (bar) opts.onProgress = (done, total) => bar.update(done, total);
  let negotiated: TftpNegotiated | undefined;
  opts.onNegotiated = (info) => {
    negotiated = info;
  };
  // process.hrtime rather than performance.now(): the latter loads perf_hooks on first use.
  const started = process.hrtime.bigint();
  const target = output ?? basename(filename);
  try {
    if (target === '-') {
      // node:stream is loaded only here: `get -o FILE` never needs it.
      const [{ Writable }, { pipeline }] = await Promise.all([
        import('node:stream'),
        import('node:stream/promises'),
      ]);
      opts.onProgress = (done, total) => {
        bytes = done;
        bar?.update(done, total);
      };
      const { stream } = await tftpGetStream({ host, port }, filename, opts);
      // CliIo carries text; the real stdout takes the bytes unchanged.
      const sink =
        io === defaultIo
          ? process.stdout
          : new Writable({
              write(chunk: Buffer, _enc, cb) {
                io.stdout(chunk.toString('latin1'));
                cb();
              },
            });
      await pipeline(stream, sink, { end: io !== defaultIo });
    } else {
      await checkOutput(target);
      // Written beside the target and renamed on success: a failed transfer leaves nothing
      // behind (tftpGetFile removes its file), and an existing file is replaced only by a
      // complete one. 'wx' refuses a name that exists, so the suffix need not be unguessable.
      const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
      const temp = join(dirname(target), `.${basename(target)}.${suffix}.part`);
      // The library writes 1 MiB at a time, straight from the blocks: no stream in between.
      ({ bytes } = await tftpGetFile({ host, port }, filename, temp, { ...opts, flags: 'wx' }));
      try {
        await rename(temp, target);
      } catch (err) {
        await unlink(temp).catch(() => {});
        throw err;
      }
    }
  } finally {
    bar?.stop();
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  io.stderr(`${summaryLine(bytes, ms, url, target, negotiated)}\n`);
}

/** What a finished download says on stderr: size, time, rate and what was negotiated. */
export function summaryLine(
  bytes: number,
  ms: number,
  url: string,
  target: string,
  negotiated: TftpNegotiated | undefined,
): string {
  const seconds = ms / 1000;
  const rate = seconds > 0 ? ` (${(bytes / 1e6 / seconds).toFixed(1)} MB/s)` : '';
  const to = target === '-' ? 'stdout' : target;
  const how = negotiated ? `; blksize ${negotiated.blksize}, windowsize ${negotiated.windowsize}` : '';
  return `received ${bytes} bytes from ${url} into ${to} in ${seconds.toFixed(2)} s${rate}${how}`;
}

/**
 * Refuse an output the transfer could never be renamed onto, before asking the server: a
 * directory (the temporary file would land beside it, in its parent) or a missing folder
 * (the error would name the hidden temporary file, not -o).
 */
async function checkOutput(target: string): Promise<void> {
  const kind = async (path: string) => {
    try {
      return (await stat(path)).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'missing';
    }
  };
  if ((await kind(target)) === 'dir') {
    throw new CliError(`-o ${target}: is a directory; give the file name to write`);
  }
  if ((await kind(dirname(target))) !== 'dir') {
    throw new CliError(`-o ${target}: folder ${dirname(target)} does not exist`);
  }
}

async function upload(file: string, url: string, flags: TransferFlags, io: CliIo) {
  const { host, port, filename } = parseUrl(url);
  const opts = transferOptions(flags, true);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  const bar = await progressBar(io);
  if (bar) opts.onProgress = bar.update;
  try {
    const { bytes } = await tftpPut({ host, port }, filename, createReadStream(file), { ...opts, size });
    io.stderr(`sent ${bytes} bytes to ${url}\n`);
  } finally {
    bar?.stop();
  }
}

function transferFlags(cmd: Command, withWindow: boolean): Command {
  cmd
    .option('--blksize <bytes>', 'RFC 2348 block size to ask for (8..65464)')
    .option('--timeout <seconds>', 'RFC 2349 timeout option, also the retransmit timeout (1..255)')
    .option('--rexmt <ms>', 'retransmit timeout in milliseconds (default 1000, or --timeout)')
    .option('--retries <n>', 'retransmissions before giving up (default 5)')
    .option('--netascii', 'netascii mode: translate line ends (default octet)');
  if (withWindow) cmd.option('--windowsize <blocks>', 'RFC 7440 window size to ask for (1..65535)');
  return cmd;
}

export function register(program: Command, io: CliIo): void {
  transferFlags(
    program
      .command('get')
      .description('Download a file from a TFTP server')
      .argument('<url>', 'tftp://HOST[:PORT]/NAME (IPv6: tftp://[::1]:6969/NAME)')
      .option('-o, --output <file>', 'where to write ("-" for stdout; default: the remote base name)'),
    true,
  )
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp get tftp://10.0.0.5/SEP001122334455.cnf.xml -o phone.xml
  $ ptftp get tftp://[::1]:6969/firmware.bin -o fw.bin --blksize 1468 --windowsize 16
  $ ptftp get tftp://10.0.0.5/XMLDefault.cnf.xml -o - --netascii | head

The file is written to a temporary name and renamed when complete; on any error
nothing is left behind and the exit code is non-zero (2 for a bad argument).`,
    )
    .action(async (url: string, flags: TransferFlags & { output?: string }) => {
      try {
        await download(url, flags.output, flags, io);
      } catch (err) {
        throw cliErrorFrom(err);
      }
    });

  transferFlags(
    program
      .command('put')
      .description('Upload a file to a TFTP server (the server must allow writes)')
      .argument('<file>', 'local file to send')
      .argument('<url>', 'tftp://HOST[:PORT]/NAME'),
    false,
  )
    .addHelpText(
      'after',
      `
Example:
  $ ptftp put ./SEP001122334455.cnf.xml tftp://127.0.0.1:6969/SEP001122334455.cnf.xml --blksize 1468`,
    )
    .action(async (file: string, url: string, flags: TransferFlags) => {
      try {
        await upload(file, url, flags, io);
      } catch (err) {
        throw cliErrorFrom(err);
      }
    });
}
