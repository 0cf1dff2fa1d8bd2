import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEdits } from '../../processors/correct/engine.js';
import { HunspellCorrectionEngine, variants } from '../../processors/correct/hunspell-engine.js';
import { diffWords } from '../../processors/correct/word-diff.js';
import { casingOf, correctableWords, editDistance, foldWord } from '../../processors/correct/words.js';

describe('correctable words', () => {
  it('skips URLs, e-mail addresses, @mentions, #hashtags, numbers and emoji', () => {
    const text =
      'Vezi https://exemplu.ro/masina?id=3 @masina_mea #masina test@masina.ro 42 masina2 😀 masina';
    expect(correctableWords(text).map((w) => w.word)).toEqual(['Vezi', 'masina']);
    expect(correctableWords(text).at(-1)?.offset).toBe(text.lastIndexOf('masina'));
  });

  it('keeps apostrophes and Romanian hyphen-free letters inside words', () => {
    expect(correctableWords("don't mi-a l’am").map((w) => w.word)).toEqual(["don't", 'mi', 'a', 'l’am']);
  });

  it('knows casing, folding and edit distance', () => {
    expect([casingOf('masina'), casingOf('Masina'), casingOf('MASINA'), casingOf('iPhone')]).toEqual([
      'lower',
      'capitalized',
      'upper',
      'mixed',
    ]);
    expect(foldWord('Mașină')).toBe('masina');
    expect(foldWord("Don't")).toBe('dont');
    expect(editDistance('teh', 'the')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('lists accent variants with the fewest changes first', () => {
    const forms = variants('sa', { a: ['ă', 'â'], s: ['ș'] });
    expect(forms.slice(0, 3)).toEqual(['să', 'sâ', 'șa']);
    expect(forms).toContain("s'a");
  });
});

describe('hunspell corrector', () => {
  let engine: HunspellCorrectionEngine;
  beforeAll(async () => {
    engine = await HunspellCorrectionEngine.load(['en', 'ro']);
  });
  afterAll(() => engine.close());

  it('restores Romanian diacritics, keeping the case of each word', async () => {
    const [result] = await engine.run(['Mi-a furat cineva masina. Masina era noua si frumoasa!'], {
      lang: 'ro',
    });
    // `noua` and `frumoasa` stay: they are Romanian words too (definite forms), and only unknown words change.
    expect(result!.text).toBe('Mi-a furat cineva mașina. Mașina era noua și frumoasa!');
    expect(result!.edits).toContainEqual({ offset: 18, original: 'masina', replacement: 'mașina' });
    expect(applyEdits('Mi-a furat cineva masina. Masina era noua si frumoasa!', result!.edits)).toBe(
      result!.text,
    );
  });

  it('leaves known words, URLs, mentions, numbers, emoji, acronyms and punctuation untouched', async () => {
    const text = 'Sunt fericită 😀!!! @masina https://x.ro/masina 2024 NASA, ok?';
    const [result] = await engine.run([text], { lang: 'ro' });
    expect(result!.text).toBe(text);
    expect(result!.edits).toEqual([]);
  });

  it('fixes English typos by the closest suggestion, and leaves what it cannot place', async () => {
    const [result] = await engine.run(['I recieve it becuase I dont know, xqzzvw lol'], { lang: 'en' });
    expect(result!.text).toBe("I receive it because I don't know, xqzzvw lol");
  });

  it('guesses only when one dictionary word is one edit away (a swap wins), never for Romanian', async () => {
    const [english] = await engine.run(['cringey grift whisky sorceror someting desings'], { lang: 'en' });
    expect(english!.text).toBe('cringey grift whisky sorcerer something designs');
    // `spune` and `trebuia` are Romanian words nspell fails to recognise, and `ca`/`sa` are words
    // too (as, his): all must survive.
    const text = 'ea spune ca trebuia sa plece';
    expect(await engine.run([text], { lang: 'ro' })).toEqual([{ text, edits: [] }]);
  });

  it('passes texts in languages it has no dictionary for, and unknown languages, unchanged', async () => {
    const texts = ['Das ist ein Testt', 'masina'];
    expect(await engine.run(texts, { lang: 'de' })).toEqual(texts.map((text) => ({ text, edits: [] })));
    expect(await engine.run(texts, { lang: null })).toEqual(texts.map((text) => ({ text, edits: [] })));
  });

  it('handles empty and whitespace-only texts', async () => {
    expect(await engine.run(['', '   '], { lang: 'ro' })).toEqual([
      { text: '', edits: [] },
      { text: '   ', edits: [] },
    ]);
  });

  it('refuses a language without a dictionary at load time, naming the ones it has', async () => {
    await expect(HunspellCorrectionEngine.load(['xx'])).rejects.toThrow(
      /no Hunspell dictionary for 'xx' \(available: en, ro\)/,
    );
  });
});

describe('word diff', () => {
  it('describes a correction as word edits that rebuild the corrected text', () => {
    const original = 'sunt foarte suparat azi pe tine';
    const corrected = 'sunt foarte supărat astăzi pe tine';
    const { edits, changeRatio } = diffWords(original, corrected);
    expect(edits).toEqual([{ offset: 12, original: 'suparat azi', replacement: 'supărat astăzi' }]);
    expect(applyEdits(original, edits)).toBe(corrected);
    expect(changeRatio).toBeCloseTo(1 - 8 / 12, 5);
  });

  it('handles insertions and deletions at either end', () => {
    for (const [a, b] of [
      ['b c', 'a b c'],
      ['a b c', 'a b'],
      ['a b c', 'b c'],
      ['a b', 'a b c d'],
    ] as const) {
      expect(applyEdits(a, diffWords(a, b).edits)).toBe(b);
    }
  });

  it('scores an unrelated rewrite as fully changed', () => {
    expect(diffWords('the cat sat on the mat', 'completely different words here').changeRatio).toBe(1);
    expect(diffWords('same words', 'same words').changeRatio).toBe(0);
  });
});
