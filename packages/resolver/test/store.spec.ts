import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

  it('a symbolic link that leads out of the root is not served (unless explicitly allowed)', async () => {
    const outside = await seedFolder({ 'secret.txt': new TextEncoder().encode('secret') });
    const root = await seedFolder({});
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'));
    expect(await new FolderStore(root).get('link.txt')).toBeUndefined();
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
    expect(await store.get('SEP001122334455.cnf.xml')).toBeUndefined();
  });

  it('a directory is not a file, and hidden temporary files of put are not listed', async () => {
    const root = await seedFolder({ 'Desktops/a.png': new Uint8Array([1, 2]) });
    const store = new FolderStore(root);
    expect(await store.get('Desktops')).toBeUndefined();
    await writeFile(path.join(root, '.partial.tmp'), 'x');
    expect(await store.list()).toEqual(['Desktops/a.png']);
  });
});
