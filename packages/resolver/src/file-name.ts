import { AccessViolationError } from '@ptftp/protocol';

// Names that Windows maps to devices whatever the extension: a classic TFTP traversal vector
// when the files end up on (or are copied to) a Windows share.
const DEVICE_NAMES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a requested file name and returns its canonical form (leading slashes removed), or
 * throws {@link AccessViolationError} naming the reason.
 *
 * Names use forward slashes for subdirectories (`Desktops/320x196x4/List.xml`). Refused:
 * empty names, control characters, backslashes, drive letters, percent-encoded bytes, empty,
 * `.`/`..` or hidden segments, and Windows device names.
 *
 * @example
 * ```ts
 * canonicalFileName('/SEP001122334455.cnf.xml'); // 'SEP001122334455.cnf.xml'
 * canonicalFileName('../etc/passwd'); // throws AccessViolationError
 * ```
 */
export function canonicalFileName(name: string): string {
  const refuse = (why: string): never => {
    throw new AccessViolationError(name, `access violation: ${JSON.stringify(name)} ${why}`);
  };
  if (CONTROL.test(name)) refuse('contains a control character');
  if (name.includes('\\')) refuse('contains a backslash');
  if (/%[0-9a-f]{2}/i.test(name)) refuse('contains a percent-encoded byte');
  if (/^[a-z]:/i.test(name)) refuse('names a drive');
  const trimmed = name.replace(/^\/+/, '');
  if (trimmed === '') refuse('is empty');
  for (const segment of trimmed.split('/')) {
    if (segment === '') refuse('has an empty path segment');
    if (segment.startsWith('.')) refuse('has a dot or hidden path segment');
    if (DEVICE_NAMES.test(segment)) refuse('names a device');
  }
  return trimmed;
}
