import { describe, expect, it } from 'vitest';
import { type FeaturizerConfig, TextFeaturizer } from '../../processors/classify/featurizer.js';
import { RECIPES } from '../../training/recipes.js';

const english = () => new TextFeaturizer(RECIPES.en.featurizer(1));

describe('TextFeaturizer', () => {
  it('tokenizes with stemming, apostrophes removed, negation scopes ended by punctuation', () => {
    const f = english();
    expect(f.tokens(f.normalize("I DON'T like this at all, [NAME]!! Soooo annoying"))).toEqual([
      'i',
      'dont',
      'neg_like',
      'neg_thi',
      'neg_at',
      'neg_all',
      ',',
      'xname',
      '!',
      '!',
      'soo',
      'annoi',
    ]);
  });

  it('is deterministic and counts repeated features once with a sublinear term frequency', () => {
    const f = english();
    const a = f.featurize('happy happy happy');
    const b = english().featurize('happy happy happy');
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(new Set(a.indices).size).toBe(a.indices.length);
    // "happi" three times: tf = 1 + ln 3
    expect(Math.max(...a.tf)).toBeCloseTo(1 + Math.log(3), 5);
    expect(Array.from(a.indices).every((i) => i >= 0 && i < f.dimension)).toBe(true);
  });

  it('puts word features below wordBuckets and character n-grams above', () => {
    const f = english();
    const { indices } = f.featurize('ok');
    const words = Array.from(indices).filter((i) => i < f.wordBuckets);
    const chars = Array.from(indices).filter((i) => i >= f.wordBuckets);
    expect(words.length).toBeGreaterThanOrEqual(1);
    // " ok " padded: 2-grams " o","ok","k ", 3-grams " ok","ok ", 4-gram " ok "
    expect(chars).toHaveLength(6);
  });

  it('marks shouting, "!!", elongation and lexicon words, which lowercasing would hide', () => {
    const f = english();
    const plain = f.featurize('this is bad');
    const shouted = f.featurize('THIS IS BAD!!');
    expect(shouted.indices.length).toBeGreaterThan(plain.indices.length);
    const config = RECIPES.en.featurizer(1);
    const withoutLexicon = new TextFeaturizer({ ...config, words: { ...config.words, lexicon: {} } });
    // Extra features for a lexicon word (its class), none for an ordinary word.
    expect(f.featurize('furious').indices.length).toBe(
      withoutLexicon.featurize('furious').indices.length + 1,
    );
    expect(f.featurize('table').indices.length).toBe(withoutLexicon.featurize('table').indices.length);
  });

  it('gives empty and whitespace-only texts no features, and emoji-only texts some', () => {
    const f = english();
    expect(f.featurize('').indices).toHaveLength(0);
    expect(f.featurize(' \n\t ').indices).toHaveLength(0);
    expect(f.featurize('😡😡😡').indices.length).toBeGreaterThan(0);
  });

  it('reads at most maxChars characters and says so', () => {
    const f = english();
    const long = 'word '.repeat(20_000);
    const features = f.featurize(long);
    expect(long.length).toBeGreaterThan(f.config.normalize.maxChars);
    expect(features.truncated).toBe(true);
    expect(f.featurize('short').truncated).toBe(false);
  });

  it('strips diacritics for Romanian, so both spellings share features', () => {
    const f = new TextFeaturizer(RECIPES.ro.featurizer(1));
    expect(Array.from(f.featurize('mașină frumoasă').indices)).toEqual(
      Array.from(f.featurize('masina frumoasa').indices),
    );
  });

  it('rejects bucket counts that are not powers of two', () => {
    const config: FeaturizerConfig = RECIPES.en.featurizer(1);
    expect(() => new TextFeaturizer({ ...config, chars: { ...config.chars, buckets: 1000 } })).toThrow(
      /power of two/,
    );
  });
});
