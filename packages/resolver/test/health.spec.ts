import { describe, expect, it } from 'vitest';
import { AddressHealth } from '../src/index.js';

describe('AddressHealth: a dead address costs one timeout, not one per request', () => {
  const make = () => {
    let now = 1_000_000;
    const health = new AddressHealth(['a', 'b', 'c'], {
      backoffMs: 1000,
      maxBackoffMs: 4000,
      now: () => now,
    });
    return { health, advance: (ms: number) => (now += ms), now: () => now };
  };

  it('healthy addresses are tried in configured order', () => {
    expect(make().health.plan()).toEqual(['a', 'b', 'c']);
  });

  it('a failed address is skipped during its back-off, which doubles per failure up to the cap', () => {
    const { health, advance, now } = make();
    health.failed('a', new Error('no answer'));
    expect(health.plan()).toEqual(['b', 'c']);
    expect(health.status()[0]).toEqual({
      address: 'a',
      healthy: false,
      failures: 1,
      lastError: 'no answer',
      nextRetryAt: now() + 1000,
    });
    advance(1000);
    expect(health.plan()).toEqual(['a', 'b', 'c']);
    health.failed('a', new Error('no answer'));
    expect(health.status()[0]?.nextRetryAt).toBe(now() + 2000);
    advance(2000);
    health.plan();
    health.failed('a', new Error('x'));
    advance(4000);
    health.plan();
    health.failed('a', new Error('x'));
    expect(health.status()[0]?.nextRetryAt).toBe(now() + 4000);
  });

  it('after the back-off exactly one request probes the address; the others keep skipping it', () => {
    const { health, advance } = make();
    health.failed('a', new Error('no answer'));
    advance(1000);
    expect(health.plan()).toEqual(['a', 'b', 'c']);
    expect(health.plan()).toEqual(['b', 'c']);
    health.succeeded('a');
    expect(health.plan()).toEqual(['a', 'b', 'c']);
    expect(health.status()[0]).toEqual({ address: 'a', healthy: true, failures: 0, lastError: 'no answer' });
  });

  it('when every address is backing off, the one that recovers first is probed (never an empty plan while idle)', () => {
    const { health, advance } = make();
    health.failed('b', new Error('x'));
    advance(10);
    health.failed('a', new Error('x'));
    health.failed('c', new Error('x'));
    expect(health.plan()).toEqual(['b']);
    expect(health.plan()).toEqual(['a']);
    health.released('b');
    health.released('a');
    expect(health.plan()).toEqual(['b']);
  });
});
