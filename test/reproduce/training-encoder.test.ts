import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { trainEncoderModel } from '../../training/encoder-trainer.js';
import { shippedMetrics } from '../support/models.js';

const logger = createLogger({ level: 'silent' });

/**
 * The encoder tier's full retraining: installs the pinned PyTorch toolchain on first use, then
 * fine-tunes for about 40 minutes on two cores. `npm run test:reproduce` only. PyTorch on CPU is
 * deterministic for a seed and thread count but not across CPUs, hence ±0.01 rather than exact bytes.
 */
describe('training the shipped English encoder model again', () => {
  it('reproduces models/en-encoder (within ±0.01 macro-F1, core and fine)', {
    timeout: 7_200_000,
  }, async () => {
    const shipped = shippedMetrics('en-encoder');
    const metrics = await trainEncoderModel({
      outDir: mkdtempSync(join(tmpdir(), 'en-encoder-')),
      logger,
      seed: shipped.seed,
      epochs: shipped.training.epochs,
      learningRate: shipped.training.learningRate,
    });
    expect(Math.abs(metrics.test.core!.macroF1 - shipped.test.core.macroF1)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(metrics.test.fine!.macroF1 - shipped.test.fine.macroF1)).toBeLessThanOrEqual(0.01);
  });
});
