import { Readable } from 'node:stream';
import type { Content } from '@ptftp/protocol';

/** Bytes asked of a content per read: a few TFTP windows, a few TCP segments. */
export const CONTENT_CHUNK_BYTES = 64 * 1024;

/**
 * A Readable over `[start, end)` of a content, read by offset on demand (backpressure: nothing
 * is read ahead of the consumer beyond one chunk). It owns one reference of the content and
 * gives it back when it is destroyed, which Node does on every way out: the end, an error, or
 * the consumer's `destroy()` (the TFTP server destroys a handler's stream when its transfer
 * ends, however it ends).
 *
 * @example
 * ```ts
 * const stream = contentStream(resolution.content); // released with the stream
 * ```
 */
export function contentStream(
  content: Content,
  opts: { start?: number; end?: number; chunkBytes?: number } = {},
): Readable {
  const chunkBytes = opts.chunkBytes ?? CONTENT_CHUNK_BYTES;
  const end = opts.end ?? Number.POSITIVE_INFINITY;
  const abort = new AbortController();
  let offset = opts.start ?? 0;
  let reading = false;
  return new Readable({
    highWaterMark: chunkBytes,
    read() {
      if (reading) return;
      if (offset >= end) {
        this.push(null);
        return;
      }
      reading = true;
      content.read(offset, Math.min(chunkBytes, end - offset), abort.signal).then(
        (chunk) => {
          reading = false;
          if (chunk.byteLength === 0) {
            if (Number.isFinite(end)) this.destroy(new Error(`content ended at ${offset} before ${end}`));
            else this.push(null);
            return;
          }
          offset += chunk.byteLength;
          this.push(chunk);
        },
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
    destroy(err, callback) {
      abort.abort();
      content.release();
      callback(err);
    },
  });
}
