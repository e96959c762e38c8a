import { stat } from 'node:fs/promises';
import { CliError } from './io.js';

/**
 * Refuse to serve from a store folder that is missing or is a file: the server would start and
 * answer "file not found" to every phone forever, which looks like a phone problem.
 */
export async function requireStoreFolder(root: string | undefined, what: string): Promise<void> {
  if (root === undefined) return;
  let isFolder: boolean;
  try {
    isFolder = (await stat(root)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `${what} ${root} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
    );
  }
  if (!isFolder) throw new CliError(`${what} ${root} is not a folder`);
}
