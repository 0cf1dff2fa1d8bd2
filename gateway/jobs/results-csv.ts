import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import type { EmotionResult } from '../../schemas/index.js';

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return that hides one)
 * as a formula; such cells get a leading apostrophe so they open as text (OWASP's advice on CSV
 * injection). Every cell goes through here, the user's text and ids alike.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * id, row (the row's position in the upload, 0-based), original text, language, top label, every
 * label over its threshold (joined by ';'), the 7 calibrated core scores (empty for a class the
 * model lacks), sentiment polarity and intensity, the model that scored it (name@version), and
 * whether that model is another language's (no model exists for the text's language: issue 18).
 */
export const RESULT_CSV_HEADER = `${[
  'id',
  'row',
  'text',
  'language',
  'top_label',
  'labels',
  ...CORE_EMOTIONS,
  'polarity',
  'intensity',
  'model',
  'language_fallback',
].join(',')}\r\n`;

export function resultCsvLine(result: EmotionResult): string {
  const cells = [
    csvCell(result.segmentId),
    String(result.seq),
    csvCell(result.originalText),
    csvCell(result.language),
    result.topLabel,
    result.labels.join(';'),
    ...CORE_EMOTIONS.map((emotion) => result.core[emotion]?.toFixed(4) ?? ''),
    result.sentiment?.polarity.toFixed(4) ?? '',
    result.sentiment?.intensity.toFixed(4) ?? '',
    csvCell(`${result.model.name}@${result.model.version}`),
    String(result.languageFallback),
  ];
  return `${cells.join(',')}\r\n`;
}
