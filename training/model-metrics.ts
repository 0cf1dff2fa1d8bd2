import type { DatasetFormat, Split } from './datasets.js';
import type { EvaluationReport } from './metrics.js';

/** What metrics.json says of a bag-of-words model (training/train.ts writes it, model-card.ts reads it). */
export interface ModelMetrics {
  model: { name: string; version: string; language: string };
  dataset: DatasetFormat;
  command: string;
  seed: number;
  selection: { lrWeightCore: number; lrWeightFine: number | null };
  examples: Record<Split, number>;
  dev: Partial<Record<'core' | 'fine', EvaluationReport>>;
  test: Partial<Record<'core' | 'fine', EvaluationReport>>;
  sizeBytes: number;
}

/** What metrics.json says of an encoder model (training/encoder-trainer.ts). */
export interface EncoderMetrics {
  model: { name: string; version: string; language: string };
  dataset: 'goemotions';
  tier: 'quality';
  command: string;
  seed: number;
  base: string;
  training: {
    epochs: number;
    learningRate: number;
    batch: number;
    trainTokens: number;
    seconds: number;
    /** Lines of another dataset the core head also learned from (XED English), if any. */
    /** Extra core-labelled rows; `head`: trained the served core head, or one of their own. */
    extra?: { dataset: string; examples: number; head?: 'core' | 'own' };
  };
  examples: Record<Split, number>;
  dev: Partial<Record<'core' | 'fine', EvaluationReport>>;
  test: Partial<Record<'core' | 'fine', EvaluationReport>>;
  sizeBytes: number;
  outOfDomain?: unknown;
}
