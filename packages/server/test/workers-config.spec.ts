import { describe, expect, it } from 'vitest';
import { ConfigError, effectiveConfig, parseConfig, planReload } from '../src/index.js';

describe('config key workers (ptftp serve --workers N)', () => {
  it('defaults to 1 and accepts 1..64', () => {
    expect(parseConfig({}).workers).toBe(1);
    expect(parseConfig({ workers: 4 }).workers).toBe(4);
    expect(() => parseConfig({ workers: 0 })).toThrow(ConfigError);
    expect(() => parseConfig({ workers: 1.5 })).toThrow(ConfigError);
  });

  it('refuses limits.ports "single" with more than one worker, naming the key', () => {
    expect.assertions(3);
    try {
      parseConfig({ workers: 2, limits: { ports: 'single' } });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('PTFTP_ERR_CONFIG');
      expect((err as ConfigError).issues).toEqual([
        { path: 'limits.ports', message: '"single" cannot be used with more than one worker' },
      ]);
    }
  });

  it('a port range and one worker with "single" stay valid', () => {
    expect(parseConfig({ workers: 2, limits: { ports: { from: 40000, to: 40100 } } }).workers).toBe(2);
    expect(parseConfig({ workers: 1, limits: { ports: 'single' } }).limits.ports).toBe('single');
  });

  it('a reload that changes workers waits for a restart: the running count stays in effect', () => {
    const running = parseConfig({ workers: 2 });
    const next = parseConfig({ workers: 3 });
    const plan = planReload(running, next);
    expect(plan.restartRequired).toEqual(['workers']);
    expect(plan.applied).toEqual([]);
    expect(effectiveConfig(running, next, plan).workers).toBe(2);
  });
});
