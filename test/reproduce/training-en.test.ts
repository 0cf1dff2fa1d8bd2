import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { trainModel } from '../../training/train.js';
import { shippedMetrics } from '../support/models.js';

const logger = createLogger({ level: 'silent' });

/**
 * The English model's full retraining (about 8 minutes on two cores), run by
 * `npm run test:reproduce` rather than on every change: the Romanian reproduction in
 * test/models/training.test.ts runs the same training code on every CI run.
 */
describe('training the shipped English model again', () => {
  it('reproduces the shipped English model (within ±0.005 macro-F1, core and fine)', {
    timeout: 1_200_000,
  }, async () => {
    const shipped = shippedMetrics('en');
    const metrics = await trainModel({
      language: 'en',
      outDir: mkdtempSync(join(tmpdir(), 'en-')),
      logger,
      seed: shipped.seed,
    });
    expect(Math.abs(metrics.test.core!.macroF1 - shipped.test.core.macroF1)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(metrics.test.fine!.macroF1 - shipped.test.fine.macroF1)).toBeLessThanOrEqual(0.005);
    expect(metrics.model.version).toBe(shipped.model.version);
  });
});
