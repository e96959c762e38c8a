import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A temporary TFTP root holding `files`. World-readable, because tftpd-hpa drops privileges
 * to its own user before it reads anything.
 */
export async function seedFolder(files: Record<string, Uint8Array | string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'ptftp-resolver-'));
  await chmod(root, 0o755);
  for (const [name, data] of Object.entries(files)) await writeTftpFile(root, name, data);
  return root;
}

export async function writeTftpFile(root: string, name: string, data: Uint8Array | string): Promise<void> {
  const parts = name.split('/');
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
  }
  const full = path.join(root, ...parts);
  await writeFile(full, data);
  await chmod(full, 0o644);
}

export async function removeFolder(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}
