import { rankLanguages } from './trigram-ranking.js';

/** ISO 639-3 (franc) → ISO 639-1 for the languages detection considers. */
const ISO_639_1: Record<string, string> = {
  eng: 'en',
  ron: 'ro',
  fra: 'fr',
  deu: 'de',
  spa: 'es',
  ita: 'it',
  por: 'pt',
  nld: 'nl',
  rus: 'ru',
  pol: 'pl',
  tur: 'tr',
  hun: 'hu',
  ukr: 'uk',
  ces: 'cs',
  swe: 'sv',
};
export const CANDIDATES = Object.keys(ISO_639_1);
const MIN_LENGTH = 20;
/** Letters that only Romanian uses among the candidate languages (ş alone is also Turkish). */
const ROMANIAN_LETTERS = /[ăĂșȘțȚţŢ]/;

/**
 * Detects the language of a text (ISO 639-1), or null when it is too short to tell. Preferred
 * languages (those with a model) win when franc scores them within `margin` of the best guess:
 * short social-media texts are often misread as a neighbouring language, and routing them to
 * the model of their real language matters more than naming the neighbour.
 */
export function detectLanguage(text: string, preferred: readonly string[] = [], margin = 0.8): string | null {
  const sample = text.length > 2000 ? text.slice(0, 2000) : text;
  // Measured on RED and GoEmotions dev: Romanian routed right 95% → 99%, English unchanged at 99%.
  if (preferred.includes('ro') && ROMANIAN_LETTERS.test(sample)) return 'ro';
  if (sample.trim().length < MIN_LENGTH) return null;
  const ranked = rankLanguages(sample, CANDIDATES, MIN_LENGTH);
  const top = ranked[0];
  if (!top || top[0] === 'und') return null;
  const favourite = ranked.find(
    ([code, score]) => preferred.includes(ISO_639_1[code] ?? '') && score >= margin,
  );
  return ISO_639_1[(favourite ?? top)[0]] ?? null;
}

/** Normalises a language hint ('EN', 'en-US', 'ron') to ISO 639-1, or null if unrecognisable. */
export function normalizeLanguage(hint: string): string | null {
  const lower = hint.trim().toLowerCase();
  const primary = lower.split(/[-_]/)[0] ?? '';
  if (/^[a-z]{2}$/.test(primary)) return primary;
  return ISO_639_1[primary] ?? null;
}

/**
 * The language of a segment's text: the producer's hint when it has one, else detected (with
 * the languages that have models or dictionaries preferred), else null.
 */
export function languageOfText(
  text: string,
  hint: string | null | undefined,
  preferred: readonly string[],
): string | null {
  const given = hint ? normalizeLanguage(hint) : null;
  return given ?? detectLanguage(text, preferred);
}

/** Indices grouped by their key (one key per index), in first-seen order of the keys. */
export function groupIndices<K>(keys: readonly K[]): Map<K, number[]> {
  const groups = new Map<K, number[]>();
  keys.forEach((key, index) => {
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  return groups;
}
