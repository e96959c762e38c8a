/** A file found for a request. */
export interface Resolution {
  readonly name: string;
  /** The complete file. Shared with the cache: do not modify it. */
  readonly data: Uint8Array;
  readonly size: number;
  readonly source: 'local' | 'cache' | 'cluster';
  readonly clusterId?: string;
  readonly address?: string;
  readonly version?: string;
}
