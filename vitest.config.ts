import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { configDefaults, defineConfig } from 'vitest/config'

const timeouts = { testTimeout: 20_000, hookTimeout: 30_000 }

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/workers/**'],
          ...timeouts,
        },
      },
      {
        // Runs inside workerd (see test/workers/entry.ts). LIMITS has a short window and lease, so the tests
        // can wait for entries to leave; LIMITS_MINUTE the real minute, for bursts that must not outlast it.
        plugins: [
          cloudflareTest({
            main: './test/workers/entry.ts',
            miniflare: {
              compatibilityDate: '2026-04-01',
              durableObjects: {
                LIMITS: { className: 'LimitsDurableObject', useSQLite: true },
                LIMITS_MINUTE: { className: 'MinuteLimitsDurableObject', useSQLite: true },
              },
              bindings: { LIMITS_WINDOW_MS: 1000, LIMITS_LEASE_MS: 600 },
              kvNamespaces: ['CACHE', 'KEYS'],
            },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          ...timeouts,
        },
      },
    ],
  },
})
