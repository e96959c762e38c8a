import { TimeoutError } from '@ptftp/protocol';
import { describe, expect, it } from 'vitest';
import { HttpUpstream, TftpClusterUpstream } from '../src/index.js';

describe('Upstreams: an address reserved as a probe is released when an earlier one answers', () => {
  it('TFTP: B, down once, is tried again when A later fails (the cluster keeps its redundancy)', async () => {
    const up: Record<string, boolean> = { '192.0.2.1': false, '192.0.2.2': false };
    const asked: string[] = [];
    const upstream = new TftpClusterUpstream(
      { id: 'B', tftp: ['192.0.2.1', '192.0.2.2'] },
      {
        backoffMs: 0, // a failed address may be probed again at once: no clock in this test
        get: async (target) => {
          asked.push(target.host);
          if (!up[target.host]) throw new TimeoutError(`no answer from ${target.host}`);
          return new TextEncoder().encode(`from ${target.host}`);
        },
      },
    );
    const fetchOnce = () => upstream.fetch('a.xml', { signal: new AbortController().signal });

    await expect(fetchOnce()).rejects.toMatchObject({ code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE' });
    up['192.0.2.1'] = true;
    up['192.0.2.2'] = true;
    // A answers; B was planned as a probe behind it and never asked.
    expect((await fetchOnce()).address).toBe('192.0.2.1:69');
    up['192.0.2.1'] = false;
    asked.length = 0;
    const r = await fetchOnce();
    expect(asked).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(r.address).toBe('192.0.2.2:69');
  });

  it('HTTP: the same, for a cluster reached over TCP 6970', async () => {
    const up: Record<string, boolean> = { '192.0.2.1': false, '192.0.2.2': false };
    const asked: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      const host = new URL(String(input)).hostname;
      asked.push(host);
      if (!up[host]) throw new TypeError('fetch failed');
      return new Response(`from ${host}`, { status: 200 });
    }) as typeof fetch;
    const upstream = new HttpUpstream('B', ['192.0.2.1', '192.0.2.2'], { backoffMs: 0, fetch: fakeFetch });
    const fetchOnce = () => upstream.fetch('a.xml', { signal: new AbortController().signal });

    await expect(fetchOnce()).rejects.toMatchObject({ code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE' });
    up['192.0.2.1'] = true;
    up['192.0.2.2'] = true;
    expect((await fetchOnce()).address).toBe('http://192.0.2.1:6970');
    up['192.0.2.1'] = false;
    asked.length = 0;
    const r = await fetchOnce();
    expect(asked).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(r.address).toBe('http://192.0.2.2:6970');
  });
});
