import type { Engine } from '../../runtime/engine.js';
/**
 * A machine translator. Engines differ in where they translate (a local Marian model, Azure AI
 * Translator, a LibreTranslate server) but all return one translation per text, in order, and throw
 * RetryableError when the service is unavailable.
 */
/** What a batch of texts to translate shares: their language and the target (ISO 639-1). */
export interface TranslationContext {
  from: string;
  to: string;
}

/** A translator (runtime/engine.ts has the contract); the stage asks `supports` before `run`. */
export interface TranslationEngine extends Engine<string, string, TranslationContext> {
  /** Whether this engine can translate from `from` into `to` (ISO 639-1). */
  supports(from: string, to: string): boolean;
}

/** TRANSLATE_ENGINE=none: supports nothing, so every text passes through untranslated. */
export class NoTranslationEngine implements TranslationEngine {
  readonly name = 'none';

  supports(): boolean {
    return false;
  }

  async run(texts: readonly string[]): Promise<string[]> {
    return [...texts];
  }

  async close(): Promise<void> {}
}

/** Splits texts into consecutive chunks within an element and a character budget (API request limits). */
export function chunkTexts(texts: readonly string[], maxItems: number, maxChars: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const text of texts) {
    if (current.length > 0 && (current.length >= maxItems || chars + text.length > maxChars)) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(text);
    chars += text.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
