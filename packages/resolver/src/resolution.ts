import type { Content } from '@ptftp/protocol';

/** A file found for a request. */
export interface Resolution {
  readonly name: string;
  /**
   * The file, read by offset (it may still be arriving from a remote cluster: reads wait for
   * the bytes). It carries one reference for the caller, who calls `content.release()` once,
   * when the transfer is over.
   */
  readonly content: Content;
  /** Its size, once known (a file still arriving may not have said it yet: `content.whenSized()`). */
  readonly size: number | undefined;
  readonly source: 'local' | 'cache' | 'cluster';
  readonly clusterId?: string;
  readonly address?: string;
  /** A content hash; undefined while a remote file is still arriving. */
  readonly version?: string | undefined;
}
