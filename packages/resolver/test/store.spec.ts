import { mkdir, mkdtemp, open, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAll } from '@ptftp/protocol/internal';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FolderStore, MemoryStore } from '../src/index.js';
import { runStoreCompliance } from '../src/testing/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ptftp-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function seedFolder(files: Record<string, Uint8Array>): Promise<string> {
  const root = await tempDir();
  for (const [name, data] of Object.entries(files)) {
    const full = path.join(root, ...name.split('/'));
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, data);
  }
  return root;
}

runStoreCompliance('MemoryStore', (files) => ({ store: new MemoryStore(files) }), { describe, it, expect });

runStoreCompliance(
  'FolderStore',
  async (files) => {
    const store = new FolderStore(await seedFolder(files));
    return { store };
  },
  { describe, it, expect },
);

runStoreCompliance(
  'FolderStore without content cache',
  async (files) => ({ store: new FolderStore(await seedFolder(files), { cacheBytes: 0 }) }),
  { describe, it, expect },
);

describe('FolderStore', () => {
  it('non-configuration files replaced in the TFTP directory are served at once, without a restart', async () => {
    const root = await seedFolder({ 'RingList.xml': new TextEncoder().encode('<old/>') });
    const store = new FolderStore(root);
    const before = await store.get('RingList.xml');
    expect(Buffer.from(before!.data!).toString()).toBe('<old/>');

    // Replaced by an atomic rename (how most upload tools write).
    await writeFile(path.join(root, 'upload.tmp'), '<new and longer/>');
    await rename(path.join(root, 'upload.tmp'), path.join(root, 'RingList.xml'));
    const afterRename = await store.get('RingList.xml');
    expect(Buffer.from(afterRename!.data!).toString()).toBe('<new and longer/>');
    expect(afterRename!.version).not.toBe(before!.version);

    // Rewritten in place (cp over the old file).
    await writeFile(path.join(root, 'RingList.xml'), '<third/>');
    expect(Buffer.from((await store.get('RingList.xml'))!.data!).toString()).toBe('<third/>');
  });

  it('traversal is refused with an access violation naming the reason (tftp.md "Security")', async () => {
    const root = await seedFolder({ 'a/b.xml': new Uint8Array([1]) });
    const store = new FolderStore(root);
    const cases: Array<[string, string]> = [
      ['../etc/passwd', 'access violation: "../etc/passwd" has a dot or hidden path segment'],
      ['a/../../x', 'access violation: "a/../../x" has a dot or hidden path segment'],
      ['..\\x', 'access violation: "..\\\\x" contains a backslash'],
      ['C:/Windows/win.ini', 'access violation: "C:/Windows/win.ini" names a drive'],
      ['%2e%2e/x', 'access violation: "%2e%2e/x" contains a percent-encoded byte'],
      ['a//b.xml', 'access violation: "a//b.xml" has an empty path segment'],
      ['com1', 'access violation: "com1" names a device'],
      ['a/nul.txt', 'access violation: "a/nul.txt" names a device'],
      ['x\u0000y', 'access violation: "x\\u0000y" contains a control character'],
    ];
    for (const [name, message] of cases) {
      const err = await store.get(name).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PTFTP_ERR_ACCESS_VIOLATION', message });
    }
    // A leading slash is just the root.
    expect((await store.get('/a/b.xml'))?.size).toBe(1);
  });

  it('a symbolic link that leads out of the root is refused with ERROR 2 (unless explicitly allowed)', async () => {
    const outside = await seedFolder({ 'secret.txt': new TextEncoder().encode('secret') });
    const root = await seedFolder({});
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'));
    await expect(new FolderStore(root).get('link.txt')).rejects.toMatchObject({
      code: 'PTFTP_ERR_ACCESS_VIOLATION',
      tftpCode: 2,
    });
    const allowed = await new FolderStore(root, { followSymlinksOutside: true }).get('link.txt');
    expect(Buffer.from(allowed!.data!).toString()).toBe('secret');
  });

  it('a cached file swapped for a symbolic link out of the root is no longer served', async () => {
    const outside = await seedFolder({ 'secret.txt': new TextEncoder().encode('secret') });
    const root = await seedFolder({ 'SEP001122334455.cnf.xml': new TextEncoder().encode('<device/>') });
    const store = new FolderStore(root);
    expect(Buffer.from((await store.get('SEP001122334455.cnf.xml'))!.data!).toString()).toBe('<device/>');
    await unlink(path.join(root, 'SEP001122334455.cnf.xml'));
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'SEP001122334455.cnf.xml'));
    await expect(store.get('SEP001122334455.cnf.xml')).rejects.toMatchObject({
      code: 'PTFTP_ERR_ACCESS_VIOLATION',
    });
  });

  it('a directory is ERROR 0 "Is a directory" (as tftpd-hpa), not "not found"; hidden temporary files of put are not listed', async () => {
    const root = await seedFolder({ 'Desktops/a.png': new Uint8Array([1, 2]) });
    const store = new FolderStore(root);
    await expect(store.get('Desktops')).rejects.toMatchObject({
      code: 'PTFTP_ERR_IS_DIRECTORY',
      tftpCode: 0,
      message: 'Is a directory',
    });
    await writeFile(path.join(root, '.partial.tmp'), 'x');
    expect(await store.list()).toEqual(['Desktops/a.png']);
  });
});

describe('FolderStore on the shared safe-folder core', () => {
  it('a large file comes as a content handle read by offset, never as a whole buffer', async () => {
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const root = await seedFolder({ 'image.loads': big });
    const store = new FolderStore(root);
    const entry = await store.get('image.loads');
    expect(entry?.size).toBe(big.length);
    expect(entry?.data).toBeUndefined();
    expect(entry?.version).toMatch(/^[0-9a-f]{32}$/);
    const tail = await entry!.content!.read(big.length - 100, 100);
    expect(Buffer.from(tail).equals(Buffer.from(big.subarray(big.length - 100)))).toBe(true);
    expect(Buffer.from(await readAll(entry!.content!)).equals(Buffer.from(big))).toBe(true);
    const again = await store.get('image.loads');
    expect(store.stats.openFiles).toBe(1);
    entry!.content!.release();
    again!.content!.release();
  });

  it('40 concurrent gets of a 100 MB file share one descriptor and load nothing whole (RSS grows < 32 MiB)', async () => {
    const root = await seedFolder({});
    const tail = new TextEncoder().encode('end of the firmware image');
    const size = 100_000_000;
    // Sparse: written only at the end, so the test costs no disk.
    await writeFile(path.join(root, 'P0030801SR01.loads'), new Uint8Array(0));
    const fh = await open(path.join(root, 'P0030801SR01.loads'), 'r+');
    await fh.write(tail, 0, tail.length, size - tail.length);
    await fh.close();
    const store = new FolderStore(root);
    const before = process.memoryUsage().rss;
    const entries = await Promise.all(Array.from({ length: 40 }, () => store.get('P0030801SR01.loads')));
    expect(entries).toHaveLength(40);
    for (const e of entries) {
      expect(e?.size).toBe(size);
      expect(e?.data).toBeUndefined();
      const end = await e!.content!.read(size - tail.length, tail.length);
      expect(Buffer.from(end).equals(Buffer.from(tail))).toBe(true);
    }
    expect(store.stats.openFiles).toBe(1);
    expect(process.memoryUsage().rss - before).toBeLessThan(32 * 1024 * 1024);
    for (const e of entries) e!.content!.release();
  });

  it('descriptors exhausted: get throws ServerBusyError (ERROR 0), it does not resolve undefined', async () => {
    const root = await seedFolder({ 'a.bin': new Uint8Array(300_000), 'b.bin': new Uint8Array(300_001) });
    const store = new FolderStore(root, { maxOpenFiles: 1 });
    const a = await store.get('a.bin');
    await expect(store.get('b.bin')).rejects.toMatchObject({ code: 'PTFTP_ERR_BUSY', tftpCode: 0 });
    a!.content!.release();
  });

  it('a root that is a symlink repointed to another folder serves the new folder within a second', async () => {
    const v1 = await seedFolder({ 'SEP001122334455.cnf.xml': new TextEncoder().encode('v1') });
    const v2 = await seedFolder({ 'SEP001122334455.cnf.xml': new TextEncoder().encode('v2 longer') });
    const parent = await seedFolder({});
    const link = path.join(parent, 'current');
    await symlink(v1, link);
    const store = new FolderStore(link);
    expect(Buffer.from((await store.get('SEP001122334455.cnf.xml'))!.data!).toString()).toBe('v1');
    await symlink(v2, `${link}.new`);
    await rename(`${link}.new`, link);
    await vi.waitFor(
      async () =>
        expect(Buffer.from((await store.get('SEP001122334455.cnf.xml'))!.data!).toString()).toBe('v2 longer'),
      { timeout: 3000, interval: 100 },
    );
  });
});
