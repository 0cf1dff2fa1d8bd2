import type { InputRecord, Outcome, StageHandler } from '../../runtime/stage/types.js';
import type { TextSegment, Translation } from '../../schemas/index.js';
import { groupIndices, languageOfText } from '../shared/language.js';
import type { TranslationEngine } from './engine.js';

/**
 * segments.corrected → segments.translated: fills `translation` from the corrected text (or the
 * original when there is no correction).
 * - Text already in the target language, or too short to tell, passes through
 *   (`engine: "passthrough"`).
 * - Text in another language is translated when the engine can; otherwise it passes through
 *   untranslated with `engine: "none"` and `targetLanguage` = its own language, so the classify
 *   stage uses that language's model if there is one.
 */
export class TranslateHandler implements StageHandler<TextSegment, TextSegment> {
  constructor(
    private readonly engine: TranslationEngine,
    private readonly outputTopic: string,
    private readonly targetLanguage: string,
    private readonly preferredLanguages: readonly string[],
  ) {}

  async process(records: InputRecord<TextSegment>[]): Promise<Outcome<TextSegment>[]> {
    const sources = records.map((r) => r.value.correction?.text ?? r.value.text);
    const languages = records.map((r, i) =>
      languageOfText(sources[i]!, r.value.language, this.preferredLanguages),
    );
    const translations = new Array<Translation>(records.length);
    const target = this.targetLanguage;
    for (const [language, indices] of groupIndices(languages)) {
      if (language === null || language === target) {
        for (const i of indices) {
          translations[i] = {
            text: sources[i]!,
            sourceLanguage: language ?? target,
            targetLanguage: target,
            engine: 'passthrough',
          };
        }
      } else if (this.engine.supports(language, target)) {
        const translated = await this.engine.run(
          indices.map((i) => sources[i]!),
          { from: language, to: target },
        );
        indices.forEach((i, k) => {
          translations[i] = {
            text: translated[k]!,
            sourceLanguage: language,
            targetLanguage: target,
            engine: this.engine.name,
          };
        });
      } else {
        for (const i of indices) {
          translations[i] = {
            text: sources[i]!,
            sourceLanguage: language,
            targetLanguage: language,
            engine: 'none',
          };
        }
      }
    }
    return records.map((record, i) => ({
      outputs: [
        {
          topic: this.outputTopic,
          key: record.key,
          value: {
            ...record.value,
            language: languages[i] ?? record.value.language,
            translation: translations[i]!,
          },
        },
      ],
    }));
  }
}
