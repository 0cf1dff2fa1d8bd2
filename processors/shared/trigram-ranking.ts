import { francAll } from 'franc-min';
import { data } from 'franc-min/data.js';
import { expressions } from 'franc-min/expressions.js';

/**
 * franc's ranking of languages, computed the same way but several times faster for Latin-script
 * text, which is nearly all the text this system sees.
 *
 * Profiles of predict and of the correct stage showed franc costing more than the emotion model:
 * per text it runs some thirty script expressions over the sample, builds a trigram dictionary
 * as an object, and looks each trigram up in every candidate's object. Here the script check
 * is one pass over the code points (each classified once and cached), and each trigram is
 * looked up once in an inverted table holding its rank in every candidate language. Any text
 * with a letter of another script goes to franc itself, so the result is always franc's: the
 * unit test compares the two on thousands of texts.
 */

/** franc's constants: the sample it reads and the distance of a trigram a model lacks. */
const MAX_LENGTH = 2048;
const MAX_DIFFERENCE = 300;

export type LanguageRanking = Array<[string, number]>;

/** Script class of a code point, as franc's expressions see it. */
const UNKNOWN = 0;
const NO_SCRIPT = 1;
const LATIN = 2;
const OTHER_SCRIPT = 3;
const scriptClasses = new Uint8Array(0x110000);
const latinExpression = new RegExp(`^${expressions.Latin!.source}$`);
const otherExpressions = Object.entries(expressions)
  .filter(([name]) => name !== 'Latin')
  .map(([, expression]) => new RegExp(`^(?:${expression.source})$`));

function scriptClassOf(codePoint: number): number {
  const known = scriptClasses[codePoint]!;
  if (known !== UNKNOWN) return known;
  const character = String.fromCodePoint(codePoint);
  const found = latinExpression.test(character)
    ? LATIN
    : otherExpressions.some((expression) => expression.test(character))
      ? OTHER_SCRIPT
      : NO_SCRIPT;
  scriptClasses[codePoint] = found;
  return found;
}

/** Where one trigram appears among the candidates: their columns and its rank in each. */
interface TrigramRow {
  columns: number[];
  ranks: number[];
}

/**
 * The candidates' trigram models, inverted and sparse: trigram → the candidates that have it, with
 * its rank in each. A trigram is in about 2 of the 13 Latin-script candidate models on average, so
 * a text's distance to all of them costs a few additions per trigram instead of one per candidate
 * (issue 22: this loop was the widest frame of the correct stage's language detection).
 */
class LatinModels {
  readonly languages: string[];
  private readonly rows = new Map<string, TrigramRow>();

  constructor(only: readonly string[]) {
    // franc's order (the data's), which decides ties.
    this.languages = Object.keys(data.Latin!).filter((language) => only.includes(language));
    this.languages.forEach((language, column) => {
      data.Latin![language]!.split('|').forEach((trigram, rank) => {
        let row = this.rows.get(trigram);
        if (!row) {
          row = { columns: [], ranks: [] };
          this.rows.set(trigram, row);
        }
        row.columns.push(column);
        row.ranks.push(rank);
      });
    });
  }

  /** Sum over the text's distinct trigrams of |count − rank − 1|, or 300 where a model lacks it. */
  distances(counts: Map<string, number>): Float64Array {
    // Every model starts as lacking every trigram; each one a model has takes back 300 and adds
    // its own difference. Integer sums, so the totals equal franc's to the last bit.
    const totals = new Float64Array(this.languages.length).fill(counts.size * MAX_DIFFERENCE);
    for (const [trigram, count] of counts) {
      const row = this.rows.get(trigram);
      if (!row) continue;
      const { columns, ranks } = row;
      for (let k = 0; k < columns.length; k++) {
        totals[columns[k]!]! += Math.abs(count - ranks[k]! - 1) - MAX_DIFFERENCE;
      }
    }
    return totals;
  }
}

const modelsByCandidates = new Map<string, LatinModels>();

function latinModels(only: readonly string[]): LatinModels {
  const key = only.join(',');
  let models = modelsByCandidates.get(key);
  if (!models) {
    models = new LatinModels(only);
    modelsByCandidates.set(key, models);
  }
  return models;
}

/** trigram-utils' cleaning and padding, then each trigram's count. */
function trigramCounts(value: string): Map<string, number> {
  const padded = ` ${value
    .replace(/[\u0021-\u0040]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()} `;
  const counts = new Map<string, number>();
  for (let index = 0; index + 3 <= padded.length; index++) {
    const trigram = padded.slice(index, index + 3);
    counts.set(trigram, (counts.get(trigram) ?? 0) + 1);
  }
  return counts;
}

/**
 * Languages from `only` ranked by franc's normalised score (1 = best), exactly as
 * `francAll(text, { minLength, only })` ranks them; [['und', 1]] when it cannot tell.
 */
export function rankLanguages(text: string, only: readonly string[], minLength: number): LanguageRanking {
  if (!text || text.length < minLength) return [['und', 1]];
  const value = text.slice(0, MAX_LENGTH);
  let latinLetters = 0;
  for (const character of value) {
    const scriptClass = scriptClassOf(character.codePointAt(0)!);
    if (scriptClass === OTHER_SCRIPT) return francAll(text, { minLength, only: [...only] });
    if (scriptClass === LATIN) latinLetters++;
  }
  if (latinLetters === 0) return [['und', 1]];
  const models = latinModels(only);
  if (models.languages.length === 0) return [['und', 1]];
  const totals = models.distances(trigramCounts(value));
  const ranked: LanguageRanking = models.languages.map((language, column) => [language, totals[column]!]);
  ranked.sort((a, b) => a[1] - b[1]);
  const min = ranked[0]![1];
  const max = value.length * MAX_DIFFERENCE - min;
  for (const entry of ranked) entry[1] = 1 - (entry[1] - min) / max || 0;
  return ranked;
}
