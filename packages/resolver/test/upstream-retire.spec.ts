import { describe, expect, it, vi } from 'vitest';
import { MemoryStore, Resolver, type Upstream } from '../src/index.js';
import { MemoryUpstream } from '../src/testing/index.js';

/** A MemoryUpstream that counts its closes. */
class ClosingUpstream extends MemoryUpstream {
  closes = 0;
  close(): void {
    this.closes++;
  }
}

function setup() {
  const made: ClosingUpstream[] = [];
  const upstreamFactory = (cluster: { id: string }): Upstream => {
    const up = new ClosingUpstream(cluster.id, { 'SEP001122334455.cnf.xml': '<device/>' });
    made.push(up);
    return up;
  };
  const resolver = new Resolver(
    { clusters: [{ id: 'a', tftp: ['127.0.0.2:69'] }] },
    { store: new MemoryStore({}), upstreamFactory },
  );
  return { resolver, made };
}

describe('an upstream replaced by a reconfiguration retires when idle (Leases)', () => {
  it('is closed at once when no fetch uses it', () => {
    const { resolver, made } = setup();
    resolver.reconfigure({ clusters: [{ id: 'a', tftp: ['127.0.0.3:69'] }] });
    expect(made).toHaveLength(2);
    expect(made.map((u) => u.closes)).toEqual([1, 0]);
    resolver.close();
    expect(made.map((u) => u.closes)).toEqual([1, 1]);
  });

  it('stays open while its fetch runs, then is closed once; the file still arrives', async () => {
    const { resolver, made } = setup();
    const old = made[0]!;
    const open = old.pause();
    const pending = resolver.resolve('SEP001122334455.cnf.xml');
    await vi.waitFor(() => expect(old.fetchCount()).toBe(1));
    resolver.reconfigure({ clusters: [{ id: 'a', tftp: ['127.0.0.3:69'] }] });
    expect(old.closes).toBe(0);
    open();
    const file = await pending;
    expect(Buffer.from(await file.content.read(0, 9)).toString()).toBe('<device/>');
    file.content.release();
    await vi.waitFor(() => expect(old.closes).toBe(1));
    resolver.close();
    // Closing the resolver closes the upstream in effect, and the retired one not a second time.
    expect(made.map((u) => u.closes)).toEqual([1, 1]);
  });
});
