import type { TextEdit } from './engine.js';

interface Token {
  text: string;
  offset: number;
}

const MAX_CELLS = 4_000_000;

function tokens(text: string): Token[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: m.index }));
}

/**
 * The edits that turn `original` into `corrected`, word by word (longest common subsequence of
 * whitespace-separated tokens), and the share of words that changed: 0 for the same words, 1 for
 * none in common. Used to describe an LLM's answer and to reject rewrites.
 */
export function diffWords(original: string, corrected: string): { edits: TextEdit[]; changeRatio: number } {
  const a = tokens(original);
  const b = tokens(corrected);
  if (a.length === 0 && b.length === 0) return { edits: [], changeRatio: 0 };
  if (a.length * b.length > MAX_CELLS) {
    // Too long to align: one edit for the whole text, counted as fully changed.
    return original === corrected
      ? { edits: [], changeRatio: 0 }
      : { edits: [{ offset: 0, original, replacement: corrected }], changeRatio: 1 };
  }
  const cols = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * cols);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * cols + j] =
        a[i]!.text === b[j]!.text
          ? lcs[(i + 1) * cols + j + 1]! + 1
          : Math.max(lcs[(i + 1) * cols + j]!, lcs[i * cols + j + 1]!);
    }
  }
  const common = lcs[0]!;
  const edits: TextEdit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i]!.text === b[j]!.text) {
      i++;
      j++;
      continue;
    }
    const startA = i;
    const startB = j;
    while ((i < a.length || j < b.length) && !(i < a.length && j < b.length && a[i]!.text === b[j]!.text)) {
      if (j >= b.length || (i < a.length && lcs[(i + 1) * cols + j]! >= lcs[i * cols + j + 1]!)) i++;
      else j++;
    }
    edits.push(spanEdit(original, corrected, a, b, startA, i, startB, j));
  }
  return { edits, changeRatio: 1 - (2 * common) / (a.length + b.length) };
}

/** One edit replacing tokens a[fromA, toA) with b[fromB, toB), including the spaces between them. */
function spanEdit(
  original: string,
  corrected: string,
  a: Token[],
  b: Token[],
  fromA: number,
  toA: number,
  fromB: number,
  toB: number,
): TextEdit {
  const offset = fromA < toA ? a[fromA]!.offset : fromA < a.length ? a[fromA]!.offset : original.length;
  const end = fromA < toA ? a[toA - 1]!.offset + a[toA - 1]!.text.length : offset;
  const replacement =
    fromB < toB ? corrected.slice(b[fromB]!.offset, b[toB - 1]!.offset + b[toB - 1]!.text.length) : '';
  // A pure insertion or deletion also needs a separating space to keep words apart.
  if (fromA === toA)
    return {
      offset,
      original: '',
      replacement: offset < original.length ? `${replacement} ` : ` ${replacement}`,
    };
  if (fromB === toB) {
    const trailing = /^\s+/.exec(original.slice(end))?.[0] ?? '';
    if (trailing || offset === 0) {
      return { offset, original: original.slice(offset, end + trailing.length), replacement: '' };
    }
    const leading = /\s+$/.exec(original.slice(0, offset))?.[0] ?? '';
    return {
      offset: offset - leading.length,
      original: original.slice(offset - leading.length, end),
      replacement: '',
    };
  }
  return { offset, original: original.slice(offset, end), replacement };
}
