import nspell from 'nspell';
import type { Logger } from '../../runtime/logger.js';
import { withCommaBelow } from '../shared/romanian-letters.js';
import type { CorrectionContext, CorrectionEngine, CorrectionResult, TextEdit } from './engine.js';
import { type Casing, casingOf, correctableWords, withCasing } from './words.js';

type Spell = ReturnType<typeof nspell>;

/** Letters a keyboard without the language's layout leaves out: each base letter, its accented forms. */
const ACCENTED: Record<string, Record<string, readonly string[]>> = {
  ro: { a: ['ă', 'â'], i: ['î'], s: ['ș'], t: ['ț'] },
};
const MAX_VARIANTS = 512;
const CACHE_LIMIT = 100_000;
const YIELD_EVERY_MS = 20;
/**
 * Languages whose unknown words may be replaced by a one-edit suggestion. Not Romanian: nspell
 * rejects many valid Romanian inflections (spune, trebuia, martori, curge...), and guessing turned
 * about one word in four tweets of RED into a different word; accent restoration stays on.
 */
const GUESSING_LANGUAGES = new Set(['en']);
/** Shorter words have too many one-edit neighbours to guess among. */
const MIN_GUESS_LENGTH = 5;

/** Loaders of the dictionaries the engine knows; each package holds a Hunspell .aff and .dic. */
const DICTIONARIES: Record<string, () => Promise<{ aff: Uint8Array; dic: Uint8Array }>> = {
  en: async () => (await import('dictionary-en')).default,
  ro: async () => (await import('dictionary-ro')).default,
};

export const HUNSPELL_LANGUAGES = Object.keys(DICTIONARIES);

/**
 * Offline spelling correction with Hunspell dictionaries (through nspell). Conservative by design,
 * because a wrong "correction" changes what the classifier reads:
 * - only words the dictionary does not know are touched;
 * - a known word that differs only by diacritics or an apostrophe wins (`masina` → `mașina`,
 *   `dont` → `don't`);
 * - else, for a plain lowercase English word of 5+ letters, the one dictionary word one edit away
 *   with the same first letter (see oneEditCorrection);
 * - else the word stays. ALL-CAPS and mIxEd-case words (acronyms, names) are left alone.
 */
export class HunspellCorrectionEngine implements CorrectionEngine {
  readonly name = 'hunspell';
  private readonly cache = new Map<string, Map<string, string | null>>();

  private constructor(private readonly spells: Map<string, Spell>) {}

  static async load(languages: readonly string[], logger?: Logger): Promise<HunspellCorrectionEngine> {
    const spells = new Map<string, Spell>();
    for (const language of languages) {
      const loader = DICTIONARIES[language];
      if (!loader) {
        throw new Error(
          `no Hunspell dictionary for '${language}' (available: ${HUNSPELL_LANGUAGES.join(', ')})`,
        );
      }
      const started = performance.now();
      const { aff, dic } = await loader();
      spells.set(language, nspell({ aff: Buffer.from(aff), dic: Buffer.from(dic) }));
      logger?.debug({ language, ms: Math.round(performance.now() - started) }, 'dictionary loaded');
    }
    return new HunspellCorrectionEngine(spells);
  }

  get languages(): string[] {
    return [...this.spells.keys()];
  }

  async run(texts: readonly string[], { lang }: CorrectionContext): Promise<CorrectionResult[]> {
    const spell = lang === null ? undefined : this.spells.get(lang);
    if (!spell || lang === null) return texts.map((text) => ({ text, edits: [] }));
    const results: CorrectionResult[] = [];
    let slice = performance.now();
    for (const text of texts) {
      results.push(this.correctText(text, spell, lang));
      // Lookups are synchronous and a long text has many words: give the event loop a turn now and
      // then so Kafka heartbeats and health checks keep flowing.
      if (performance.now() - slice > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
    return results;
  }

  private correctText(text: string, spell: Spell, lang: string): CorrectionResult {
    const edits: TextEdit[] = [];
    let corrected = '';
    let at = 0;
    for (const { word, offset } of correctableWords(text)) {
      const replacement = this.replacementFor(word, spell, lang);
      if (replacement === null) continue;
      edits.push({ offset, original: word, replacement });
      corrected += text.slice(at, offset) + replacement;
      at = offset + word.length;
    }
    return { text: corrected + text.slice(at), edits };
  }

  /** The word's correction, or null to leave it. */
  private replacementFor(word: string, spell: Spell, lang: string): string | null {
    const casing = casingOf(word);
    if (casing === 'upper' || casing === 'mixed' || word.length < 2) return null;
    let cache = this.cache.get(lang);
    if (!cache) {
      cache = new Map();
      this.cache.set(lang, cache);
    }
    const cached = cache.get(word);
    if (cached !== undefined) return cached;
    const result = this.lookUp(word, casing, spell, lang);
    // Bounded memory on endless streams: forget everything rather than track recency.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(word, result);
    return result;
  }

  private lookUp(word: string, casing: Casing, spell: Spell, lang: string): string | null {
    // Legacy cedilla letters, replaced by the comma-below forms the dictionary uses.
    const normalized = withCommaBelow(word);
    if (spell.correct(word)) return null;
    if (normalized !== word && spell.correct(normalized)) return normalized;
    const lower = normalized.toLowerCase();
    for (const variant of variants(lower, ACCENTED[lang] ?? {})) {
      const cased = withCasing(variant, casing);
      if (spell.correct(cased) || spell.correct(variant)) return cased;
    }
    // Beyond restoring accents, only plain lowercase words are guessed at: capitalised words are
    // mostly names, and a word already written with diacritics shows a careful writer whose word the
    // dictionary lacks (Hunspell dictionaries miss many inflected forms).
    if (casing !== 'lower' || word.length < MIN_GUESS_LENGTH || !/^[a-z]+$/.test(word)) return null;
    if (!GUESSING_LANGUAGES.has(lang)) return null;
    return oneEditCorrection(word, (candidate) => spell.correct(candidate));
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}

/**
 * Spellings of a lowercase word with accents restored or an apostrophe added, in a fixed order
 * (fewest changes first), without the word itself. Bounded: a long word with many candidate
 * letters gets only apostrophe forms.
 */
export function variants(word: string, accented: Record<string, readonly string[]>): string[] {
  let forms = [''];
  for (const char of word) {
    const options = [char, ...(accented[char] ?? [])];
    if (forms.length * options.length > MAX_VARIANTS) return apostrophes(word);
    forms = forms.flatMap((form) => options.map((option) => form + option));
  }
  const changes = (form: string) => [...form].filter((c, i) => c !== [...word][i]).length;
  const accentedForms = forms.slice(1).sort((a, b) => changes(a) - changes(b));
  return [...accentedForms, ...apostrophes(word)];
}

/** `dont` → `don't`, `youre` → `you're`, `its` stays a word of its own (the dictionary knows it). */
function apostrophes(word: string): string[] {
  const forms: string[] = [];
  for (let back = 1; back <= 3 && back < word.length; back++) {
    forms.push(`${word.slice(0, word.length - back)}'${word.slice(word.length - back)}`);
  }
  return forms;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * The dictionary word one edit away from `word` (a lowercase a–z word), keeping its first letter,
 * or null. A swap of two neighbouring letters is the commonest typo and wins when it is the only
 * one (`recieve` → `receive` over `relieve`); otherwise exactly one candidate must exist, since a
 * word with several neighbours (`grift`: gift, grit, graft) is more likely a word the dictionary
 * lacks than a typo. Generating the few hundred one-edit strings and looking each up costs well
 * under a millisecond, where nspell's suggest() takes 5–500 ms.
 */
export function oneEditCorrection(word: string, known: (candidate: string) => boolean): string | null {
  const swaps = new Set<string>();
  for (let i = 1; i < word.length - 1; i++) {
    const swapped = word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
    if (swapped !== word && known(swapped)) swaps.add(swapped);
  }
  if (swaps.size === 1) return [...swaps][0]!;
  const candidates = new Set(swaps);
  for (let i = 1; i <= word.length; i++) {
    if (i < word.length) {
      const deleted = word.slice(0, i) + word.slice(i + 1);
      if (known(deleted)) candidates.add(deleted);
    }
    for (const letter of LETTERS) {
      const inserted = word.slice(0, i) + letter + word.slice(i);
      if (known(inserted)) candidates.add(inserted);
      if (i < word.length && letter !== word[i]) {
        const replaced = word.slice(0, i) + letter + word.slice(i + 1);
        if (known(replaced)) candidates.add(replaced);
      }
    }
    if (candidates.size > 1) return null;
  }
  return candidates.size === 1 ? [...candidates][0]! : null;
}
