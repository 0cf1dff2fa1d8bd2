import * as ort from 'onnxruntime-node';
import type { TextFeaturizer } from './featurizer.js';
import type { ModelInputs, PreparedBatch } from './model-inputs.js';
import { padBatch } from './onnx-batch.js';

/** The bag-of-words tier's inputs: featurizer.json's hashed TF-IDF (indices, values) per text. */
export class BagOfWordsInputs implements ModelInputs {
  readonly kind = 'bag-of-words';
  readonly textsPerRun = Number.POSITIVE_INFINITY;

  constructor(readonly featurizer: TextFeaturizer) {}

  prepare(texts: readonly string[]): PreparedBatch {
    const encoded = texts.map((text) => this.featurizer.encode(text));
    const batch = padBatch(encoded);
    return {
      feeds: {
        indices: new ort.Tensor('int32', batch.indices, [batch.batch, batch.width]),
        values: new ort.Tensor('float32', batch.values, [batch.batch, batch.width]),
      },
      truncated: encoded.map((e) => e.truncated),
    };
  }
}
