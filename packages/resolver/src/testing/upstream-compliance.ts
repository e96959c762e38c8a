import type { Upstream, UpstreamSink } from '../upstream.js';
import { errorCode, patternBytes, type TestApi } from './test-api.js';

/** What an upstream fixture returns: the upstream, holding the given files, and cleanup. */
export interface UpstreamFixture {
  upstream: Upstream;
  cleanup?: () => Promise<void> | void;
}

/** Options of {@link runUpstreamCompliance}. */
export interface UpstreamComplianceOptions {
  /** Builds an upstream none of whose addresses answers (tests "unreachable"). */
  makeUnreachable?: () => Promise<UpstreamFixture> | UpstreamFixture;
}

const FILES = {
  'SEP001122334455.cnf.xml': patternBytes(1500, 1),
  'one-block.bin': patternBytes(512, 2),
  'empty.bin': new Uint8Array(0),
  'Desktops/320x196x4/List.xml': patternBytes(600, 3),
  'big.bin': patternBytes(70_000, 4),
};

/**
 * The contract every {@link Upstream} must keep, as a test suite: exact bytes (every byte
 * value, empty files, block-size multiples, many blocks), with and without a streaming
 * {@link UpstreamSink} (in order, backpressure honoured, `size` announced), "not found"
 * distinct from "unreachable", abort, and concurrent fetches.
 *
 * @example
 * ```ts
 * import { describe, it, expect } from 'vitest';
 * import { runUpstreamCompliance } from '@ptftp/resolver/testing';
 * runUpstreamCompliance('MyUpstream', async (files) => ({ upstream: await startMine(files) }),
 *   { describe, it, expect });
 * ```
 */
export function runUpstreamCompliance(
  name: string,
  make: (files: Record<string, Uint8Array>) => Promise<UpstreamFixture> | UpstreamFixture,
  t: TestApi,
  opts: UpstreamComplianceOptions = {},
): void {
  const { describe, it, expect } = t;
  const withUpstream = (fn: (u: Upstream) => Promise<void>) => async () => {
    const seeded: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(FILES)) seeded[k] = new Uint8Array(v);
    const f = await make(seeded);
    try {
      await fn(f.upstream);
    } finally {
      f.upstream.close?.();
      await f.cleanup?.();
    }
  };
  const signal = () => AbortSignal.timeout(20_000);

  describe(`Upstream compliance: ${name}`, () => {
    it(
      'has a non-empty id',
      withUpstream(async (u) => {
        expect(typeof u.id === 'string' && u.id.length > 0).toBe(true);
      }),
    );

    it(
      'fetch returns the complete, exact bytes and the answering address',
      withUpstream(async (u) => {
        for (const [n, data] of Object.entries(FILES)) {
          const result = await u.fetch(n, { signal: signal() });
          expect(result.data!.byteLength).toBe(data.byteLength);
          expect(Buffer.from(result.data!).equals(Buffer.from(data))).toBe(true);
          expect(typeof result.address === 'string' && result.address.length > 0).toBe(true);
        }
      }),
    );

    it(
      'a missing name rejects with PTFTP_ERR_NOT_FOUND (not unreachable)',
      withUpstream(async (u) => {
        const err = await u.fetch('SEPFFFFFFFFFFFF.cnf.xml', { signal: signal() }).catch((e: unknown) => e);
        expect(errorCode(err)).toBe('PTFTP_ERR_NOT_FOUND');
      }),
    );

    it(
      'an aborted signal rejects with PTFTP_ERR_ABORTED',
      withUpstream(async (u) => {
        const controller = new AbortController();
        controller.abort();
        const err = await u.fetch('big.bin', { signal: controller.signal }).catch((e: unknown) => e);
        expect(errorCode(err)).toBe('PTFTP_ERR_ABORTED');
      }),
    );

    it(
      'concurrent fetches of different names each get their own bytes',
      withUpstream(async (u) => {
        const names = Object.keys(FILES);
        const results = await Promise.all(names.map((n) => u.fetch(n, { signal: signal() })));
        results.forEach((r, i) => {
          const want = FILES[names[i] as keyof typeof FILES];
          expect(Buffer.from(r.data!).equals(Buffer.from(want))).toBe(true);
        });
      }),
    );

    it(
      'with a sink: bytes reach sink.write in order (a returned promise holds the next write back), size() announces the length, and the result carries size instead of data',
      withUpstream(async (u) => {
        for (const [n, data] of Object.entries(FILES)) {
          const chunks: Uint8Array[] = [];
          const announced: number[] = [];
          let writing = false;
          let overlapped = false;
          const sink = {
            size: (bytes: number) => announced.push(bytes),
            write: async (chunk: Uint8Array) => {
              if (writing) overlapped = true;
              writing = true;
              chunks.push(new Uint8Array(chunk));
              // Backpressure: the upstream must wait for this before writing again.
              await new Promise<void>((resolve) => setImmediate(resolve));
              writing = false;
            },
          };
          const result = await u.fetch(n, { signal: signal(), sink });
          expect(overlapped).toBe(false);
          if (result.data !== undefined) {
            // An upstream that cannot stream returns data and leaves the sink alone.
            expect(chunks.length).toBe(0);
            expect(Buffer.from(result.data).equals(Buffer.from(data))).toBe(true);
            continue;
          }
          const got = Buffer.concat(chunks);
          expect(got.byteLength).toBe(data.byteLength);
          expect(got.equals(Buffer.from(data))).toBe(true);
          expect(result.size).toBe(data.byteLength);
          for (const a of announced) expect(a).toBe(data.byteLength);
          expect(typeof result.address === 'string' && result.address.length > 0).toBe(true);
        }
      }),
    );

    it(
      'with a sink: a missing name rejects with PTFTP_ERR_NOT_FOUND and writes nothing',
      withUpstream(async (u) => {
        let writes = 0;
        const err = await u
          .fetch('SEPFFFFFFFFFFFF.cnf.xml', { signal: signal(), sink: { write: () => void writes++ } })
          .catch((e: unknown) => e);
        expect(errorCode(err)).toBe('PTFTP_ERR_NOT_FOUND');
        expect(writes).toBe(0);
      }),
    );

    if (opts.makeUnreachable) {
      const makeUnreachable = opts.makeUnreachable;
      it('an upstream nobody answers for rejects with PTFTP_ERR_UPSTREAM_UNREACHABLE', async () => {
        const f = await makeUnreachable();
        try {
          const err = await f.upstream
            .fetch('SEP001122334455.cnf.xml', { signal: signal() })
            .catch((e: unknown) => e);
          expect(errorCode(err)).toBe('PTFTP_ERR_UPSTREAM_UNREACHABLE');
        } finally {
          f.upstream.close?.();
          await f.cleanup?.();
        }
      });
    }
  });
}
