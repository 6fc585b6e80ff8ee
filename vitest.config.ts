import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of workspace packages (the "source" export
// condition), so `npm run test:unit` needs no build step.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'scripts/*.test.ts', 'scripts/demo/*.test.ts', 'integration-tests/src/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
