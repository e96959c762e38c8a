/**
 * `ptftp get` / `ptftp put`, run in-process against a real tftpd-hpa on loopback.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, lacking, type RunningPeer, startTftpdHpa } from '../../../test-support/peers.js';
import { captureIo } from '../src/io.js';
import { run } from '../src/program.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let serveRoot: string;
let uploadRoot: string;
let outDir: string;
let hpa: RunningPeer;
let hpaWrite: RunningPeer;
let url: (name: string) => string;
const firmware = randomBytes(300_000);
// Over the 1 MiB the CLI gathers into one write, and not a multiple of it.
const large = randomBytes(3 * 1024 * 1024 + 4321);
const config = '<device>\n  <loadInformation>SIP88xx</loadInformation>\n</device>\n';

const skip = lacking('inTftpd');

beforeAll(async () => {
  if (skip) return;
  serveRoot = await mkdtemp(join(tmpdir(), 'ptftp-get-serve-'));
  uploadRoot = await mkdtemp(join(tmpdir(), 'ptftp-get-up-'));
  outDir = await mkdtemp(join(tmpdir(), 'ptftp-get-out-'));
  // tftpd-hpa drops privileges to the "tftp" user: make the roots reachable for it.
  await chmod(serveRoot, 0o755);
  await chmod(uploadRoot, 0o777);
  await writeFile(join(serveRoot, 'fw.bin'), firmware, { mode: 0o644 });
  await writeFile(join(serveRoot, 'large.bin'), large, { mode: 0o644 });
  await writeFile(join(serveRoot, 'SEP001122334455.cnf.xml'), config, { mode: 0o644 });
  hpa = await startTftpdHpa({ root: serveRoot });
  hpaWrite = await startTftpdHpa({ root: uploadRoot, args: ['-c'] });
  url = (name) => `tftp://127.0.0.1:${hpa.port}/${name}`;
});

afterAll(async () => {
  await Promise.all([hpa?.stop(), hpaWrite?.stop()]);
  for (const d of [serveRoot, uploadRoot, outDir]) if (d) await rm(d, { recursive: true, force: true });
});

describe.skipIf(skip)('ptftp get', () => {
  it('downloads to -o FILE byte for byte, exit 0, no temporary file left', async () => {
    const io = captureIo();
    const out = join(outDir, 'fw.bin');
    const code = await run(['get', url('fw.bin'), '-o', out, '--blksize', '1468'], io);
    // One line on success: bytes, source, destination, time, rate and what was negotiated.
    expect(io.err).toMatch(
      new RegExp(
        `^received ${firmware.length} bytes from tftp://127\\.0\\.0\\.1:\\d+/fw\\.bin into ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in \\d+\\.\\d\\d s \\(\\d+\\.\\d MB/s\\); blksize 1468, windowsize 1\n$`,
      ),
    );
    expect(code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(firmware));
    expect((await readdir(outDir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('a file of several MiB (written by tftpGetFile in 1 MiB writes) arrives byte for byte at windowsize 16', async () => {
    const out = join(outDir, 'large.bin');
    const code = await run(
      ['get', url('large.bin'), '-o', out, '--blksize', '1468', '--windowsize', '16'],
      captureIo(),
    );
    expect(code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(large));
  });

  it('-o - writes the file to stdout', async () => {
    const io = captureIo();
    const code = await run(['get', url('SEP001122334455.cnf.xml'), '-o', '-'], io);
    expect(code).toBe(0);
    expect(io.out).toBe(config);
  });

  it('--netascii: RFC 1350 netascii download restores local line ends', async () => {
    const io = captureIo();
    const code = await run(['get', url('SEP001122334455.cnf.xml'), '-o', '-', '--netascii'], io);
    expect(code).toBe(0);
    expect(io.out).toBe(config);
  });

  it('a missing file: exit 1, one line "ptftp: file not found...", no output file and no temp file', async () => {
    const io = captureIo();
    const out = join(outDir, 'missing.bin');
    const code = await run(['get', url('missing.bin'), '-o', out], io);
    expect(code).toBe(1);
    expect(io.err).toMatch(/^ptftp: file not found: missing\.bin.*\n$/);
    expect(io.err.split('\n')).toHaveLength(2);
    expect((await readdir(outDir)).filter((f) => f.includes('missing'))).toEqual([]);
  });

  it('a failed download keeps an existing output file untouched', async () => {
    const out = join(outDir, 'keep.txt');
    await writeFile(out, 'old content');
    const code = await run(['get', url('nope'), '-o', out], captureIo());
    expect(code).toBe(1);
    expect(await readFile(out, 'utf8')).toBe('old content');
  });

  it('no server (a closed port): exit 1 at once, one line naming host and port', async () => {
    const port = await freeUdpPort('127.0.0.1');
    const io = captureIo();
    const out = join(outDir, 'dead.bin');
    const code = await run(
      ['get', `tftp://127.0.0.1:${port}/x`, '-o', out, '--rexmt', '3000', '--retries', '5'],
      io,
    );
    expect(code).toBe(1);
    // At once (ICMP port unreachable), not after 6 tries 3 s apart.
    expect(io.err).toBe(
      `ptftp: cannot reach 127.0.0.1:${port}: ECONNREFUSED (no TFTP server listens there)\n`,
    );
    expect((await readdir(outDir)).filter((f) => f.includes('dead'))).toEqual([]);
  });

  it('a bad URL is a usage error: exit 2, one line naming the URL', async () => {
    const io = captureIo();
    const code = await run(['get', 'http://127.0.0.1/x', '-o', join(outDir, 'u')], io);
    expect(code).toBe(2);
    expect(io.err).toBe('ptftp: url: expected tftp://host[:port]/file in "http://127.0.0.1/x"\n');
  });

  it('a bad option value is a usage error: exit 2, one line naming the flag and value', async () => {
    const io1 = captureIo();
    expect(await run(['get', url('fw.bin'), '-o', join(outDir, 'b'), '--blksize', 'big'], io1)).toBe(2);
    expect(io1.err).toBe('ptftp: --blksize: "big" is not a whole number\n');
    const io2 = captureIo();
    expect(await run(['get', url('fw.bin'), '-o', join(outDir, 'b'), '--blksize', '4'], io2)).toBe(2);
    expect(io2.err).toBe('ptftp: --blksize: 4 is out of range: allowed 8..65464\n');
  });

  it('-o naming an existing directory fails before any transfer and leaves nothing in its parent', async () => {
    const io = captureIo();
    const before = await readdir(tmpdir());
    const code = await run(['get', url('fw.bin'), '-o', outDir], io);
    expect(code).toBe(1);
    expect(io.err).toBe(`ptftp: -o ${outDir}: is a directory; give the file name to write\n`);
    const stray = (await readdir(tmpdir())).filter((f) => f.endsWith('.part') && !before.includes(f));
    expect(stray).toEqual([]);
  });

  it('-o in a missing folder names -o, not the temporary file', async () => {
    const io = captureIo();
    const out = join(outDir, 'no-such-folder', 'fw.bin');
    const code = await run(['get', url('fw.bin'), '-o', out], io);
    expect(code).toBe(1);
    expect(io.err).toBe(`ptftp: -o ${out}: folder ${join(outDir, 'no-such-folder')} does not exist\n`);
  });

  it('--help shows an example', async () => {
    const io = captureIo();
    expect(await run(['get', '--help'], io)).toBe(0);
    expect(io.out).toContain('$ ptftp get tftp://');
  });
});

describe.skipIf(skip)('ptftp put', () => {
  it('uploads a file to tftpd-hpa -c and the server stores the same bytes', async () => {
    const src = join(outDir, 'upload-src.bin');
    await writeFile(src, firmware);
    const io = captureIo();
    const code = await run(
      ['put', src, `tftp://127.0.0.1:${hpaWrite.port}/uploaded.bin`, '--blksize', '1428'],
      io,
    );
    expect(code).toBe(0);
    expect(io.err).toBe(`sent ${firmware.length} bytes to tftp://127.0.0.1:${hpaWrite.port}/uploaded.bin\n`);
    expect(sha256(await readFile(join(uploadRoot, 'uploaded.bin')))).toBe(sha256(firmware));
  });

  it('a missing local file: exit 1, one line', async () => {
    const io = captureIo();
    const code = await run(['put', join(outDir, 'nope.bin'), `tftp://127.0.0.1:${hpaWrite.port}/x`], io);
    expect(code).toBe(1);
    expect(io.err).toBe(`ptftp: cannot read ${join(outDir, 'nope.bin')}: no such file\n`);
  });
});
