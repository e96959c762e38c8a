/**
 * File-system errors as the TFTP errors a client should see: a missing file is ERROR 1, a
 * refused one ERROR 2; anything else stays as it is (and the server answers it generically).
 */
import { AccessViolationError, FileNotFoundError } from './errors.js';

/** Map a file-system error to the TFTP error a client should see. */
export function fsErrorToTftp(err: unknown, filename: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileNotFoundError(filename);
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP')
    return new AccessViolationError(filename, `access violation: ${filename}`);
  return err instanceof Error ? err : new Error(String(err));
}
