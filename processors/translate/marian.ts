import { pipeline, type TranslationPipeline } from '@huggingface/transformers';
import type { Logger } from '../../runtime/logger.js';
import { type HubModelOptions, locateHubModel } from '../shared/hub-model.js';
import type { TranslationContext, TranslationEngine } from './engine.js';

export interface MarianOptions extends HubModelOptions {
  /** Source language → OPUS-MT model (Hub id or local directory) translating into the target language. */
  models: Record<string, string>;
  targetLanguage: string;
  device?: 'cpu' | 'cuda';
  /** Texts per model call. */
  batchSize?: number;
  logger: Logger;
}

/**
 * OPUS-MT (Marian) models through transformers.js, one per source language, all into the target
 * language. Loaded at start: a model that cannot load fails the service, not the first record.
 */
export class MarianTranslationEngine implements TranslationEngine {
  readonly name = 'marian';

  private constructor(
    private readonly translators: Map<string, TranslationPipeline>,
    private readonly targetLanguage: string,
    private readonly batchSize: number,
  ) {}

  static async load(options: MarianOptions): Promise<MarianTranslationEngine> {
    const translators = new Map<string, TranslationPipeline>();
    for (const [language, model] of Object.entries(options.models)) {
      const { id, where } = locateHubModel(model, options);
      try {
        const translator = (await pipeline('translation', id, {
          device: options.device ?? 'cpu',
        })) as unknown as TranslationPipeline;
        translators.set(language, translator);
        options.logger.info({ language, model }, 'translation model loaded');
      } catch (error) {
        throw new Error(
          `cannot load the ${language}→${options.targetLanguage} translation model from ${where}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    return new MarianTranslationEngine(translators, options.targetLanguage, options.batchSize ?? 16);
  }

  supports(from: string, to: string): boolean {
    return to === this.targetLanguage && this.translators.has(from);
  }

  async run(texts: readonly string[], { from, to }: TranslationContext): Promise<string[]> {
    const translator = this.translators.get(from);
    if (!translator || to !== this.targetLanguage) throw new Error(`no translation model for ${from}→${to}`);
    const results: string[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      const output = (await translator(batch as string[])) as Array<{ translation_text: string }>;
      results.push(...output.map((o) => o.translation_text));
    }
    return results;
  }

  async close(): Promise<void> {
    await Promise.all([...this.translators.values()].map((t) => t.dispose()));
  }
}
