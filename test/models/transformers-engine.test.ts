import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import { TransformersEmotionEngine } from '../../processors/classify/transformers-engine.js';
import {
  type BagOfWordsModel,
  bagOfWords,
  bertWords,
  trainBagOfWords,
  writeHuggingFaceModel,
} from '../../training/hf-export.js';

let dir: string;
let model: BagOfWordsModel;
beforeAll(async () => {
  // A model in Hugging Face layout that the project trains and exports itself (no hub access here).
  model = await trainBagOfWords({ vocabularySize: 6000 });
  dir = join(mkdtempSync(join(tmpdir(), 'hf-')), 'emotion-stream-en-bow');
  writeHuggingFaceModel(model, dir);
});

/** The exported model's scores computed directly from its weights, for the same words. */
function reference(text: string): number[] {
  const ids = new Map(model.vocabulary.map((word, i) => [word, i]));
  const { indices, values } = bagOfWords(bertWords(text), ids);
  const k = CORE_EMOTIONS.length;
  return CORE_EMOTIONS.map((_, c) => {
    let z = model.bias[c]!;
    indices.forEach((id, i) => {
      z += model.weights[id * k + c]! * values[i]!;
    });
    return 1 / (1 + Math.exp(-z));
  });
}

describe('the transformers engine', () => {
  it('loads a Hugging Face layout model from a local directory and maps its labels onto the core classes', async () => {
    const engine = await TransformersEmotionEngine.load({ model: dir, allowRemote: false });
    const texts = [
      'Thank you so much, I love it!',
      'This is so stupid, I hate it',
      'The bus leaves at noon.',
    ];
    const results = await engine.run(texts, {});
    await engine.close();
    expect(results).toHaveLength(3);
    results.forEach((result, i) => {
      const expected = reference(texts[i]!);
      for (const [c, emotion] of CORE_EMOTIONS.entries())
        expect(result.core[emotion]).toBeCloseTo(expected[c]!, 4);
      expect(result.model.engine).toBe('transformers');
    });
    expect(results[0]!.topLabel).toBe('joy');
    expect(results[1]!.topLabel).toBe('anger');
  });

  it('tokenizes as training assumed: whole words, punctuation apart, unknown words as [UNK]', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = dirname(dir);
    const tokenizer = await AutoTokenizer.from_pretrained(basename(dir));
    const vocabulary = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')).model.vocab as Record<
      string,
      number
    >;
    const text = "Wow, that's GREAT news!!! zzqqxx";
    const ids = Array.from(tokenizer.encode(text) as number[]);
    const words = bertWords(text).map((word) => vocabulary[word] ?? vocabulary['[UNK]']);
    expect(ids).toEqual([vocabulary['[CLS]'], ...words, vocabulary['[SEP]']]);
  });

  it('refuses a model whose labels cannot be mapped, naming the setting that fixes it', async () => {
    await expect(
      TransformersEmotionEngine.load({ model: dir, allowRemote: false, labelMap: { anger: 'rage-ish' } }),
    ).rejects.toThrow(/not one of anger, disgust/);
  });
});
