import { runCacheCompliance } from '@ptftp/resolver/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedis, RedisServer } from '../../../test-support/redis-server.js';
import { RedisCache } from '../src/index.js';

// The same contract the default TieredCache keeps (packages/resolver/test/cache.spec.ts runs it
// there), here against a real redis-server. Lifetimes are Redis's own clock: the TTL case,
// which needs a clock to move, is left to the integration tests.
describe.skipIf(!haveRedis)('RedisCache on a real redis-server', () => {
  let server: RedisServer;
  let n = 0;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  runCacheCompliance(
    'RedisCache (memory-only local tier)',
    async (opts) => {
      const cache = new RedisCache({ url: server.url, prefix: `c${++n}:`, ...opts, local: { dir: '' } });
      await cache.ready();
      return { cache };
    },
    { describe, it, expect },
  );
});

if (!haveRedis)
  it.skip('redis-server is not installed (/usr/bin/redis-server): RedisCache tests skipped', () => {});
