import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { trainModel } from '../../training/train.js';
import { shippedMetrics } from '../support/models.js';

const logger = createLogger({ level: 'silent' });

describe('training from the shared datasets', () => {
  it('reproduces the shipped Romanian model (within ±0.005 macro-F1) and is deterministic', async () => {
    const shipped = shippedMetrics('ro');
    const first = await trainModel({
      language: 'ro',
      outDir: mkdtempSync(join(tmpdir(), 'ro-a-')),
      logger,
      seed: shipped.seed,
    });
    const second = await trainModel({
      language: 'ro',
      outDir: mkdtempSync(join(tmpdir(), 'ro-b-')),
      logger,
      seed: shipped.seed,
    });
    expect(Math.abs(first.test.core!.macroF1 - shipped.test.core.macroF1)).toBeLessThanOrEqual(0.005);
    expect(first.model.version).toBe(second.model.version); // same bytes, same content hash
    expect(first.test.core!.accuracy).toBeGreaterThanOrEqual(0.91);
  });
});
