/** Hashed features of one text: bucket indices and their sublinear term frequencies. */
export interface SparseFeatures {
  indices: Int32Array;
  tf: Float32Array;
  /** True when the text was longer than maxChars and only its start was used. */
  truncated: boolean;
}

/**
 * TF-IDF value of each feature of one text, with the word block and the character block each
 * scaled to unit length and the whole then to unit length. Training builds its design matrix with
 * this function and the exported ONNX graph computes exactly the same arithmetic.
 */
export function weightFeatures(
  features: SparseFeatures,
  idf: Float32Array,
  wordBuckets: number,
): Float32Array {
  const { indices, tf } = features;
  const values = new Float32Array(indices.length);
  let wordSquares = 0;
  let charSquares = 0;
  for (let i = 0; i < indices.length; i++) {
    const value = Math.fround(tf[i]! * idf[indices[i]!]!);
    values[i] = value;
    if (indices[i]! < wordBuckets) wordSquares += value * value;
    else charSquares += value * value;
  }
  const blocks = (wordSquares > 0 ? 1 : 0) + (charSquares > 0 ? 1 : 0);
  const whole = 1 / Math.sqrt(Math.max(blocks, 1));
  const wordScale = whole / Math.max(Math.sqrt(wordSquares), NORM_EPSILON);
  const charScale = whole / Math.max(Math.sqrt(charSquares), NORM_EPSILON);
  for (let i = 0; i < indices.length; i++)
    values[i] = values[i]! * (indices[i]! < wordBuckets ? wordScale : charScale);
  return values;
}

/** Below this a block counts as empty; the ONNX graph uses the same constant. */
export const NORM_EPSILON = 1e-12;
