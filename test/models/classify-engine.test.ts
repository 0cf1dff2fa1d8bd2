import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifyInputError, type EmotionScores } from '../../processors/classify/engine.js';
import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import { OnnxEmotionEngine } from '../../processors/classify/onnx-engine.js';

let engine: OnnxEmotionEngine;
beforeAll(async () => {
  engine = await OnnxEmotionEngine.load();
});
afterAll(async () => {
  await engine.close();
});

function expectValid(result: EmotionScores) {
  for (const emotion of CORE_EMOTIONS) {
    expect(result.core[emotion]).toBeGreaterThanOrEqual(0);
    expect(result.core[emotion]).toBeLessThanOrEqual(1);
  }
  expect(CORE_EMOTIONS).toContain(result.topLabel);
  expect(result.model.engine).toBe('onnx');
}

describe('the onnx engine with the shipped models', () => {
  it('loads the English and Romanian models', () => {
    expect([...engine.languages].sort()).toEqual(['en', 'ro']);
  });

  it('finds the obvious emotion of plain sentences', async () => {
    const results = await engine.classify([
      'Thank you so much, this is wonderful news!',
      'I am so angry at them, this is outrageous',
      'I am terrified of what will happen tomorrow',
      'My dog died yesterday and I miss him so much',
      'Wow, I did not expect that at all!',
      'The meeting is on Thursday at three.',
    ]);
    expect(results.map((r) => r.topLabel)).toEqual([
      'joy',
      'anger',
      'fear',
      'sadness',
      'surprise',
      'neutral',
    ]);
    expect(results[0]!.fine).not.toBeNull();
    expect(results[0]!.fine!.gratitude).toBeGreaterThan(0.5);
  });

  it('routes by detected language, and flags texts scored by another language model', async () => {
    const [romanian, english, french] = await engine.classify([
      'Sunt foarte fericită astăzi, mulțumesc tuturor pentru urări!',
      'I am really happy today, thank you all for the wishes!',
      "Je suis vraiment très heureux aujourd'hui, merci à tous pour vos voeux",
    ]);
    expect(romanian).toMatchObject({
      language: 'ro',
      detectedLanguage: 'ro',
      languageFallback: false,
      topLabel: 'joy',
    });
    expect(romanian!.core.disgust).toBe(0);
    expect(romanian!.core.surprise).toBe(0);
    expect(romanian!.fine).toBeNull();
    expect(english).toMatchObject({ language: 'en', detectedLanguage: 'en', languageFallback: false });
    expect(french).toMatchObject({ language: 'en', detectedLanguage: 'fr', languageFallback: true });
  });

  it('follows a language hint instead of detecting', async () => {
    const [hintedRo] = await engine.classify(['ok'], { lang: 'ro' });
    expect(hintedRo!.language).toBe('ro');
    const [hintedDe] = await engine.classify(['Ich bin so glücklich heute'], { lang: 'de-DE' });
    expect(hintedDe).toMatchObject({ language: 'en', detectedLanguage: 'de', languageFallback: true });
    await expect(engine.classify(['x'], { lang: '!!' })).rejects.toBeInstanceOf(ClassifyInputError);
  });

  it('gives valid scores for empty, whitespace, emoji-only, mixed-script and 100 kB texts', async () => {
    const hundredKb = 'This is a very long complaint about the service. '.repeat(2100);
    expect(hundredKb.length).toBeGreaterThan(100_000);
    const results = await engine.classify([
      '',
      '   \n\t',
      '😡😡😡',
      '🎉🎉 yay 🎉',
      'Привет мир, hello world, 你好世界',
      hundredKb,
    ]);
    results.forEach(expectValid);
    expect(results[0]!.detectedLanguage).toBeNull();
    expect(results[5]!.truncated).toBe(true);
    expect(results[4]!.truncated).toBe(false);
  });

  it('rejects input that is not an array of strings with a clear error', async () => {
    await expect(engine.classify(['ok', 42 as unknown as string])).rejects.toThrow(
      /texts\[1\] is not a string/,
    );
    await expect(engine.classify('text' as unknown as string[])).rejects.toBeInstanceOf(ClassifyInputError);
  });

  it('scores a text the same alone and inside a large batch', async () => {
    const texts = Array.from(
      { length: 600 },
      (_, i) => `message number ${i} ${i % 3 === 0 ? 'I love it' : 'this is awful'}`,
    );
    const batch = await engine.classify(texts, { lang: 'en' });
    const [alone] = await engine.classify([texts[457]!], { lang: 'en' });
    expect(batch).toHaveLength(600);
    for (const emotion of CORE_EMOTIONS)
      expect(batch[457]!.core[emotion]).toBeCloseTo(alone!.core[emotion], 5);
  });
});
