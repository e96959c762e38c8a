import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

// Tests run against the TypeScript sources, so `npm test` needs no build of the library
// packages (the CLI end-to-end tests run the built binary, which `npm install` builds).
const alias = {
  '@ptftp/protocol/testing': src('protocol/src/testing/index.ts'),
  '@ptftp/protocol/client': src('protocol/src/client.ts'),
  '@ptftp/protocol/internal': src('protocol/src/internal.ts'),
  '@ptftp/protocol': src('protocol/src/index.ts'),
  '@ptftp/dhcp-options': src('dhcp-options/src/index.ts'),
  '@ptftp/security': src('security/src/index.ts'),
  '@ptftp/phone': src('phone/src/index.ts'),
  '@ptftp/resolver/testing': src('resolver/src/testing/index.ts'),
  '@ptftp/resolver/internal': src('resolver/src/internal.ts'),
  '@ptftp/resolver': src('resolver/src/index.ts'),
  '@ptftp/redis-cache': src('redis-cache/src/index.ts'),
  '@ptftp/server/internal': src('server/src/internal.ts'),
  '@ptftp/server': src('server/src/index.ts'),
};

const project = (name: string, extra: Record<string, unknown> = {}) => ({
  resolve: { alias },
  test: {
    name,
    root: `./packages/${name}`,
    include: ['test/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    ...extra,
  },
});

export default defineConfig({
  test: {
    projects: [
      project('protocol'),
      project('dhcp-options'),
      project('security'),
      project('phone'),
      project('resolver'),
      project('redis-cache'),
      project('server'),
      project('cli'),
      {
        resolve: { alias },
        test: {
          name: 'reliability',
          root: './reliability',
          include: ['test/**/*.spec.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'test-support',
          root: './test-support',
          include: ['**/*.spec.ts'],
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: { name: 'examples', root: './examples', include: ['test/**/*.spec.ts'], testTimeout: 60_000 },
      },
    ],
  },
});
