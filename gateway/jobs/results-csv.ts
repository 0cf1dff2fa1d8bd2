import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import { resultIdOf } from '../../processors/classify/result-id.js';
import type { RowOutcome } from '../../producers/csv/csv-rows.js';
import { printFixed4, type SlotResult } from './result-slots.js';

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return that hides one)
 * as a formula; such cells get a leading apostrophe so they open as text (OWASP's advice on CSV
 * injection). Every cell goes through here, the user's text and ids alike. A plain number
 * (-2, +1.5e3) is no formula and stays as it is, so numeric columns survive the round trip.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The result columns, after the upload's own (issue 19: every input column is carried): the
 * result id (what feedback refers to), the row's position among the rows sent (0-based), the
 * language, the top label, every label over its threshold (joined by ';'), the 7 calibrated core
 * scores (empty for a class the model lacks), sentiment polarity and intensity, the model that
 * scored it (name@version), whether that model is another language's (issue 18), and why a row
 * was not sent (empty text, …).
 */
export const RESULT_COLUMNS = [
  'result_id',
  'row',
  'language',
  'top_label',
  'labels',
  ...CORE_EMOTIONS,
  'polarity',
  'intensity',
  'model',
  'language_fallback',
  'skipped',
] as const;

const RESULT_NAMES = new Set<string>(RESULT_COLUMNS);

/**
 * The results file's header: the upload's columns in their order, then the result columns. An
 * upload column whose name is a result column's (a results file sent again) is carried as
 * `input_<name>`, so no name appears twice.
 */
export function resultsCsvHeader(original: readonly string[]): string {
  const carried = original.map((name) => (RESULT_NAMES.has(name) ? `input_${name}` : name));
  return `${[...carried, ...RESULT_COLUMNS].map(csvCell).join(',')}\r\n`;
}

/**
 * One row of the results file: the upload's cells (as many as the header has columns: a short row
 * is padded, cells past the header are not carried), then its result (empty while it has none).
 */
export function resultsCsvLine(
  cells: readonly string[],
  width: number,
  row: { outcome: RowOutcome; seq: number | null },
  result: SlotResult | null,
): string {
  const carried = Array.from({ length: width }, (_, i) => csvCell(cells[i] ?? ''));
  const { outcome, seq } = row;
  if (outcome.kind === 'skip') {
    const empty = RESULT_COLUMNS.length - 1;
    return `${[...carried, ...Array<string>(empty).fill(''), csvCell(outcome.reason)].join(',')}\r\n`;
  }
  const cellsOut = result
    ? [
        csvCell(resultIdOf(outcome.id, { name: result.modelName, version: result.modelVersion })),
        String(seq),
        csvCell(result.language),
        result.topLabel,
        result.labels.join(';'),
        ...result.core.map((score) => (score === null ? '' : printFixed4(score))),
        result.sentiment ? printFixed4(result.sentiment.polarity) : '',
        result.sentiment ? printFixed4(result.sentiment.intensity) : '',
        csvCell(`${result.modelName}@${result.modelVersion}`),
        String(result.languageFallback),
        '',
      ]
    : ['', String(seq), ...Array<string>(RESULT_COLUMNS.length - 2).fill('')];
  return `${[...carried, ...cellsOut].join(',')}\r\n`;
}
