import { describe, expect, it } from 'vitest';
import { Leases } from '../src/leases.js';

describe('Leases: retire when idle', () => {
  it('closes a retired thing nobody holds at once', () => {
    const closed: string[] = [];
    const leases = new Leases<string>((t) => closed.push(t));
    leases.retire('a');
    expect(closed).toEqual(['a']);
  });

  it('closes a retired thing only when its last lease goes, and once', () => {
    const closed: string[] = [];
    const leases = new Leases<string>((t) => closed.push(t));
    leases.retain('a');
    leases.retain('a');
    leases.retire('a');
    expect(closed).toEqual([]);
    expect(leases.retired).toEqual(['a']);
    leases.release('a');
    expect(closed).toEqual([]);
    expect(leases.count('a')).toBe(1);
    leases.release('a');
    expect(closed).toEqual(['a']);
    expect(leases.retired).toEqual([]);
    // A release without a lease (a double release) closes nothing again.
    leases.release('a');
    expect(closed).toEqual(['a']);
  });

  it('never closes a thing that was not retired, however its leases come and go', () => {
    const closed: string[] = [];
    const leases = new Leases<string>((t) => closed.push(t));
    leases.retain('kept');
    leases.release('kept');
    leases.retain('kept');
    leases.release('kept');
    expect(closed).toEqual([]);
    expect(leases.count('kept')).toBe(0);
  });

  it('lease() gives a release that works once', () => {
    const closed: string[] = [];
    const leases = new Leases<string>((t) => closed.push(t));
    const first = leases.lease('a');
    const second = leases.lease('a');
    leases.retire('a');
    first();
    first(); // must not count as the second lease's release
    expect(closed).toEqual([]);
    expect(leases.count('a')).toBe(1);
    second();
    expect(closed).toEqual(['a']);
  });

  it('takeRetired() hands the held retired things to a shutdown, and later releases close nothing', () => {
    const closed: string[] = [];
    const leases = new Leases<string>((t) => closed.push(t));
    leases.retain('old');
    leases.retain('current');
    leases.retire('old');
    expect(leases.takeRetired()).toEqual(['old']);
    expect(leases.retired).toEqual([]);
    leases.release('old');
    leases.release('current');
    expect(closed).toEqual([]);
  });
});
