import type { EncodedText } from './featurizer.js';
import type { ModelLabels } from './model-labels.js';

export interface LinearWeights {
  /** Row-major [buckets × columns]. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface HeadScores {
  core: Float32Array;
  fine: Float32Array | null;
}

/**
 * The model's forward pass in plain TypeScript: the reference the exported ONNX graph is tested
 * against. Input is what the featurizer encodes: feature indices and their values.
 */
export class LinearEmotionModel {
  readonly columns: number;

  constructor(
    readonly weights: LinearWeights,
    readonly labels: ModelLabels,
  ) {
    this.columns = weights.bias.length;
    if (weights.weights.length % this.columns !== 0) {
      throw new Error(
        `weights hold ${weights.weights.length} values, not a multiple of ${this.columns} columns`,
      );
    }
  }

  logits(text: Pick<EncodedText, 'indices' | 'values'>): Float32Array {
    const { weights, bias } = this.weights;
    const logits = Float32Array.from(bias);
    const k = this.columns;
    for (let i = 0; i < text.indices.length; i++) {
      const row = text.indices[i]! * k;
      const value = text.values[i]!;
      for (let c = 0; c < k; c++) logits[c] = logits[c]! + weights[row + c]! * value;
    }
    return logits;
  }

  scores(text: Pick<EncodedText, 'indices' | 'values'>): HeadScores {
    return applyHeads(this.logits(text), this.labels);
  }
}

/** From raw logits to core (and fine) scores, as labels.json describes; mirrored by the ONNX graph. */
export function applyHeads(logits: Float32Array, labels: ModelLabels): HeadScores {
  const coreColumns = labels.core.columns;
  const core = new Float32Array(coreColumns.length);
  if (labels.core.activation === 'sigmoid') {
    coreColumns.forEach((column, i) => {
      core[i] = column === null ? 0 : sigmoid(logits[column]!);
    });
  } else {
    const present = coreColumns.filter((column): column is number => column !== null);
    const max = Math.max(...present.map((column) => logits[column]!));
    let sum = 0;
    for (const column of present) sum += Math.exp(logits[column]! - max);
    coreColumns.forEach((column, i) => {
      core[i] = column === null ? 0 : Math.exp(logits[column]! - max) / sum;
    });
  }
  if (!labels.fine) return { core, fine: null };
  return { core, fine: Float32Array.from(labels.fine.columns, (column) => sigmoid(logits[column]!)) };
}

export function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}
