import { describe, expect, it } from 'vitest';
import { fromFloat16Bits, toFloat16Bits } from '../../processors/classify/float16.js';
import { fitLogistic } from '../../training/logistic-regression.js';
import { evaluatePredictions, tuneThreshold } from '../../training/metrics.js';
import { logCountRatios } from '../../training/naive-bayes.js';
import { csrFromRows } from '../../training/sparse-matrix.js';

/** Two informative features (0: positive, 1: negative) and one noise feature (2). */
function toyProblem() {
  const rows = [];
  const targets: number[] = [];
  for (let i = 0; i < 200; i++) {
    const positive = i % 2 === 0;
    const noisy = i % 10 === 0; // 10% flipped evidence
    const feature = positive !== noisy ? 0 : 1;
    rows.push({ indices: Int32Array.from([feature, 2]), values: Float32Array.from([1, 0.5]) });
    targets.push(positive ? 1 : 0);
  }
  return { matrix: csrFromRows(rows, 3), targets: Uint8Array.from(targets) };
}

describe('fitLogistic', () => {
  it('finds the regularised optimum (zero gradient) and separates the classes', () => {
    const { matrix, targets } = toyProblem();
    const fit = fitLogistic(matrix, targets, { C: 1, tolerance: 1e-8, maxIterations: 500 });
    expect(fit.converged).toBe(true);
    expect(fit.weights[0]).toBeGreaterThan(1);
    expect(fit.weights[1]).toBeLessThan(-1);
    // Optimality: w_j + C Σ (σ(z) − t) x_ij = 0 for every feature.
    const gradient = [0, 0, 0];
    for (let r = 0; r < matrix.rows; r++) {
      let z = fit.bias;
      for (let k = matrix.indptr[r]!; k < matrix.indptr[r + 1]!; k++)
        z += fit.weights[matrix.indices[k]!]! * matrix.values[k]!;
      const residual = 1 / (1 + Math.exp(-z)) - targets[r]!;
      for (let k = matrix.indptr[r]!; k < matrix.indptr[r + 1]!; k++)
        gradient[matrix.indices[k]!]! += residual * matrix.values[k]!;
    }
    for (const [j, g] of gradient.entries()) expect(Math.abs(fit.weights[j]! + g)).toBeLessThan(1e-3);
  });

  it('is deterministic to the bit', () => {
    const { matrix, targets } = toyProblem();
    const a = fitLogistic(matrix, targets, { C: 2 });
    const b = fitLogistic(matrix, targets, { C: 2 });
    expect(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer))).toBe(true);
    expect(a.bias).toBe(b.bias);
  });

  it('returns NB-LR weights on the unscaled features', () => {
    const { matrix, targets } = toyProblem();
    const ratios = logCountRatios(matrix, targets, 1);
    expect(ratios[0]).toBeGreaterThan(0);
    expect(ratios[1]).toBeLessThan(0);
    expect(Math.abs(ratios[2]!)).toBeLessThan(1e-6);
    const fit = fitLogistic(matrix, targets, { C: 1, featureScale: ratios });
    expect(Math.abs(fit.weights[2]!)).toBeLessThan(1e-6);
  });
});

describe('metrics', () => {
  it('computes macro-F1 over the classes that occur, accuracy of the top label, per-class scores', () => {
    const report = evaluatePredictions({
      task: 'core',
      classes: ['a', 'b', 'c', 'never'],
      gold: [[0], [0, 1], [2], [1]],
      predicted: [[0], [0], [2, 1], [1]],
      top: [0, 1, 2, 0],
      mode: 'multi-label',
    });
    expect(report.perClass.a).toEqual({ precision: 1, recall: 1, f1: 1, support: 2 });
    expect(report.perClass.b).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(report.perClass.never).toBeUndefined();
    expect(report.macroF1).toBeCloseTo((1 + 0.5 + 1) / 3, 6);
    expect(report.accuracy).toBe(0.75);
  });

  it('tunes a threshold to the F1-maximising cut, deterministically', () => {
    const scores = [0.9, 0.8, 0.35, 0.3, 0.2, 0.1];
    const gold = Uint8Array.from([1, 1, 1, 0, 0, 0]);
    expect(tuneThreshold(scores, gold)).toBe(0.31);
  });
});

describe('float16', () => {
  it('rounds to nearest even and round-trips exactly representable values', () => {
    for (const value of [0, 1, -2, 0.5, 65504, 2 ** -24])
      expect(fromFloat16Bits(toFloat16Bits(value))).toBe(value);
    expect(Math.abs(fromFloat16Bits(toFloat16Bits(0.1)) - 0.1)).toBeLessThan(0.1 * 2 ** -11);
    expect(fromFloat16Bits(toFloat16Bits(1e6))).toBe(Number.POSITIVE_INFINITY);
  });
});
