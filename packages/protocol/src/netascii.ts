/**
 * RFC 1350 netascii translation (the NVT-ASCII line convention of RFC 764): on the wire a
 * line ends with CR LF and a bare CR is sent as CR NUL. Local data uses LF line ends.
 */

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/**
 * Translate local bytes to netascii: LF -> CR LF, CR -> CR NUL.
 *
 * Stateless, because each input byte maps to its output bytes alone: a sender may apply it
 * to every chunk of a file separately and send the concatenation.
 *
 * @example
 * ```ts
 * encodeNetascii(Buffer.from('a\nb\r')); // <61 0d 0a 62 0d 00>
 * ```
 */
export function encodeNetascii(data: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === LF || b === CR) extra++;
  }
  if (extra === 0) return Buffer.from(data.buffer, data.byteOffset, data.length);
  const out = Buffer.allocUnsafe(data.length + extra);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else if (b === CR) {
      out[o++] = CR;
      out[o++] = NUL;
    } else {
      out[o++] = b;
    }
  }
  return out;
}

/**
 * Translate netascii back to local bytes: CR LF -> LF, CR NUL -> CR. A CR followed by any
 * other byte is kept as it is (real servers send such bytes; dropping them loses data).
 *
 * Stateful because a CR may end one DATA block and its partner begin the next: the decoder
 * holds that CR back until it sees the following byte, or until {@link NetasciiDecoder.end}.
 *
 * @example
 * ```ts
 * const d = new NetasciiDecoder();
 * const text = Buffer.concat([d.write(Buffer.from('a\r')), d.write(Buffer.from('\nb')), d.end()]);
 * // text is 'a\nb'
 * ```
 */
export class NetasciiDecoder {
  #pendingCr = false;

  /** Decode one chunk; the result may be one byte shorter than the chunk (a held-back CR). */
  write(chunk: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let o = 0;
    let i = 0;
    if (this.#pendingCr) {
      if (chunk.length === 0) return out.subarray(0, 0);
      this.#pendingCr = false;
      const b = chunk[0]!;
      if (b === LF) {
        out[o++] = LF;
        i = 1;
      } else if (b === NUL) {
        out[o++] = CR;
        i = 1;
      } else {
        // A lone CR: keep it, and let the loop below look at `b` afresh (it may be a CR).
        out[o++] = CR;
      }
    }
    const n = chunk.length;
    while (i < n) {
      const b = chunk[i++]!;
      if (b !== CR) {
        out[o++] = b;
        continue;
      }
      if (i === n) {
        this.#pendingCr = true;
        break;
      }
      const next = chunk[i]!;
      if (next === LF) {
        out[o++] = LF;
        i++;
      } else if (next === NUL) {
        out[o++] = CR;
        i++;
      } else {
        out[o++] = CR;
      }
    }
    return out.subarray(0, o);
  }

  /** Flush at end of data: a CR left waiting is kept. */
  end(): Buffer {
    if (!this.#pendingCr) return Buffer.alloc(0);
    this.#pendingCr = false;
    return Buffer.from([CR]);
  }
}
