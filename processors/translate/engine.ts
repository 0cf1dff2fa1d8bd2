/**
 * A machine translator. Engines differ in where they translate (a local Marian model, Azure AI
 * Translator, a LibreTranslate server) but all return one translation per text, in order, and throw
 * RetryableError when the service is unavailable.
 */
export interface TranslationEngine {
  readonly name: string;
  /** Whether this engine can translate from `from` into `to` (ISO 639-1). */
  supports(from: string, to: string): boolean;
  translate(texts: readonly string[], from: string, to: string): Promise<string[]>;
  close(): Promise<void>;
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
