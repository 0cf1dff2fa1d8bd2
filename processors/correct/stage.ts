import type { InputRecord, Outcome, StageHandler } from '../../runtime/stage/types.js';
import type { TextSegment } from '../../schemas/index.js';
import { groupIndices, languageOfText } from '../shared/language.js';
import type { CorrectionEngine } from './engine.js';

/**
 * segments.raw → segments.corrected: fills `correction` (corrected text, engine, edits) and the
 * segment's language, keeping the original `text` as it was.
 */
export class CorrectHandler implements StageHandler<TextSegment, TextSegment> {
  constructor(
    private readonly engine: CorrectionEngine,
    private readonly outputTopic: string,
    /** Languages detection should prefer (those the engine can correct). */
    private readonly preferredLanguages: readonly string[],
  ) {}

  async process(records: InputRecord<TextSegment>[]): Promise<Outcome<TextSegment>[]> {
    const languages = records.map((r) =>
      languageOfText(r.value.text, r.value.language, this.preferredLanguages),
    );
    const outcomes = new Array<Outcome<TextSegment>>(records.length);
    for (const [language, indices] of groupIndices(languages)) {
      const results = await this.engine.run(
        indices.map((i) => records[i]!.value.text),
        { lang: language },
      );
      indices.forEach((recordIndex, k) => {
        const record = records[recordIndex]!;
        const result = results[k]!;
        outcomes[recordIndex] = {
          outputs: [
            {
              topic: this.outputTopic,
              key: record.key,
              value: {
                ...record.value,
                language: language ?? record.value.language,
                correction: { text: result.text, engine: this.engine.name, edits: result.edits },
              },
            },
          ],
        };
      });
    }
    return outcomes;
  }
}
