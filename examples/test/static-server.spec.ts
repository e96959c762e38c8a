import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freeUdpPort, lacking, peers, runCommand } from '../../test-support/peers.js';
import { main, type StaticServerHandle, writeSampleFiles } from '../static-server.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('examples/static-server.ts', () => {
  let handle: StaticServerHandle | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('serves every sample file byte for byte (SHA-256) over TFTP, with and without blksize', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ptftp-ex-static-'));
    dirs.push(root);
    const files = await writeSampleFiles(root);
    const port = await freeUdpPort();
    handle = await main({ root, listen: [`127.0.0.1:${port}`] });
    expect(handle.addresses[0]?.port).toBe(port);

    for (const [name, data] of Object.entries(files)) {
      const got = await tftpGet({ host: '127.0.0.1', port }, name);
      expect(sha256(got), name).toBe(sha256(data));
    }
    const big = await tftpGet({ host: '127.0.0.1', port }, 'loads/sample.bin', {
      blksize: 1468,
      windowsize: 8,
    });
    expect(big.byteLength).toBe(100 * 1024);
    expect(sha256(big)).toBe(sha256(files['loads/sample.bin']!));
    // The server counts a transfer when the last ACK arrives, just after the client has its bytes.
    const want = Object.keys(files).length + 1;
    await vi.waitFor(() => expect(handle!.completed).toBe(want), { timeout: 2000, interval: 20 });
  });

  it('listens on IPv4 and IPv6 loopback at once, serving the same bytes on both', async (ctx) => {
    let v6Port: number;
    try {
      v6Port = await freeUdpPort('::1');
    } catch {
      ctx.skip(); // no IPv6 loopback in this container
      return;
    }
    const root = await mkdtemp(join(tmpdir(), 'ptftp-ex-static-'));
    dirs.push(root);
    const files = await writeSampleFiles(root);
    const v4Port = await freeUdpPort();
    handle = await main({ root, listen: [`127.0.0.1:${v4Port}`, `[::1]:${v6Port}`] });
    expect(handle.addresses.map((a) => a.family).sort()).toEqual(['IPv4', 'IPv6']);
    const want = sha256(files['SEP001122334455.cnf.xml']!);
    expect(sha256(await tftpGet({ host: '127.0.0.1', port: v4Port }, 'SEP001122334455.cnf.xml'))).toBe(want);
    expect(sha256(await tftpGet({ host: '::1', port: v6Port }, 'SEP001122334455.cnf.xml'))).toBe(want);
  });

  it('with no root, creates its own sample folder and removes it on close', async () => {
    const port = await freeUdpPort();
    handle = await main({ listen: [`127.0.0.1:${port}`] });
    const { root } = handle;
    expect(existsSync(join(root, 'RingList.xml'))).toBe(true);
    const got = await tftpGet({ host: '127.0.0.1', port }, 'RingList.xml');
    expect(got.toString()).toBe('<CiscoIPPhoneRingList></CiscoIPPhoneRingList>\n');
    await handle.close();
    handle = undefined;
    expect(existsSync(root)).toBe(false);
  });

  it('answers a missing file with TFTP error 1 and a name leaving the root with an error, never its bytes', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'ptftp-ex-static-'));
    dirs.push(parent);
    const root = join(parent, 'root');
    await writeSampleFiles(root);
    await writeFile(join(parent, 'secret.txt'), 'not for phones');
    const port = await freeUdpPort();
    handle = await main({ root, listen: [`127.0.0.1:${port}`] });

    await expect(
      tftpGet({ host: '127.0.0.1', port }, 'SEPFFFFFFFFFFFF.cnf.xml', { retries: 1 }),
    ).rejects.toMatchObject({
      code: 'PTFTP_ERR_NOT_FOUND',
    });
    const escaped = await tftpGet({ host: '127.0.0.1', port }, '../secret.txt', { retries: 1 }).then(
      () => 'served',
      (err: { code?: string }) => err.code,
    );
    expect(['PTFTP_ERR_ACCESS_VIOLATION', 'PTFTP_ERR_NOT_FOUND']).toContain(escaped);
  });

  it.skipIf(lacking('curl'))('interoperates with curl (an independent TFTP client)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ptftp-ex-static-'));
    dirs.push(root);
    const files = await writeSampleFiles(root);
    const port = await freeUdpPort();
    handle = await main({ root, listen: [`127.0.0.1:${port}`] });
    const out = join(root, 'curl-out.bin');
    const r = await runCommand(peers.curl, ['-sS', '-o', out, `tftp://127.0.0.1:${port}/loads/sample.bin`]);
    expect(r.code, r.stderr).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(files['loads/sample.bin']!));
  });
});
