import dgram from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLossyLink, decideFaults, type LossyLink } from '../src/testing/index.js';

type Endpoint = { address: string; port: number };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function bind(host = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return s;
}

/**
 * A server shaped like TFTP: the first datagram from a peer gets its answer from a new port
 * (a transfer ID); that port echoes its own peer and answers "stranger" to anyone else.
 */
async function startTidEchoServer(host = '127.0.0.1') {
  const listen = await bind(host);
  const seenClients: Endpoint[] = [];
  const tids: dgram.Socket[] = [];
  listen.on('message', async (msg, rinfo) => {
    seenClients.push({ address: rinfo.address, port: rinfo.port });
    const tid = await bind(host);
    tids.push(tid);
    tid.on('message', (m, r) => {
      const reply =
        r.port === rinfo.port ? Buffer.concat([Buffer.from('echo:'), m]) : Buffer.from('stranger');
      tid.send(reply, r.port, r.address);
    });
    tid.send(Buffer.concat([Buffer.from('hello:'), msg]), rinfo.port, rinfo.address);
  });
  return { endpoint: { address: host, port: listen.address().port }, seenClients, tids };
}

/** A sink that records every datagram it gets, for one-way runs. */
async function startSink() {
  const sock = await bind();
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  return { endpoint: { address: '127.0.0.1', port: sock.address().port }, got };
}

function nextMessage(sock: dgram.Socket): Promise<{ msg: Buffer; from: Endpoint }> {
  return new Promise((resolve) =>
    sock.once('message', (msg, r) => resolve({ msg, from: { address: r.address, port: r.port } })),
  );
}

async function link(opts: Parameters<typeof createLossyLink>[0]): Promise<LossyLink> {
  const l = await createLossyLink(opts);
  cleanups.push(() => l.close());
  return l;
}

/** Wait until `done` holds; past `maxMs` the test fails, naming the condition that never held. */
async function settle(done: () => boolean, maxMs = 5000): Promise<void> {
  await vi.waitFor(() => expect(done(), String(done)).toBe(true), { timeout: maxMs, interval: 10 });
}

const seq = (i: number) => Buffer.from(`pkt-${String(i).padStart(5, '0')}`);

/**
 * Send `n` numbered datagrams through the link in small batches: a burst of hundreds would
 * overflow a loopback socket buffer, and the kernel's losses would mix with the link's.
 */
async function sendPaced(client: dgram.Socket, l: LossyLink, n: number): Promise<void> {
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + 16);
    for (; i < end; i++) client.send(seq(i), l.port, l.address);
    await settle(() => l.stats.byDirection['to-server'].received === end);
  }
}

describe('createLossyLink', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`with no faults is transparent, and mirrors each transfer ID with one port (${host})`, async () => {
      const server = await startTidEchoServer(host);
      const l = await link({ target: server.endpoint, host });
      const client = await bind(host);

      client.send('rrq', l.port, l.address);
      const first = await nextMessage(client);
      expect(first.msg.toString()).toBe('hello:rrq');
      // The answer comes from a port of its own, as a TFTP transfer ID does.
      expect(first.from.port).not.toBe(l.port);
      for (let i = 0; i < 10; i++) {
        client.send(seq(i), first.from.port, first.from.address);
        const r = await nextMessage(client);
        expect(r.msg.toString()).toBe(`echo:${seq(i)}`);
        expect(r.from).toEqual(first.from);
      }
      // The server saw one consistent client port: the peer check did not fire.
      expect(server.seenClients).toHaveLength(1);

      // A second client gets a different transfer port, and is a stranger to the first's.
      const other = await bind(host);
      other.send('rrq', l.port, l.address);
      const second = await nextMessage(other);
      expect(second.from.port).not.toBe(first.from.port);
      other.send('x', first.from.port, first.from.address);
      expect((await nextMessage(other)).msg.toString()).toBe('stranger');

      const s = l.stats;
      expect(s.byDirection['to-server']).toMatchObject({
        received: 13,
        forwarded: 13,
        dropped: 0,
        pending: 0,
      });
      expect(s.byDirection['to-client']).toMatchObject({
        received: 13,
        forwarded: 13,
        dropped: 0,
        pending: 0,
      });
      expect(s.serverEndpoints).toBe(3); // the listening port and two transfer IDs
      expect(s.clientEndpoints).toBe(2);
    });
  }

  it('decides the same faults for the same seed and index, and others for another seed', () => {
    const opts = {
      seed: 42,
      drop: 0.3,
      duplicate: 0.2,
      reorder: 0.2,
      corrupt: 0.1,
      delayMs: [1, 9] as const,
    };
    const a = Array.from({ length: 1000 }, (_, i) => decideFaults(opts, 'to-client', i, 516));
    const b = Array.from({ length: 1000 }, (_, i) => decideFaults(opts, 'to-client', i, 516));
    const c = Array.from({ length: 1000 }, (_, i) =>
      decideFaults({ ...opts, seed: 43 }, 'to-client', i, 516),
    );
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const drops = a.filter((d) => d.drop).length;
    // 30% of 1000, give or take: the generator is not stuck.
    expect(drops).toBeGreaterThan(230);
    expect(drops).toBeLessThan(370);
    for (const d of a) {
      expect(d.delayMs).toBeGreaterThanOrEqual(1);
      expect(d.delayMs).toBeLessThanOrEqual(9);
      expect(d.corruptAt).toBeLessThan(516);
    }
  });

  it('replays a seeded run exactly: the same datagrams are lost', async () => {
    const runOnce = async () => {
      const sink = await startSink();
      const l = await link({ target: sink.endpoint, seed: 7, drop: 0.2, trace: true });
      const client = await bind();
      await sendPaced(client, l, 300);
      await settle(() => l.stats.received === 300 && sink.got.length === l.stats.forwarded);
      return { got: sink.got.map(String), trace: [...l.trace], stats: l.stats };
    };
    const one = await runOnce();
    const two = await runOnce();
    expect(two.got).toEqual(one.got);
    expect(two.trace).toEqual(one.trace);
    const expected = Array.from({ length: 300 }, (_, i) => i)
      .filter((i) => !decideFaults({ seed: 7, drop: 0.2 }, 'to-server', i, seq(i).length).drop)
      .map((i) => String(seq(i)));
    expect(one.got).toEqual(expected);
    expect(one.stats.dropped).toBe(300 - expected.length);
  });

  it('drops exactly what dropFilter names', async () => {
    const sink = await startSink();
    const l = await link({
      target: sink.endpoint,
      dropFilter: (_p, dir, i) => dir === 'to-server' && i % 10 === 3,
    });
    const client = await bind();
    await sendPaced(client, l, 50);
    await settle(() => sink.got.length === 45);
    expect(sink.got.map(String)).toEqual(
      Array.from({ length: 50 }, (_, i) => i)
        .filter((i) => i % 10 !== 3)
        .map((i) => String(seq(i))),
    );
    expect(l.stats.dropped).toBe(5);
  });

  it('keeps its books: received = dropped + forwarded - duplicated, and every fault shows', async () => {
    const sink = await startSink();
    const l = await link({
      target: sink.endpoint,
      seed: 3,
      drop: 0.1,
      duplicate: 0.1,
      reorder: 0.2,
      corrupt: 0.1,
      delayMs: [0, 3],
    });
    const client = await bind();
    const n = 500;
    await sendPaced(client, l, n);
    await settle(
      () => l.stats.received === n && l.stats.pending === 0 && sink.got.length === l.stats.forwarded,
    );
    const s = l.stats;
    const up = s.byDirection['to-server'];
    expect(up.received).toBe(n);
    expect(up.pending).toBe(0);
    expect(up.received).toBe(up.dropped + up.forwarded - up.duplicated);
    expect(sink.got.length).toBe(up.forwarded);
    for (const k of ['dropped', 'duplicated', 'reordered', 'corrupted'] as const)
      expect(up[k]).toBeGreaterThan(0);
    // Corrupted datagrams are the ones that no longer read as one we sent.
    const sent = new Set(Array.from({ length: n }, (_, i) => String(seq(i))));
    const spoiled = sink.got.filter((m) => !sent.has(String(m))).length;
    expect(spoiled).toBeGreaterThanOrEqual(up.corrupted);
    // Reordering shows as a sequence number arriving after a larger one.
    const order = sink.got.filter((m) => sent.has(String(m))).map((m) => Number(String(m).slice(4)));
    expect(order.some((v, i) => i > 0 && v < order[i - 1]!)).toBe(true);
    expect(s.received).toBe(up.received + s.byDirection['to-client'].received);
  });

  it('refuses probabilities outside 0..1 and hosts other than loopback', async () => {
    await expect(createLossyLink({ target: { address: '127.0.0.1', port: 9 }, drop: 1.5 })).rejects.toThrow(
      /drop/,
    );
    await expect(
      createLossyLink({ target: { address: '127.0.0.1', port: 9 }, host: '0.0.0.0' }),
    ).rejects.toThrow(/host/);
  });
});
