import { weightFeatures } from '../processors/classify/feature-weights.js';
import type { SparseFeatures, TextFeaturizer } from '../processors/classify/featurizer.js';
import { type CsrMatrix, csrFromRows } from './sparse-matrix.js';

/** Smoothed inverse document frequency per bucket, from the training texts only. */
export function inverseDocumentFrequency(features: SparseFeatures[], dimension: number): Float32Array {
  const documents = new Float64Array(dimension);
  for (const text of features) for (const bucket of text.indices) documents[bucket] = documents[bucket]! + 1;
  const n = features.length;
  return Float32Array.from(documents, (df) => Math.log((1 + n) / (1 + df)) + 1);
}

/** The rows a model sees: TF-IDF weighted and normalised exactly as at serving time. */
export function designMatrix(
  features: SparseFeatures[],
  idf: Float32Array,
  featurizer: TextFeaturizer,
): CsrMatrix {
  return csrFromRows(
    features.map((text) => ({
      indices: text.indices,
      values: weightFeatures(text, idf, featurizer.wordBuckets),
    })),
    featurizer.dimension,
  );
}
