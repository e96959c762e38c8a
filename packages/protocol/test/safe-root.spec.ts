import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Content } from '../src/content.js';
import { ContentBlockSource } from '../src/content-block-source.js';
import { AccessViolationError, IsDirectoryError, ServerBusyError } from '../src/errors.js';
import { fsErrorToTftp } from '../src/fs-errors.js';
import { SafeRoot } from '../src/safe-root.js';
import { pattern } from './support/server-fixture.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ptftp-safe-root-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('SafeRoot: one shared descriptor per version, read by offset', () => {
  it('20 concurrent readers of one large file share one descriptor and one disk read per chunk', async () => {
    const data = pattern(1 << 20);
    writeFileSync(path.join(dir, 'image.bin'), data);
    const root = new SafeRoot(dir, { idleMs: 0 });
    const first = await root.open('image.bin');
    const others = await Promise.all(Array.from({ length: 19 }, () => root.open('image.bin')));
    expect(root.files.openFiles).toBe(1);
    // Nothing loads a large file whole: no view of the whole file exists.
    expect(first.peek(0, data.length)).toBeUndefined();
    const reads = await Promise.all([first, ...others].map((c) => c.read(65536, 65536)));
    expect(reads).toHaveLength(20);
    for (const r of reads) expect(sha(r)).toBe(sha(data.subarray(65536, 131072)));
    expect(root.files.diskReads).toBe(1);
    // A block inside that chunk is now a view of shared memory, no copy, no read.
    expect(first.peek(70000, 1468)?.buffer).toBe(reads[0]!.buffer);
    for (const c of [first, ...others]) c.release();
    expect(root.files.openFiles).toBe(0);
  });

  it('a file replaced on disk gets a new handle; the old one keeps serving its own version until released', async () => {
    const file = path.join(dir, 'image.bin');
    writeFileSync(file, pattern(400_000));
    const root = new SafeRoot(dir, { idleMs: 0 });
    const before = await root.open('image.bin');
    writeFileSync(`${file}.new`, Buffer.alloc(400_000, 9));
    renameSync(`${file}.new`, file);
    const after = await root.open('image.bin');
    expect(after).not.toBe(before);
    expect(after.version).not.toBe(before.version);
    expect(root.files.openFiles).toBe(2);
    expect(sha(await before.read(0, 1000))).toBe(sha(pattern(1000)));
    expect(sha(await after.read(0, 1000))).toBe(sha(Buffer.alloc(1000, 9)));
    before.release();
    after.release();
    expect(root.files.openFiles).toBe(0);
  });

  it('version tags never show the inode: SHA-256 of the bytes for small files, a keyed hash for large ones', async () => {
    writeFileSync(path.join(dir, 'small.xml'), '<device/>');
    writeFileSync(path.join(dir, 'large.bin'), pattern(300_000));
    const root = new SafeRoot(dir);
    const small = await root.open('small.xml');
    const large = await root.open('large.bin');
    expect(small.version).toBe(sha(Buffer.from('<device/>')).slice(0, 32));
    const ino = String(statSync(path.join(dir, 'large.bin')).ino);
    expect(large.version).toMatch(/^[0-9a-f]{32}$/);
    expect(large.version).not.toContain(ino);
    expect(small.version).not.toContain(String(statSync(path.join(dir, 'small.xml')).ino));
    large.release();
  });

  it('a full descriptor table is ServerBusyError (ERROR 0 "server busy"), and frees up when a reader leaves', async () => {
    writeFileSync(path.join(dir, 'a.bin'), pattern(300_000));
    writeFileSync(path.join(dir, 'b.bin'), pattern(300_001));
    const root = new SafeRoot(dir, { maxOpenFiles: 1, idleMs: 60_000 });
    const a = await root.open('a.bin');
    const err = await root.open('b.bin').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerBusyError);
    expect((err as ServerBusyError).tftpCode).toBe(0);
    expect((err as ServerBusyError).message).toBe('server busy');
    a.release();
    // a.bin is idle now: it gives its descriptor up for b.bin.
    const b = await root.open('b.bin');
    expect(b.size).toBe(300_001);
    expect(root.files.openFiles).toBe(1);
    b.release();
    root.close();
    expect(root.files.openFiles).toBe(0);
  });

  it('a real EMFILE (ulimit -n) is ServerBusyError "server busy", not "not found"', () => {
    for (let i = 0; i < 80; i++) writeFileSync(path.join(dir, `f${i}.bin`), Buffer.alloc(300_000));
    const src = fileURLToPath(new URL('../src/safe-root.ts', import.meta.url));
    const script = path.join(dir, 'probe.mts');
    writeFileSync(
      script,
      `import { SafeRoot } from ${JSON.stringify(src)};
const root = new SafeRoot(${JSON.stringify(dir)});
const held = [];
try {
  for (let i = 0; i < 80; i++) held.push(await root.open('f' + i + '.bin'));
  console.log(JSON.stringify({ held: held.length }));
} catch (err) {
  console.log(JSON.stringify({ code: err.code, tftpCode: err.tftpCode, message: err.message, held: held.length }));
}`,
    );
    const run = spawnSync(
      'sh',
      ['-c', `ulimit -n 60 && exec "${process.execPath}" --import tsx "${script}"`],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}');
    expect(out).toMatchObject({ code: 'PTFTP_ERR_BUSY', tftpCode: 0, message: 'server busy' });
    expect(out.held).toBeGreaterThan(0);
  }, 30_000);

  it('file-system errors mean what they say (EACCES is 2, EISDIR 0 "Is a directory", EMFILE/ENFILE busy)', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    expect(fsErrorToTftp(errno('EACCES'), 'x')).toBeInstanceOf(AccessViolationError);
    expect((fsErrorToTftp(errno('EACCES'), 'x') as AccessViolationError).tftpCode).toBe(2);
    expect(fsErrorToTftp(errno('EISDIR'), 'x')).toBeInstanceOf(IsDirectoryError);
    expect(fsErrorToTftp(errno('EMFILE'), 'x')).toBeInstanceOf(ServerBusyError);
    expect(fsErrorToTftp(errno('ENFILE'), 'x')).toBeInstanceOf(ServerBusyError);
  });
});

describe('SafeRoot: files past 4 GiB are read at the right offsets', () => {
  it('a sparse 4 GiB + 5000 byte file: known bytes across the 4 GiB mark and at the end come back exact', async () => {
    const size = 2 ** 32 + 5000;
    const mark = Buffer.from('across-the-4GiB-mark');
    const tail = Buffer.from('the-very-end');
    const fd = openSync(path.join(dir, 'huge.bin'), 'w');
    try {
      writeSync(fd, mark, 0, mark.length, 2 ** 32 - 10);
      writeSync(fd, tail, 0, tail.length, size - tail.length);
    } finally {
      closeSync(fd);
    }
    const root = new SafeRoot(dir, { idleMs: 0 });
    const content: Content = await root.open('huge.bin');
    expect(content.size).toBe(size);
    expect(Buffer.from(await content.read(2 ** 32 - 10, mark.length)).equals(mark)).toBe(true);
    // Through the block source a session uses: block n from (n - 1) * blksize.
    const blksize = 1468;
    const source = new ContentBlockSource(content.retain(), blksize, 1);
    const n = Math.floor((2 ** 32 - 10) / blksize) + 1;
    source.release(n - 1);
    const block = await vi.waitFor(() => source.block(n) ?? Promise.reject(new Error('not yet')));
    const at = 2 ** 32 - 10 - (n - 1) * blksize;
    expect(
      block.subarray(at, at + Math.min(mark.length, blksize - at)).equals(mark.subarray(0, blksize - at)),
    ).toBe(true);
    const last = Math.floor(size / blksize) + 1;
    expect(source.lastBlock).toBe(last);
    source.release(last - 1);
    const end = await vi.waitFor(() => source.block(last) ?? Promise.reject(new Error('not yet')));
    expect(end.length).toBe(size % blksize);
    expect(end.subarray(end.length - tail.length).equals(tail)).toBe(true);
    source.close();
    content.release();
    expect(root.files.openFiles).toBe(0);
  });
});
