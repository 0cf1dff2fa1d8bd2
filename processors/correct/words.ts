/**
 * Finds the words a dictionary corrector may touch. Everything else — URLs, e-mail addresses,
 * @mentions, #hashtags, numbers, words with digits, emoji, punctuation — is matched only to be
 * skipped, so it passes through byte for byte.
 */
const TOKEN =
  /(https?:\/\/\S+|www\.\S+|[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}|[@#][\p{L}\p{N}_]+)|([\p{L}\p{M}\p{N}_]+(?:['’][\p{L}\p{M}]+)*)/gu;

export interface WordSpan {
  word: string;
  offset: number;
}

export function correctableWords(text: string): WordSpan[] {
  const words: WordSpan[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const word = match[2];
    if (word === undefined || /[\p{N}_]/u.test(word)) continue;
    words.push({ word, offset: match.index });
  }
  return words;
}

export type Casing = 'lower' | 'capitalized' | 'upper' | 'mixed';

export function casingOf(word: string): Casing {
  if (word === word.toLowerCase()) return 'lower';
  if (word === word.toUpperCase()) return 'upper';
  const first = word.slice(0, 1);
  const rest = word.slice(1);
  return first === first.toUpperCase() && rest === rest.toLowerCase() ? 'capitalized' : 'mixed';
}

/** The replacement written the way the original was: lower, Capitalized or UPPER. */
export function withCasing(replacement: string, casing: Casing): string {
  if (casing === 'upper') return replacement.toUpperCase();
  if (casing === 'capitalized') return replacement.slice(0, 1).toUpperCase() + replacement.slice(1);
  if (casing === 'lower') return replacement.toLowerCase();
  return replacement;
}

/** Lowercase, without diacritics or apostrophes: `Mașină` and `masina`, `don't` and `dont` fold alike. */
export function foldWord(word: string): string {
  return word.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/['’]/g, '');
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = new Uint16Array(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}
