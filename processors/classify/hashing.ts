/**
 * 32-bit FNV-1a steps with a MurmurHash3 finaliser: cheap enough to hash every character n-gram of
 * a text incrementally (one multiply per character), well enough mixed that the low bits used as
 * a bucket index are uniform.
 */
const FNV_PRIME = 0x01000193;

export function fnvStep(hash: number, code: number): number {
  return Math.imul(hash ^ code, FNV_PRIME);
}

export function finalize(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a whole string (its UTF-16 code units), from a seed. */
export function hashString(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = fnvStep(hash, text.charCodeAt(i));
  return hash;
}

/** Combines two hashes into one for an ordered pair (word bigrams). */
export function combine(first: number, second: number): number {
  return Math.imul(first ^ Math.imul(second, 0x9e3779b1), FNV_PRIME) ^ (second >>> 15);
}
