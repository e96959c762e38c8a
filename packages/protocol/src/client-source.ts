/**
 * Where an upload's bytes come from, cut into blocks: a Uint8Array, or a Readable of any
 * chunk sizes. netascii translation happens here, chunk by chunk (it is stateless).
 */
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from './errors.js';
import { encodeNetascii } from './netascii.js';

export interface BlockSource {
  /** The next `n` bytes; fewer only at the end of the data (possibly zero). */
  read(n: number): Promise<Uint8Array>;
  /** Source bytes consumed so far (before netascii translation). */
  readonly consumed: number;
  /** Stop reading (the transfer ended early). */
  close(): void;
}

export class BufferSource implements BlockSource {
  readonly #data: Uint8Array;
  readonly #rawLength: number;
  #offset = 0;

  constructor(data: Uint8Array, netascii: boolean) {
    this.#rawLength = data.length;
    this.#data = netascii ? encodeNetascii(data) : data;
  }

  /** Bytes on the wire (after netascii translation). */
  get wireLength(): number {
    return this.#data.length;
  }

  get consumed(): number {
    return this.#offset >= this.#data.length ? this.#rawLength : Math.min(this.#offset, this.#rawLength);
  }

  read(n: number): Promise<Uint8Array> {
    const out = this.#data.subarray(this.#offset, this.#offset + n);
    this.#offset += out.length;
    return Promise.resolve(out);
  }

  close(): void {}
}

function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new InvalidArgumentError('data', `the upload stream yielded a ${typeof value}, not bytes`);
}

export class StreamSource implements BlockSource {
  readonly #it: AsyncIterator<unknown>;
  readonly #netascii: boolean;
  #queue: Buffer[] = [];
  #queued = 0;
  #eof = false;
  #consumed = 0;

  constructor(stream: Readable, netascii: boolean) {
    this.#it = stream[Symbol.asyncIterator]();
    this.#netascii = netascii;
  }

  get consumed(): number {
    return this.#consumed;
  }

  async read(n: number): Promise<Uint8Array> {
    while (this.#queued < n && !this.#eof) {
      const r = await this.#it.next();
      if (r.done) {
        this.#eof = true;
        break;
      }
      const value = r.value;
      const raw = toBuffer(value);
      this.#consumed += raw.length;
      const chunk = this.#netascii ? encodeNetascii(raw) : raw;
      if (chunk.length === 0) continue;
      this.#queue.push(chunk);
      this.#queued += chunk.length;
    }
    const take = Math.min(n, this.#queued);
    const out = Buffer.allocUnsafe(take);
    let o = 0;
    while (o < take) {
      const head = this.#queue[0]!;
      const k = Math.min(head.length, take - o);
      head.copy(out, o, 0, k);
      o += k;
      if (k === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(k);
    }
    this.#queued -= take;
    return out;
  }

  close(): void {
    // Ends the iteration, which destroys the stream: nobody else reads an upload's source.
    void this.#it.return?.().catch(() => {});
  }
}
