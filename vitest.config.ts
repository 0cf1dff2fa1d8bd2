import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 300_000,
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/test-report.json' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Real Kafka, registry and Azurite, started once for the run (or taken from the environment).
          globalSetup: ['test/support/global-setup.ts'],
          // The integration tests share one broker on a 2-core machine; one file at a time keeps their
          // timing realistic and their failures readable.
          fileParallelism: false,
        },
      },
    ],
  },
});
