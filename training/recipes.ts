import type { FeaturizerConfig } from '../processors/classify/featurizer.js';
import { ENGLISH_LEXICON } from './lexicon-en.js';

/**
 * How each shipped model is made. The numbers were chosen on the development splits (GoEmotions
 * dev, RED v1 val); the weight of plain LR against NB-LR and the share of the fine-grained head are
 * picked again on dev by every training run from the candidates listed here.
 */
export interface Recipe {
  language: 'en' | 'ro';
  name: string;
  dataset: 'goemotions' | 'red-v1';
  description: string;
  featurizer: (seed: number) => FeaturizerConfig;
  /** C of the plain logistic regression and of NB-LR (Naive Bayes smoothing alpha). */
  logistic: { C: number };
  naiveBayes: { C: number; alpha: number };
  /** Candidate weights of plain LR in the logit average with NB-LR. */
  lrWeights: number[];
}

/** Mixes the run's seed into a per-purpose hash seed. */
export function seedFor(seed: number, purpose: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(purpose, 0xc2b2ae35);
  h ^= h >>> 15;
  return h >>> 0;
}

const ENGLISH_NEGATIONS =
  'not no never nothing nobody none nor neither cannot cant dont doesnt didnt isnt wasnt arent werent wont wouldnt shouldnt couldnt aint hardly'.split(
    ' ',
  );

export const RECIPES: Record<'en' | 'ro', Recipe> = {
  en: {
    language: 'en',
    name: 'emotion-stream-en',
    dataset: 'goemotions',
    description:
      'English, GoEmotions: 7 core classes (Ekman + neutral) and the 28 GoEmotions labels, multi-label',
    featurizer: (seed) => ({
      version: 1,
      normalize: {
        lowercase: true,
        stripDiacritics: false,
        collapseElongation: true,
        placeholders: { '[NAME]': 'xname', '[RELIGION]': 'xreligion' },
        maxChars: 20_000,
      },
      words: {
        buckets: 131_072,
        maxN: 2,
        stemmer: 'porter',
        negationWords: ENGLISH_NEGATIONS,
        styleMarkers: true,
        lexicon: ENGLISH_LEXICON,
        seed: seedFor(seed, 1),
      },
      chars: { buckets: 131_072, minN: 2, maxN: 5, seed: seedFor(seed, 2) },
    }),
    logistic: { C: 4 },
    naiveBayes: { C: 1, alpha: 1 },
    lrWeights: [0.2, 0.3, 0.5],
  },
  ro: {
    language: 'ro',
    name: 'emotion-stream-ro',
    dataset: 'red-v1',
    description: 'Romanian, RED v1 tweets: 5 classes (anger, fear, joy, sadness, neutral), single-label',
    featurizer: (seed) => ({
      version: 1,
      normalize: {
        lowercase: true,
        stripDiacritics: true,
        collapseElongation: true,
        placeholders: {},
        maxChars: 20_000,
      },
      words: {
        buckets: 65_536,
        maxN: 2,
        stemmer: null,
        negationWords: [],
        styleMarkers: true,
        seed: seedFor(seed, 1),
      },
      chars: { buckets: 65_536, minN: 2, maxN: 5, seed: seedFor(seed, 2) },
    }),
    logistic: { C: 30 },
    naiveBayes: { C: 10, alpha: 1 },
    lrWeights: [0, 0.2, 0.4],
  },
};
