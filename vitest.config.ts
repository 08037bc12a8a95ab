import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `segflow/plugins…` (the plugin example's imports) resolve to the sources, not to a possibly stale dist/.
  ssr: { resolve: { conditions: ['segflow-source', ...defaultServerConditions] } },
  test: {
    include: ['test/**/*.test.ts', 'connectors/**/*.test.ts', 'plugins/**/*.test.ts', 'core/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/skip-reporter.ts'],
  },
});
