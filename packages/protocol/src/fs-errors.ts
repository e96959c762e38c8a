/**
 * File-system errors as the TFTP errors a client should see: a missing file is ERROR 1, a
 * refused one ERROR 2, a folder ERROR 0 "Is a directory" (as tftpd-hpa), exhausted
 * descriptors ERROR 0 "server busy" (retry later; never "not found", which would send the
 * resolver to other servers); anything else stays as it is (answered generically).
 */
import { AccessViolationError, FileNotFoundError, IsDirectoryError, ServerBusyError } from './errors.js';

/** Map a file-system error to the TFTP error a client should see. */
export function fsErrorToTftp(err: unknown, filename: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileNotFoundError(filename);
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP')
    return new AccessViolationError(filename, `access violation: ${filename}`);
  if (code === 'EISDIR') return new IsDirectoryError(filename);
  if (code === 'EMFILE' || code === 'ENFILE') return new ServerBusyError('descriptors', { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
