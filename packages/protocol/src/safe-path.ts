/**
 * Turning a requested TFTP file name into a path inside a root folder. Path traversal is the
 * classic TFTP vulnerability, so names are checked as strings first (every known trick refused),
 * and the result is checked again against the root after resolution.
 */
import path from 'node:path';
import { AccessViolationError } from './errors.js';

/** Longest name accepted, in bytes (the codec's own limit). */
const MAX_NAME_BYTES = 255;
/** Deepest folder nesting accepted. */
const MAX_DEPTH = 16;
/** Names Windows maps to devices, with or without an extension (CVE class of `nul.txt`). */
const DEVICE_NAME = /^(con|prn|aux|nul|clock\$|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
/** C0 controls and DEL; NUL included. */
const CONTROL = /[\x00-\x1f\x7f]/;
/** Percent-encoded bytes: refused rather than decoded, so no layer can decode them twice. */
const PERCENT_ENCODED = /%[0-9a-f]{2}/i;
const DRIVE = /^[a-z]:/i;

function refuse(name: string, why: string): never {
  throw new AccessViolationError(name, `access violation: ${why}`);
}

/**
 * Check a requested name and return the absolute path it means inside `root`. Throws
 * {@link AccessViolationError} for traversal (`..` in any form), absolute paths, drive letters,
 * backslashes, NUL and control characters, percent-encoded bytes, Windows device names,
 * dot-only or empty segments, and overlong names. Symlinks are checked by the file handler
 * (this function does no I/O).
 *
 * @example
 * ```ts
 * resolveSafePath('/srv/tftp', 'phones/SEP001122334455.cnf.xml'); // '/srv/tftp/phones/SEP001122334455.cnf.xml'
 * resolveSafePath('/srv/tftp', '../etc/passwd'); // throws AccessViolationError
 * ```
 */
export function resolveSafePath(root: string, name: string): string {
  if (typeof name !== 'string' || name.length === 0) refuse(String(name), 'empty file name');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    refuse(name.slice(0, 64), `name longer than ${MAX_NAME_BYTES} bytes`);
  if (CONTROL.test(name)) refuse(name, 'control character in name');
  if (name.includes('\\')) refuse(name, 'backslash in name');
  if (PERCENT_ENCODED.test(name)) refuse(name, 'percent-encoded name');
  if (name.startsWith('/')) refuse(name, 'absolute path');
  if (DRIVE.test(name)) refuse(name, 'drive letter');
  const segments = name.split('/');
  if (segments.length > MAX_DEPTH) refuse(name, `more than ${MAX_DEPTH} path segments`);
  for (const segment of segments) {
    if (segment.length === 0) refuse(name, 'empty path segment');
    // `.`, `..`, `...`, `....`: all dots means "here" or "up" on some system; none is a file name.
    if (/^\.+$/.test(segment)) refuse(name, `dot segment "${segment}"`);
    // Windows drops trailing dots and spaces, which turns `.. ` or `..\u0020.` into `..`.
    if (/[. ]$/.test(segment)) refuse(name, `segment "${segment}" ends with a dot or space`);
    if (DEVICE_NAME.test(segment)) refuse(name, `device name "${segment}"`);
    if (segment.includes(':')) refuse(name, 'colon in name');
  }
  const base = path.resolve(root);
  const full = path.resolve(base, ...segments);
  // Belt and braces: whatever the checks above missed, the result must stay under the root.
  if (full !== base && !full.startsWith(base.endsWith(path.sep) ? base : base + path.sep))
    refuse(name, 'outside the root');
  return full;
}

/** True when `candidate` is `root` or inside it (both canonical absolute paths). */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  return candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}
