import type { EncodedText } from './featurizer.js';

/** A batch of encoded texts padded to one length: index 0 with value 0 on padding adds nothing. */
export interface PaddedBatch {
  indices: Int32Array;
  values: Float32Array;
  batch: number;
  width: number;
}

export function padBatch(texts: readonly Pick<EncodedText, 'indices' | 'values'>[]): PaddedBatch {
  // At least 1 wide: an empty text still needs a tensor of shape [batch, 1].
  let width = 1;
  for (const text of texts) if (text.indices.length > width) width = text.indices.length;
  const indices = new Int32Array(texts.length * width);
  const values = new Float32Array(texts.length * width);
  texts.forEach((text, row) => {
    indices.set(text.indices, row * width);
    values.set(text.values, row * width);
  });
  return { indices, values, batch: texts.length, width };
}
