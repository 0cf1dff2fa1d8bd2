import type { TextEdit } from '../../schemas/index.js';

/** One change a corrector made, at a UTF-16 offset of the uncorrected text (the event's own type). */
export type { TextEdit };

export interface CorrectionResult {
  /** The corrected text (the input itself when nothing changed). */
  text: string;
  edits: TextEdit[];
}

/**
 * A spelling/grammar corrector. Engines differ in how they correct (dictionaries, an LLM) but all
 * return one result per text, in order, and never fail a text they cannot improve: they return it
 * unchanged. They throw RetryableError when a service they need is unavailable.
 */
export interface CorrectionEngine {
  readonly name: string;
  /** `lang` is the ISO 639-1 code of every text, or null when unknown. */
  correct(texts: readonly string[], lang: string | null): Promise<CorrectionResult[]>;
  close(): Promise<void>;
}

/** The `none` engine: every text unchanged, for pipelines that skip correction. */
export class NoCorrectionEngine implements CorrectionEngine {
  readonly name = 'none';

  async correct(texts: readonly string[]): Promise<CorrectionResult[]> {
    return texts.map((text) => ({ text, edits: [] }));
  }

  async close(): Promise<void> {}
}

/** Applies non-overlapping edits (any order) to the text they were computed on. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let result = '';
  let at = 0;
  for (const edit of [...edits].sort((a, b) => a.offset - b.offset)) {
    result += text.slice(at, edit.offset) + edit.replacement;
    at = edit.offset + edit.original.length;
  }
  return result + text.slice(at);
}
