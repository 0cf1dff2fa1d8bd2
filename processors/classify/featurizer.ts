import { stemmer } from 'stemmer';
import { type SparseFeatures, weightFeatures } from './feature-weights.js';
import { combine, finalize, fnvStep, hashString } from './hashing.js';

/**
 * How text becomes features; saved as featurizer.json in every model directory and read by both
 * the trainer and the engines, so training and serving cannot featurize differently.
 */
export interface FeaturizerConfig {
  version: 1;
  normalize: {
    lowercase: boolean;
    /** Remove combining marks after NFD (Romanian: ș → s), as the RED baseline does. */
    stripDiacritics: boolean;
    /** "soooo" → "soo": one spelling for every elongation. */
    collapseElongation: boolean;
    /** Dataset placeholders replaced by plain tokens, e.g. "[NAME]" → "xname". */
    placeholders: Record<string, string>;
    /** Longer texts are classified on their first maxChars characters. */
    maxChars: number;
  };
  words: {
    buckets: number;
    maxN: 1 | 2;
    stemmer: 'porter' | null;
    /** Tokens after one of these words, up to the next punctuation, get the prefix "neg_". */
    negationWords: string[];
    /** Adds tokens for shouting, "!!" and elongated words, which lowercasing would erase. */
    styleMarkers: boolean;
    /**
     * Words (lowercase, unstemmed) that signal an emotion, by class. A word of the list adds the
     * feature `__lex_<class>__` (or `__neglex_<class>__` when negated), whose weight is learned from
     * the words the training data does contain and carries over to those it rarely does.
     */
    lexicon?: Record<string, string[]>;
    seed: number;
  };
  chars: {
    buckets: number;
    minN: number;
    maxN: number;
    seed: number;
  };
  /**
   * Inverse document frequency of every bucket, from the training texts: base64 of little-endian
   * float32 values, words then characters. Written by training; a recipe has none.
   */
  idf?: string;
}

export type { SparseFeatures };

/** What a model reads: each feature's bucket and its final (TF-IDF, normalised) value. */
export interface EncodedText {
  indices: Int32Array;
  values: Float32Array;
  truncated: boolean;
}

export function encodeIdf(idf: Float32Array): string {
  const bytes = Buffer.alloc(idf.length * 4);
  for (let i = 0; i < idf.length; i++) bytes.writeFloatLE(idf[i]!, i * 4);
  return bytes.toString('base64');
}

export function decodeIdf(encoded: string, dimension: number): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length !== dimension * 4) {
    throw new Error(`featurizer idf holds ${bytes.length / 4} values, expected ${dimension}`);
  }
  return Float32Array.from({ length: dimension }, (_, i) => bytes.readFloatLE(i * 4));
}

const SCOPE_END = new Set(['.', ',', '!', '?', ';', ':']);
const SPACE = 32;
const MARKERS = ['__caps__', '__manycaps__', '__bangs__', '__elong__'] as const;
/** 1 + ln(count) for small counts, looked up: most features of a text occur once or twice. */
const SUBLINEAR_TF = Float32Array.from({ length: 64 }, (_, count) => (count === 0 ? 0 : 1 + Math.log(count)));
const WORD_CHAR = /[\p{L}\p{M}\p{N}_]/u;
const LETTER = /\p{L}/u;
const UPPER = /\p{Lu}/u;

function isWhitespace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x2028 || code === 0x2029;
}

function isApostrophe(code: number): boolean {
  return code === 39 || code === 0x2019 || code === 96;
}

/** Letters, digits, marks and '_' (ASCII fast path; the rest by Unicode property). */
function isWordChar(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  if (code < 128)
    return (
      (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95
    );
  return WORD_CHAR.test(text[at]!);
}

function isLetter(code: number, char: string): boolean {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  return LETTER.test(char);
}

/** Style signals of the raw text that lowercasing erases: shouted words, "!!", elongations. */
function styleOf(raw: string): { shouted: number; bangs: boolean; elongated: boolean; tripled: boolean } {
  let shouted = 0;
  let upperRun = 0;
  let lowerInRun = false;
  let elongated = false;
  let tripled = false;
  let previous = -1;
  let repeats = 0;
  let sameRun = 0;
  for (let i = 0; i <= raw.length; i++) {
    const code = i < raw.length ? raw.charCodeAt(i) : 32;
    const char = i < raw.length ? raw[i]! : ' ';
    const letter = isLetter(code, char);
    sameRun = code === previous ? sameRun + 1 : 1;
    if (sameRun >= 3) tripled = true;
    if (letter) {
      if (code < 128 ? code >= 65 && code <= 90 : UPPER.test(char)) upperRun++;
      else lowerInRun = true;
      repeats = code === previous ? repeats + 1 : 1;
      if (repeats >= 3) elongated = true;
    } else {
      // A word of 3+ letters, all capitals; the dataset's [NAME] placeholder does not count.
      if (!lowerInRun && upperRun >= 3 && !(upperRun === 4 && raw.startsWith('NAME', i - 4))) shouted++;
      upperRun = 0;
      lowerInRun = false;
      repeats = 0;
    }
    previous = code;
  }
  return { shouted, bangs: raw.includes('!!'), elongated, tripled };
}

export class TextFeaturizer {
  /** Buckets of the current text, in first-seen order, and their counts (dense, reset after use). */
  private touched = new Int32Array(1024);
  private touchedCount = 0;
  private readonly counts: Uint16Array;
  private readonly stems = new Map<string, string>();
  private readonly negation: ReadonlySet<string>;
  private readonly placeholders: Array<[RegExp, string]>;
  private readonly markerBuckets: number[];
  /** Stemmed lexicon word → buckets of its plain and negated lexicon features. */
  private readonly lexicon = new Map<string, Array<{ plain: number; negated: number }>>();
  /** Present when the config carries the training IDF (every exported model does). */
  readonly idf: Float32Array | undefined;

  constructor(readonly config: FeaturizerConfig) {
    const { words, chars } = config;
    if (chars.minN < 1 || chars.minN > 3 || chars.maxN < chars.minN) {
      // Every word padded with spaces has at least 3 characters, so minN ≤ 3 gives each word n-grams.
      throw new Error(
        `featurizer chars.minN must be 1–3 and at most chars.maxN (got ${chars.minN}–${chars.maxN})`,
      );
    }
    for (const [name, value] of [
      ['words.buckets', words.buckets],
      ['chars.buckets', chars.buckets],
    ] as const) {
      if (!Number.isInteger(Math.log2(value)))
        throw new Error(`featurizer ${name} must be a power of two (got ${value})`);
    }
    this.counts = new Uint16Array(words.buckets + chars.buckets);
    this.idf = config.idf === undefined ? undefined : decodeIdf(config.idf, words.buckets + chars.buckets);
    this.negation = new Set(words.negationWords);
    this.placeholders = Object.entries(config.normalize.placeholders).map(([from, to]) => [
      new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'),
      ` ${to} `,
    ]);
    this.markerBuckets = MARKERS.map((marker) => this.wordBucket(hashString(marker, words.seed)));
    for (const [emotion, list] of Object.entries(words.lexicon ?? {})) {
      const buckets = {
        plain: this.wordBucket(hashString(`__lex_${emotion}__`, words.seed)),
        negated: this.wordBucket(hashString(`__neglex_${emotion}__`, words.seed)),
      };
      for (const word of list) {
        const key = words.stemmer ? this.stem(word.toLowerCase()) : word.toLowerCase();
        const entry = this.lexicon.get(key) ?? [];
        // Two forms of one word (happy, happiness) stem alike: count the word once per class.
        if (!entry.includes(buckets)) entry.push(buckets);
        this.lexicon.set(key, entry);
      }
    }
  }

  /** Total number of feature buckets: word buckets first, then character buckets. */
  get dimension(): number {
    return this.config.words.buckets + this.config.chars.buckets;
  }

  get wordBuckets(): number {
    return this.config.words.buckets;
  }

  featurize(input: string): SparseFeatures {
    const truncated = input.length > this.config.normalize.maxChars;
    const raw = truncated ? input.slice(0, this.config.normalize.maxChars) : input;
    const style = styleOf(raw);
    const text = this.normalize(raw, style.tripled);
    this.touchedCount = 0;
    this.wordFeatures(text, style);
    this.charFeatures(text);
    const indices = this.touched.slice(0, this.touchedCount);
    const tf = new Float32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const bucket = indices[i]!;
      const count = this.counts[bucket]!;
      tf[i] = count < SUBLINEAR_TF.length ? SUBLINEAR_TF[count]! : 1 + Math.log(count);
      this.counts[bucket] = 0;
    }
    return { indices, tf, truncated };
  }

  /** `maybeElongated: false` skips the elongation pass when the caller knows no character repeats 3 times. */
  /** Features and their final values, as the model reads them (needs the config's IDF). */
  encode(text: string): EncodedText {
    if (!this.idf)
      throw new Error('this featurizer has no IDF table; only featurizers of trained models can encode');
    const features = this.featurize(text);
    return {
      indices: features.indices,
      values: weightFeatures(features, this.idf, this.wordBuckets),
      truncated: features.truncated,
    };
  }

  normalize(text: string, maybeElongated = true): string {
    const { normalize } = this.config;
    let out = text;
    if (out.includes('['))
      for (const [pattern, replacement] of this.placeholders) out = out.replace(pattern, replacement);
    if (normalize.lowercase) out = out.toLowerCase();
    if (normalize.stripDiacritics) out = out.normalize('NFD').replace(/\p{M}/gu, '');
    if (normalize.collapseElongation && maybeElongated) out = out.replace(/(.)\1{2,}/gu, '$1$1');
    return out;
  }

  /** The word tokens the word n-grams are built from (after stemming and negation marking). */
  tokens(text: string): string[] {
    const out: string[] = [];
    let negated = false;
    let i = 0;
    const length = text.length;
    while (i < length) {
      const code = text.charCodeAt(i);
      if (isWhitespace(code) || isApostrophe(code)) {
        i++;
        continue;
      }
      let token: string;
      if (isWordChar(text, i)) {
        let word = '';
        let start = i;
        // Apostrophes inside a word vanish ("don't" → "dont").
        while (i < length && (isWordChar(text, i) || isApostrophe(text.charCodeAt(i)))) {
          if (isApostrophe(text.charCodeAt(i))) {
            word += text.slice(start, i);
            start = i + 1;
          }
          i++;
        }
        token = word + text.slice(start, i);
      } else {
        // One symbol, punctuation mark or emoji (a surrogate pair stays whole).
        const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < length;
        token = text.slice(i, pair ? i + 2 : i + 1);
        i += token.length;
        if (SCOPE_END.has(token)) {
          negated = false;
          out.push(token);
          continue;
        }
      }
      const stem = this.config.words.stemmer ? this.stem(token) : token;
      out.push(negated ? `neg_${stem}` : stem);
      if (this.negation.has(token)) negated = true;
    }
    return out;
  }

  private add(bucket: number): void {
    if (this.counts[bucket] === 0) {
      if (this.touchedCount === this.touched.length) {
        const grown = new Int32Array(this.touched.length * 2);
        grown.set(this.touched);
        this.touched = grown;
      }
      this.touched[this.touchedCount++] = bucket;
    }
    // Saturates instead of wrapping: a feature seen 65,535 times is as strong as it gets.
    if (this.counts[bucket]! < 0xffff) this.counts[bucket] = this.counts[bucket]! + 1;
  }

  private stem(token: string): string {
    let stem = this.stems.get(token);
    if (stem === undefined) {
      stem = /^\p{L}+$/u.test(token) ? stemmer(token) : token;
      // Bounded: a stream of unseen words must not grow the cache without limit.
      if (this.stems.size > 100_000) this.stems.clear();
      this.stems.set(token, stem);
    }
    return stem;
  }

  private wordBucket(hash: number): number {
    return finalize(hash) & (this.config.words.buckets - 1);
  }

  private wordFeatures(text: string, style: ReturnType<typeof styleOf>): void {
    const { words } = this.config;
    let previous: number | undefined;
    const lexicon = this.lexicon.size > 0;
    for (const token of this.tokens(text)) {
      const hash = hashString(token, words.seed);
      this.add(this.wordBucket(hash));
      if (lexicon) {
        const negated = token.startsWith('neg_');
        const hits = this.lexicon.get(negated ? token.slice(4) : token);
        if (hits) for (const hit of hits) this.add(negated ? hit.negated : hit.plain);
      }
      if (words.maxN >= 2 && previous !== undefined) this.add(this.wordBucket(combine(previous, hash)));
      previous = hash;
    }
    if (words.styleMarkers) {
      if (style.shouted > 0) this.add(this.markerBuckets[0]!);
      if (style.shouted >= 3) this.add(this.markerBuckets[1]!);
      if (style.bangs) this.add(this.markerBuckets[2]!);
      if (style.elongated) this.add(this.markerBuckets[3]!);
    }
  }

  /**
   * Character n-grams within words, each word padded with a space on both sides (so prefixes and
   * suffixes are features of their own), hashed incrementally: one FNV step per character.
   */
  private charFeatures(text: string): void {
    const { minN, maxN, seed, buckets } = this.config.chars;
    const offset = this.config.words.buckets;
    const mask = buckets - 1;
    const length = text.length;
    let start = 0;
    while (start < length) {
      while (start < length && isWhitespace(text.charCodeAt(start))) start++;
      if (start >= length) break;
      let end = start;
      while (end < length && !isWhitespace(text.charCodeAt(end))) end++;
      // The padded word is text[start-1 .. end] with a space at both ends.
      const padded = end - start + 2;
      for (let i = 0; i + minN <= padded; i++) {
        let hash = seed;
        const last = Math.min(maxN, padded - i);
        for (let n = 1; n <= last; n++) {
          const at = i + n - 1;
          hash = fnvStep(hash, at === 0 || at === padded - 1 ? SPACE : text.charCodeAt(start + at - 1));
          if (n >= minN) this.add(offset + (finalize(hash ^ n) & mask));
        }
      }
      start = end;
    }
  }
}
