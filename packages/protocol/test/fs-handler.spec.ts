import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAll } from '../src/content.js';
import { AccessViolationError, FileNotFoundError, IsDirectoryError } from '../src/errors.js';
import { createFsHandler, resolveSafePath } from '../src/fs-handler.js';
import type { ReadRequest, ReadResult } from '../src/handler.js';

const request = (filename: string): ReadRequest => ({
  filename,
  mode: 'octet',
  options: {},
  remote: { address: '127.0.0.1', port: 1, family: 'IPv4' },
  local: { address: '127.0.0.1', port: 69 },
  signal: new AbortController().signal,
});

async function bytesOf(result: ReadResult): Promise<Buffer> {
  if (result instanceof Uint8Array) return Buffer.from(result);
  if ('data' in result) return Buffer.from(result.data);
  if ('content' in result) {
    try {
      return Buffer.from(await readAll(result.content));
    } finally {
      result.content.release();
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of result.stream as Readable) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('resolveSafePath refuses every traversal form with AccessViolationError', () => {
  const root = '/srv/tftp';
  const corpus: Array<[string, string]> = [
    ['..', 'parent'],
    ['../', 'parent with slash'],
    ['../etc/passwd', 'parent path'],
    ['a/../../etc/passwd', 'parent after a folder'],
    ['a/..', 'trailing parent'],
    ['..\\etc\\passwd', 'backslash parent'],
    ['a\\b', 'backslash'],
    ['/etc/passwd', 'absolute'],
    ['//etc/passwd', 'double-slash absolute'],
    ['C:\\x', 'drive letter with backslash'],
    ['c:x', 'drive-relative'],
    ['%2e%2e/etc/passwd', 'url-encoded dots'],
    ['%2E%2E%2Fetc', 'url-encoded upper case'],
    ['..%2fetc', 'url-encoded slash'],
    ['....//etc/passwd', 'four dots and double slash'],
    ['.../x', 'three dots'],
    ['./x', 'current folder'],
    ['a//b', 'empty segment'],
    ['x\0.txt', 'NUL'],
    ['x\n.txt', 'LF'],
    ['x\x1b.txt', 'ESC'],
    ['x\x7f', 'DEL'],
    ['com1', 'device com1'],
    ['COM1.txt', 'device with extension'],
    ['nul.txt', 'nul with extension'],
    ['sub/aux', 'device in a folder'],
    ['lpt9', 'lpt9'],
    ['con', 'con'],
    ['x.', 'trailing dot (Windows drops it)'],
    ['.. ', 'dots and space'],
    ['a:b', 'alternate data stream'],
    ['a'.repeat(256), 'overlong name'],
    [`${'a/'.repeat(20)}x`, 'too deep'],
    ['', 'empty'],
  ];
  for (const [name, label] of corpus) {
    it(`refuses ${label}: ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name)}`, () => {
      let caught: unknown;
      try {
        resolveSafePath(root, name);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AccessViolationError);
      expect((caught as AccessViolationError).code).toBe('PTFTP_ERR_ACCESS_VIOLATION');
      expect((caught as AccessViolationError).tftpCode).toBe(2);
    });
  }

  it('accepts ordinary names and keeps them under the root', () => {
    expect(resolveSafePath(root, 'SEP001122334455.cnf.xml')).toBe('/srv/tftp/SEP001122334455.cnf.xml');
    expect(resolveSafePath(root, 'loads/P00308000500.sbn')).toBe('/srv/tftp/loads/P00308000500.sbn');
    expect(resolveSafePath(root, '.hidden')).toBe('/srv/tftp/.hidden');
    expect(resolveSafePath(root, 'a..b')).toBe('/srv/tftp/a..b');
  });
});

describe('createFsHandler', () => {
  let dir: string;
  let root: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ptftp-fs-'));
    root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'secret.txt'), 'SECRET');
    writeFileSync(path.join(root, 'a.txt'), 'version 1');
    writeFileSync(path.join(root, 'sub', 'b.txt'), 'bee');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'out-link'));
    symlinkSync(dir, path.join(root, 'out-dir'));
    symlinkSync(path.join(root, 'a.txt'), path.join(root, 'in-link'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves files and files in folders', async () => {
    const h = createFsHandler(root);
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('version 1');
    expect((await bytesOf(await h(request('sub/b.txt')))).toString()).toBe('bee');
  });

  it('refuses symlinks that lead out of the root (realpath check) with AccessViolationError', async () => {
    const h = createFsHandler(root);
    await expect(h(request('out-link'))).rejects.toBeInstanceOf(AccessViolationError);
    await expect(h(request('out-dir/secret.txt'))).rejects.toBeInstanceOf(AccessViolationError);
  });

  it('follows a symlink inside the root, unless followSymlinks is false', async () => {
    expect((await bytesOf(await createFsHandler(root)(request('in-link')))).toString()).toBe('version 1');
    await expect(createFsHandler(root, { followSymlinks: false })(request('in-link'))).rejects.toBeInstanceOf(
      AccessViolationError,
    );
  });

  it('missing files are FileNotFoundError (ERROR 1); a folder is ERROR 0 "Is a directory", as tftpd-hpa', async () => {
    const h = createFsHandler(root);
    await expect(h(request('missing.txt'))).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(h(request('a.txt/x'))).rejects.toBeInstanceOf(FileNotFoundError);
    const dirErr = await Promise.resolve(h(request('sub'))).catch((e: unknown) => e);
    expect(dirErr).toBeInstanceOf(IsDirectoryError);
    expect((dirErr as IsDirectoryError).tftpCode).toBe(0);
    expect((dirErr as IsDirectoryError).message).toBe('Is a directory');
  });

  it('a file replaced on disk (rename over it) is served in its new version without a restart', async () => {
    const h = createFsHandler(root);
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('version 1');
    writeFileSync(path.join(root, 'a.tmp'), 'version 2, longer');
    renameSync(path.join(root, 'a.tmp'), path.join(root, 'a.txt'));
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('version 2, longer');
  });

  it('a file rewritten in place with the same size and mtime is still re-read (ctime/inode in the key)', async () => {
    const h = createFsHandler(root);
    const file = path.join(root, 'a.txt');
    const first = await bytesOf(await h(request('a.txt')));
    writeFileSync(file, 'VERSION 1');
    utimesSync(file, new Date(0), new Date(0));
    const second = await bytesOf(await h(request('a.txt')));
    expect(first.toString()).toBe('version 1');
    expect(second.toString()).toBe('VERSION 1');
  });

  it('concurrent requests for one version share one buffer (a boot storm reads the file once)', async () => {
    const h = createFsHandler(root);
    const results = await Promise.all(Array.from({ length: 20 }, () => h(request('a.txt'))));
    expect(results).toHaveLength(20);
    const views = results.map((r) => ('content' in r ? r.content.peek(0, 9) : undefined));
    expect(views[0]?.byteLength).toBe(9);
    for (const v of views) expect(v?.buffer).toBe(views[0]!.buffer);
  });

  it('files over maxCachedFileBytes are read by offset from a shared descriptor, with their size', async () => {
    writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(5000, 7));
    const r = await createFsHandler(root, { maxCachedFileBytes: 1000 })(request('big.bin'));
    expect('content' in r && r.content.size).toBe(5000);
    expect(await bytesOf(r)).toEqual(Buffer.alloc(5000, 7));
  });

  it('a root that is itself a symlink serves its files and still refuses links out of it', async () => {
    const linked = path.join(dir, 'root-link');
    symlinkSync(root, linked);
    const h = createFsHandler(linked);
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('version 1');
    expect((await bytesOf(await h(request('in-link')))).toString()).toBe('version 1');
    await expect(h(request('out-link'))).rejects.toBeInstanceOf(AccessViolationError);
  });

  it('a root symlink repointed to another folder (a release switch) serves the new folder within a second', async () => {
    const v2 = path.join(dir, 'root-v2');
    mkdirSync(v2);
    writeFileSync(path.join(v2, 'a.txt'), 'release 2');
    const linked = path.join(dir, 'current');
    symlinkSync(root, linked);
    let clock = 5000;
    const h = createFsHandler(linked, { now: () => clock });
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('version 1');
    unlinkSync(linked);
    symlinkSync(v2, linked);
    // Within the second the root's real path is trusted (one lookup per second in a storm)...
    clock += 1000;
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('version 1');
    // ...and once it is over, the new folder is served.
    clock += 1;
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('release 2');
    await expect(h(request('sub/b.txt'))).rejects.toBeInstanceOf(FileNotFoundError);
  });

  it('a cached file swapped for a symlink out of the root is refused, not served from the cache', async () => {
    const h = createFsHandler(root);
    expect((await bytesOf(await h(request('a.txt')))).toString()).toBe('version 1');
    unlinkSync(path.join(root, 'a.txt'));
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'a.txt'));
    await expect(h(request('a.txt'))).rejects.toBeInstanceOf(AccessViolationError);
  });

  it('a FIFO is not a file: FileNotFoundError at once, no hang waiting for a writer', async () => {
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    const err = await Promise.resolve(createFsHandler(root)(request('pipe'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileNotFoundError);
  });

  it('leaves no file descriptor open, whatever the outcome (served, cached, refused, streamed)', async () => {
    writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(5000, 7));
    const fds = () => readdirSync('/proc/self/fd').length;
    const h = createFsHandler(root, { maxCachedFileBytes: 1000, idleMs: 10 });
    const before = fds();
    for (let i = 0; i < 20; i++) {
      await bytesOf(await h(request('a.txt')));
      await bytesOf(await h(request('sub/b.txt')));
      await expect(h(request('sub'))).rejects.toBeInstanceOf(IsDirectoryError);
      await expect(h(request('missing.txt'))).rejects.toBeInstanceOf(FileNotFoundError);
      await expect(h(request('out-link'))).rejects.toBeInstanceOf(AccessViolationError);
      expect((await bytesOf(await h(request('big.bin')))).length).toBe(5000);
      const abandoned = await h(request('big.bin'));
      if ('content' in abandoned) abandoned.content.release();
    }
    // A released descriptor lingers `idleMs` (here 10 ms) for the next reader, then closes.
    await vi.waitFor(() => expect(fds()).toBe(before));
  });
});
