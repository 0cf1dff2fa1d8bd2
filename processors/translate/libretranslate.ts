import { postJson } from '../../runtime/http/json-client.js';
import type { Logger } from '../../runtime/logger.js';
import { chunkTexts, type TranslationContext, type TranslationEngine } from './engine.js';

export interface LibreTranslateOptions {
  url: string;
  apiKey: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  logger: Logger;
}

/** A LibreTranslate server (`POST /translate` with `q` as an array of texts). */
export class LibreTranslateEngine implements TranslationEngine {
  readonly name = 'libretranslate';

  constructor(private readonly options: LibreTranslateOptions) {}

  supports(from: string, to: string): boolean {
    return from !== to;
  }

  async run(texts: readonly string[], { from, to }: TranslationContext): Promise<string[]> {
    const results: string[] = [];
    for (const chunk of chunkTexts(texts, 50, 20_000)) {
      const answer = await postJson<{ translatedText?: string[] | string }>(
        `${this.options.url}/translate`,
        {
          q: chunk,
          source: from,
          target: to,
          format: 'text',
          ...(this.options.apiKey ? { api_key: this.options.apiKey } : {}),
        },
        {
          timeoutMs: this.options.timeoutMs,
          maxRetries: this.options.maxRetries,
          onRetry: (reason, attempt) =>
            this.options.logger.warn({ reason, attempt }, 'LibreTranslate: retrying'),
        },
      );
      const translated = answer.translatedText;
      if (!Array.isArray(translated) || translated.length !== chunk.length) {
        throw new Error(
          `LibreTranslate answered ${JSON.stringify(translated)?.slice(0, 100)} for ${chunk.length} texts`,
        );
      }
      results.push(...translated);
    }
    return results;
  }

  async close(): Promise<void> {}
}
