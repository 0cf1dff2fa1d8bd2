import type { CsrMatrix } from './sparse-matrix.js';

export interface LogisticOptions {
  /** Inverse regularisation strength, as in liblinear: minimise ½‖w‖² + C·Σ log-loss. */
  C: number;
  /** Multiplies each feature before the fit (NB-LR); the returned weights already include it. */
  featureScale?: Float32Array;
  maxIterations?: number;
  /** Stop when the gradient norm falls below this fraction of its starting value. */
  tolerance?: number;
  /** L-BFGS history length. */
  memory?: number;
}

export interface LogisticFit {
  /** Weights on the unscaled features (w ⊙ scale). */
  weights: Float32Array;
  bias: number;
  iterations: number;
  loss: number;
  converged: boolean;
}

/**
 * Binary L2-regularised logistic regression by L-BFGS with a backtracking (Armijo) line search.
 * The bias is not regularised. Deterministic: same data and options, same bits out.
 */
export function fitLogistic(matrix: CsrMatrix, targets: Uint8Array, options: LogisticOptions): LogisticFit {
  const { C, featureScale } = options;
  const maxIterations = options.maxIterations ?? 300;
  const tolerance = options.tolerance ?? 1e-4;
  const memory = options.memory ?? 10;
  const d = matrix.columns;
  const n = d + 1; // last variable is the bias
  const { rows, indptr, indices } = matrix;
  // Scaling the values once keeps both inner loops free of a second gather and a branch.
  const values = featureScale
    ? Float32Array.from(matrix.values, (v, k) => v * featureScale[indices[k]!]!)
    : matrix.values;
  const margins = new Float64Array(rows);
  const residual = new Float64Array(rows);

  /** Loss and gradient at x; fills grad. */
  const evaluate = (x: Float64Array, grad: Float64Array): number => {
    const bias = x[d]!;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      let z = bias;
      for (let k = indptr[r]!; k < indptr[r + 1]!; k++) {
        z += x[indices[k]!]! * values[k]!;
      }
      margins[r] = z;
      // log(1 + e^{-s z}) computed stably; residual = σ(z) − t
      const s = targets[r] ? 1 : -1;
      const sz = s * z;
      loss += sz > 0 ? Math.log1p(Math.exp(-sz)) : -sz + Math.log1p(Math.exp(sz));
      const p = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      residual[r] = p - (targets[r] ? 1 : 0);
    }
    let objective = C * loss;
    for (let j = 0; j < d; j++) {
      grad[j] = x[j]!;
      objective += 0.5 * x[j]! * x[j]!;
    }
    let biasGrad = 0;
    for (let r = 0; r < rows; r++) {
      const g = C * residual[r]!;
      if (g === 0) continue;
      biasGrad += g;
      for (let k = indptr[r]!; k < indptr[r + 1]!; k++) {
        const j = indices[k]!;
        grad[j] = grad[j]! + g * values[k]!;
      }
    }
    grad[d] = biasGrad;
    return objective;
  };

  const x = new Float64Array(n);
  const grad = new Float64Array(n);
  let f = evaluate(x, grad);
  const g0 = norm(grad);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const direction = new Float64Array(n);
  const trial = new Float64Array(n);
  const trialGrad = new Float64Array(n);
  const alphas = new Float64Array(memory);
  let iterations = 0;
  let converged = norm(grad) <= tolerance * g0;

  while (!converged && iterations < maxIterations) {
    // Two-loop recursion: direction = −H·grad
    for (let j = 0; j < n; j++) direction[j] = -grad[j]!;
    for (let m = sHistory.length - 1; m >= 0; m--) {
      const a = rhoHistory[m]! * dot(sHistory[m]!, direction);
      alphas[m] = a;
      axpy(-a, yHistory[m]!, direction);
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      const gamma = dot(sHistory[last]!, yHistory[last]!) / dot(yHistory[last]!, yHistory[last]!);
      for (let j = 0; j < n; j++) direction[j] = direction[j]! * gamma;
    }
    for (let m = 0; m < sHistory.length; m++) {
      const b = rhoHistory[m]! * dot(yHistory[m]!, direction);
      axpy(alphas[m]! - b, sHistory[m]!, direction);
    }
    let slope = dot(grad, direction);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): fall back to steepest descent.
      for (let j = 0; j < n; j++) direction[j] = -grad[j]!;
      slope = dot(grad, direction);
      sHistory.length = 0;
      yHistory.length = 0;
      rhoHistory.length = 0;
    }
    let step = sHistory.length === 0 ? Math.min(1, 1 / norm(grad)) : 1;
    let fTrial = 0;
    let accepted = false;
    for (let attempt = 0; attempt < 30; attempt++) {
      for (let j = 0; j < n; j++) trial[j] = x[j]! + step * direction[j]!;
      fTrial = evaluate(trial, trialGrad);
      if (fTrial <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      s[j] = trial[j]! - x[j]!;
      y[j] = trialGrad[j]! - grad[j]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-10) {
      if (sHistory.length === memory) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
    }
    x.set(trial);
    grad.set(trialGrad);
    const improvement = f - fTrial;
    f = fTrial;
    iterations++;
    converged = norm(grad) <= tolerance * g0 || improvement <= 1e-10 * Math.max(1, Math.abs(f));
  }

  const weights = new Float32Array(d);
  for (let j = 0; j < d; j++) weights[j] = x[j]! * (featureScale ? featureScale[j]! : 1);
  return { weights, bias: x[d]!, iterations, loss: f, converged };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] = y[i]! + alpha * x[i]!;
}

function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}
