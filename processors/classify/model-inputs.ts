import type * as ort from 'onnxruntime-node';

/** The tensors one ONNX run takes for a batch of texts, and which texts were cut to fit. */
export interface PreparedBatch {
  feeds: Record<string, ort.Tensor>;
  truncated: boolean[];
}

/**
 * How a model turns texts into its input tensors: hashed TF-IDF features for the bag-of-words
 * tier, WordPiece token ids for the encoder tier. One interface, so LoadedModel, evaluation and
 * serving never ask which kind of model they hold.
 */
export interface ModelInputs {
  readonly kind: 'bag-of-words' | 'tokens';
  /** Most texts in one ONNX run (the model's own reason to run fewer than a caller's batch). */
  readonly textsPerRun: number;
  prepare(texts: readonly string[]): PreparedBatch;
}
