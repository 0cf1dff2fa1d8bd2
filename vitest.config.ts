import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // One file at a time: the integration tests share one broker and the model tests train on both
    // cores of the 2-core machine; running them side by side would make timings and failures murky.
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/test-report.json' },
    projects: [
      // `npm run test:reproduce` only: retraining the English model from the datasets (about 8 minutes).
      ...(process.env.EMOTION_STREAM_REPRODUCE
        ? [{ extends: true as const, test: { name: 'reproduce', include: ['test/reproduce/**/*.test.ts'] } }]
        : []),
      // `npm run test:cluster` only: chaos on a 3-broker KRaft cluster of its own (issue 21).
      ...(process.env.EMOTION_STREAM_CLUSTER
        ? [{ extends: true as const, test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'] } }]
        : []),
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        // The shipped models, training and the engines: real ONNX runtime and the shared datasets, no Kafka.
        test: { name: 'models', include: ['test/models/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // bad-input: every way in fed what it should refuse (fuzzed REST requests, malformed
          // records on each topic, broken audio and CSV files, WebSocket floods), and chaos: processes
          // killed, the broker restarted, the registry and Azurite down (on a stack of its own).
          include: [
            'test/integration/**/*.test.ts',
            'test/bad-input/**/*.test.ts',
            'test/chaos/**/*.test.ts',
          ],
          // Real Kafka, registry and Azurite, started once for the run (or taken from the environment).
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
