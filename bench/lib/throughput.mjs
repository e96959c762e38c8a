/**
 * One timed download of a big file, by the C client (atftp) or by our Node client, checked
 * for size (atftp) or SHA-256 (ours) so that a fast but wrong transfer never counts.
 */
import { createHash } from 'node:crypto';
import { statSync, unlinkSync } from 'node:fs';
import { tftpGet } from '@ptftp/protocol';
import { binaries } from './peers.mjs';
import { runTimed } from './processes.mjs';

export const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** atftp -g with blksize (and windowsize when > 1). Resolves MB/s, or an error string. */
export async function atftpGet(port, remote, out, size, blksize, windowsize) {
  const args = ['--option', `blksize ${blksize}`];
  if (windowsize > 1) args.push('--option', `windowsize ${windowsize}`);
  args.push('-g', '-r', remote, '-l', out, '127.0.0.1', String(port));
  try {
    unlinkSync(out);
  } catch {}
  // atftp gives up badly on heavy loss (it keeps the kernel's default receive buffer): cap it.
  const r = await runTimed(binaries.atftp, args, 30_000);
  let got = -1;
  try {
    got = statSync(out).size;
  } catch {}
  try {
    unlinkSync(out);
  } catch {}
  if (r.code !== 0 || got !== size)
    return {
      error:
        r.code === null
          ? `atftp stalled (killed after 30 s, ${got} bytes)`
          : `atftp exit ${r.code}, ${got} bytes`,
    };
  return { mbps: size / 1e6 / (r.ms / 1000), ms: r.ms };
}

/** Our client into one Buffer. Resolves MB/s and the window the server granted. */
export async function nodeGet(port, remote, expectedSha, blksize, windowsize) {
  let granted;
  const start = process.hrtime.bigint();
  try {
    const data = await tftpGet({ host: '127.0.0.1', port }, remote, {
      blksize,
      windowsize: windowsize > 1 ? windowsize : undefined,
      retransmitTimeoutMs: 1000,
      onNegotiated: (info) => {
        granted = info;
      },
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (sha256(data) !== expectedSha) return { error: 'wrong bytes' };
    return { mbps: data.length / 1e6 / (ms / 1000), ms, granted };
  } catch (err) {
    return { error: `${err.code ?? ''} ${err.message}`.trim() };
  }
}
