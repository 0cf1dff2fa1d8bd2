import type { Engine } from '../../runtime/engine.js';
import type { TextEdit } from '../../schemas/index.js';

/** One change a corrector made, at a UTF-16 offset of the uncorrected text (the event's own type). */
export type { TextEdit };

export interface CorrectionResult {
  /** The corrected text (the input itself when nothing changed). */
  text: string;
  edits: TextEdit[];
}

/** What a batch of texts to correct shares: `lang`, the ISO 639-1 code of every text, or null when unknown. */
export interface CorrectionContext {
  lang: string | null;
}

/**
 * A spelling/grammar corrector (runtime/engine.ts has the contract). Engines differ in how they
 * correct (dictionaries, an LLM) but never fail a text they cannot improve: they return it unchanged.
 */
export type CorrectionEngine = Engine<string, CorrectionResult, CorrectionContext>;

/** The `none` engine: every text unchanged, for pipelines that skip correction. */
export class NoCorrectionEngine implements CorrectionEngine {
  readonly name = 'none';

  async run(texts: readonly string[]): Promise<CorrectionResult[]> {
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
