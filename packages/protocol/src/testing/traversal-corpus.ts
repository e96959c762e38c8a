/**
 * File names that try to leave a TFTP server's root: path traversal is the classic TFTP CVE.
 * Each name is raw bytes (some carry NUL or invalid UTF-8, which no string can hold), and
 * {@link createTraversalFixture} builds a root with a secret beside it and symlinks that point
 * out, so a test can prove that no name ever returns the secret.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One hostile name. */
export interface TraversalName {
  /** The family it belongs to (for the counts in a report). */
  readonly family:
    | 'dot-dot'
    | 'absolute'
    | 'backslash'
    | 'url-encoded'
    | 'overlong-utf8'
    | 'unicode'
    | 'nul'
    | 'device'
    | 'control'
    | 'overlong-name'
    | 'symlink';
  readonly label: string;
  /** The name as it goes on the wire (without the final NUL). */
  readonly bytes: Buffer;
}

/** An RRQ carrying raw name bytes, for names a string cannot hold. */
export function rawReadRequest(name: Uint8Array, mode = 'octet'): Buffer {
  return Buffer.concat([Buffer.from([0, 1]), name, Buffer.from([0]), Buffer.from(mode), Buffer.from([0])]);
}

/**
 * The corpus, aimed at `secret` (a file name in the root's parent folder) and at
 * `absolute` (an absolute path to a file outside the root).
 *
 * @example
 * ```ts
 * for (const t of traversalNames()) sock.send(rawReadRequest(t.bytes), port, '127.0.0.1');
 * ```
 */
export function traversalNames(secret = 'secret.txt', absolute = '/etc/passwd'): TraversalName[] {
  const b = (text: string) => Buffer.from(text, 'utf8');
  const abs = absolute.replace(/^\/+/, '');
  const list: Array<[TraversalName['family'], string, Buffer]> = [
    ['dot-dot', '../secret', b(`../${secret}`)],
    ['dot-dot', '../../secret', b(`../../${secret}`)],
    ['dot-dot', 'deep ../ chain to an absolute target', b(`${'../'.repeat(20)}${abs}`)],
    ['dot-dot', 'sub/../../secret', b(`sub/../../${secret}`)],
    ['dot-dot', './../secret', b(`./../${secret}`)],
    ['dot-dot', '..//secret', b(`..//${secret}`)],
    ['dot-dot', '.../secret', b(`.../${secret}`)],
    ['dot-dot', '....//secret', b(`....//${secret}`)],
    ['dot-dot', '..', b('..')],
    ['dot-dot', '../', b('../')],
    ['dot-dot', 'sub/..', b('sub/..')],
    ['absolute', 'absolute path', b(absolute)],
    ['absolute', '//absolute path', b(`//${abs}`)],
    ['absolute', '/../absolute path', b(`/../${abs}`)],
    ['absolute', 'root folder', b('/')],
    ['absolute', 'file URL', b(`file:///${abs}`)],
    ['absolute', 'drive letter', b(`C:\\${abs.replaceAll('/', '\\')}`)],
    ['absolute', 'UNC path', b('\\\\server\\share\\x')],
    ['backslash', '..\\secret', b(`..\\${secret}`)],
    ['backslash', '..\\..\\secret', b(`..\\..\\${secret}`)],
    ['backslash', 'sub\\..\\..\\secret', b(`sub\\..\\..\\${secret}`)],
    ['backslash', '\\absolute', b(`\\${abs.replaceAll('/', '\\')}`)],
    ['backslash', 'mixed ..\\/', b(`..\\/${secret}`)],
    ['url-encoded', '%2e%2e/secret', b(`%2e%2e/${secret}`)],
    ['url-encoded', '%2e%2e%2fsecret', b(`%2e%2e%2f${secret}`)],
    ['url-encoded', '..%2fsecret', b(`..%2f${secret}`)],
    ['url-encoded', '..%5csecret', b(`..%5c${secret}`)],
    ['url-encoded', '%2E%2E%2F upper case', b(`%2E%2E%2F${secret}`)],
    ['url-encoded', 'double-encoded %252e%252e%252f', b(`%252e%252e%252f${secret}`)],
    ['url-encoded', '%2fabsolute', b(`%2f${abs}`)],
    [
      'overlong-utf8',
      'C0 AE C0 AE / (overlong dots)',
      Buffer.concat([Buffer.from([0xc0, 0xae, 0xc0, 0xae, 0x2f]), b(secret)]),
    ],
    [
      'overlong-utf8',
      '.. C0 AF (overlong slash)',
      Buffer.concat([b('..'), Buffer.from([0xc0, 0xaf]), b(secret)]),
    ],
    [
      'overlong-utf8',
      'E0 80 AE (3-byte dot)',
      Buffer.concat([Buffer.from([0xe0, 0x80, 0xae, 0xe0, 0x80, 0xae, 0x2f]), b(secret)]),
    ],
    ['overlong-utf8', '%c0%ae%c0%ae/', b(`%c0%ae%c0%ae/${secret}`)],
    ['unicode', 'fullwidth dots and slash', b(`\uff0e\uff0e\uff0f${secret}`)],
    ['unicode', 'two-dot leader', b(`\u2025/${secret}`)],
    ['unicode', 'division slash', b(`..\u2215${secret}`)],
    ['unicode', 'combining dot', b(`.\u0307./${secret}`)],
    ['nul', 'NUL inside ..', Buffer.concat([b('..'), Buffer.from([0]), b(`/${secret}`)])],
    ['nul', 'NUL before an extension', Buffer.concat([b(`../${secret}`), Buffer.from([0]), b('.cnf.xml')])],
    ['device', 'con', b('con')],
    ['device', 'CON', b('CON')],
    ['device', 'nul', b('nul')],
    ['device', 'com1', b('com1')],
    ['device', 'COM1.txt', b('COM1.txt')],
    ['device', 'lpt1', b('lpt1')],
    ['device', 'aux', b('aux')],
    ['device', 'prn.cnf.xml', b('prn.cnf.xml')],
    ['device', '/dev/zero', b('/dev/zero')],
    ['device', '/dev/urandom', b('/dev/urandom')],
    ['device', '/proc/self/environ', b('/proc/self/environ')],
    ['device', '../ to /dev/zero', b(`${'../'.repeat(12)}dev/zero`)],
    ['control', 'CR LF', b(`../${secret}\r\n`)],
    ['control', 'escape sequence', b('\x1b[2J\x1b[H')],
    ['control', 'tab and bell', b('a\tb\x07')],
    ['control', 'DEL', b('\x7f')],
    ['overlong-name', '255 bytes of ../', b(`${'../'.repeat(82)}${abs}`.slice(0, 255))],
    ['overlong-name', '256 bytes', b('a'.repeat(256))],
    ['overlong-name', '4 KiB of ../', b('../'.repeat(1400))],
    ['overlong-name', '255-byte component', b(`${'x'.repeat(255)}`)],
    ['symlink', 'symlink to a folder outside', b(`link-out/${secret}`)],
    ['symlink', 'symlink to the secret', b('link-secret')],
    ['symlink', 'symlink to an absolute file', b('link-abs')],
    ['symlink', 'symlink in a sub-folder pointing up', b('sub/link-up')],
  ];
  return list.map(([family, label, bytes]) => ({ family, label, bytes }));
}

/** A root to serve, a secret outside it, and the symlinks the corpus names. */
export interface TraversalFixture {
  /** Serve this folder. */
  readonly root: string;
  /** A file inside the root that must be served (proves the server is not refusing everything). */
  readonly allowedName: string;
  readonly allowedContent: Buffer;
  /** The content of the secret beside the root: it must never come back. */
  readonly secretContent: Buffer;
  readonly names: readonly TraversalName[];
  /** Delete everything. */
  cleanup(): void;
}

/**
 * Make a temporary folder `base/` holding `root/` (with `ok.cnf.xml`, `sub/`, and the
 * symlinks `link-out -> ..`, `link-secret -> ../secret.txt`, `link-abs -> <base>/secret.txt`,
 * `sub/link-up -> ../../secret.txt`) and `secret.txt`.
 *
 * @example
 * ```ts
 * const fx = createTraversalFixture();
 * const server = createServer({ handler: createFsHandler(fx.root) });
 * // send every fx.names entry; no answer may contain fx.secretContent
 * fx.cleanup();
 * ```
 */
export function createTraversalFixture(): TraversalFixture {
  const base = mkdtempSync(join(tmpdir(), 'ptftp-traversal-'));
  const root = join(base, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  const secretContent = Buffer.from(`PTFTP-SECRET-${process.pid}-${Date.now()}\n`);
  const secretPath = join(base, 'secret.txt');
  writeFileSync(secretPath, secretContent);
  const allowedContent = Buffer.from('<device><name>allowed</name></device>\n');
  writeFileSync(join(root, 'ok.cnf.xml'), allowedContent);
  writeFileSync(join(root, 'sub', 'inner.txt'), 'inner\n');
  symlinkSync('..', join(root, 'link-out'));
  symlinkSync('../secret.txt', join(root, 'link-secret'));
  symlinkSync(secretPath, join(root, 'link-abs'));
  symlinkSync('../../secret.txt', join(root, 'sub', 'link-up'));
  return {
    root,
    allowedName: 'ok.cnf.xml',
    allowedContent,
    secretContent,
    names: traversalNames('secret.txt', secretPath),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}
