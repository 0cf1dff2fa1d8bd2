import type { CsrMatrix } from './sparse-matrix.js';

/**
 * Naive Bayes log-count ratios of every feature for one binary label (Wang & Manning 2012,
 * "Baselines and Bigrams"): how much more often a feature occurs in positive than in negative
 * texts, with add-alpha smoothing over binarised counts. Scaling features by them before logistic
 * regression (NB-LR) lets evidence-bearing features keep large weights under L2 regularisation.
 */
export function logCountRatios(matrix: CsrMatrix, targets: Uint8Array, alpha: number): Float32Array {
  const positive = new Float64Array(matrix.columns).fill(alpha);
  const negative = new Float64Array(matrix.columns).fill(alpha);
  for (let r = 0; r < matrix.rows; r++) {
    const counts = targets[r] ? positive : negative;
    for (let k = matrix.indptr[r]!; k < matrix.indptr[r + 1]!; k++) {
      if (matrix.values[k]! > 0) counts[matrix.indices[k]!]! += 1;
    }
  }
  let positiveTotal = 0;
  let negativeTotal = 0;
  for (let j = 0; j < matrix.columns; j++) {
    positiveTotal += positive[j]!;
    negativeTotal += negative[j]!;
  }
  const ratios = new Float32Array(matrix.columns);
  for (let j = 0; j < matrix.columns; j++) {
    ratios[j] = Math.log(positive[j]! / positiveTotal / (negative[j]! / negativeTotal));
  }
  return ratios;
}
