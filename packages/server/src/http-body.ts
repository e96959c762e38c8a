import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Content } from '@ptftp/protocol';
import { CONTENT_CHUNK_BYTES } from './content-stream.js';

/**
 * Writes `[start, end)` of a content (to its end when `end` is undefined) as a response body
 * and ends the response; resolves with the bytes written. One chunk at a time, read by offset:
 * when the socket's buffer is full (`write` returns false) it waits for `drain`, so a client
 * that does not read holds one chunk, not the file; when the client goes (`signal`, aborted
 * on the response's `close`) it stops reading at once. The caller releases the content.
 */
export async function sendContent(
  res: ServerResponse,
  content: Content,
  start: number,
  end: number | undefined,
  signal: AbortSignal,
): Promise<number> {
  const last = end ?? Number.POSITIVE_INFINITY;
  let offset = start;
  while (offset < last) {
    const chunk = await content.read(offset, Math.min(CONTENT_CHUNK_BYTES, last - offset), signal);
    if (chunk.byteLength === 0) {
      if (end === undefined) break;
      throw new Error(`content ended at ${offset}, before ${end}`);
    }
    offset += chunk.byteLength;
    if (!res.write(chunk)) await once(res, 'drain', { signal });
  }
  res.end();
  return offset - start;
}
