import { readCsvRecords } from '../../producers/csv/csv-rows.js';
import type { Feedback } from '../../schemas/index.js';
import { ALL_LABELS } from '../api-schemas.js';
import { HttpError } from '../http-errors.js';

/**
 * A results file a person has reviewed (issue 19, the prototype's /feedback-csv): the downloaded
 * `results.csv` with a `correct_label` column filled in. Each row is one verdict: blank confirms
 * the result, `wrong` says it is wrong without the right label, a core or GoEmotions label names
 * the right one (the row's own top label again counts as confirmed).
 */
export const REVIEW_COLUMNS = { resultId: 'result_id', label: 'correct_label' } as const;

export class ReviewedCsvError extends HttpError {
  override readonly name = 'ReviewedCsvError';
  constructor(message: string) {
    super(400, message);
  }
}

export type Verdict = Pick<Feedback, 'resultId' | 'verdict' | 'label' | 'comment'>;

export type ReviewedRow = { line: number; verdict: Verdict } | { line: number; refused: string };

const LABELS = new Set(ALL_LABELS);
const MAX_ID_CHARS = 1024;
const MAX_COMMENT_CHARS = 2000;

/** The verdict of one reviewed row, or why it cannot be one. */
export function reviewedRow(cell: (column: string) => string | undefined): Verdict | string {
  const resultId = cell(REVIEW_COLUMNS.resultId)?.trim() ?? '';
  if (!resultId) {
    const skipped = cell('skipped')?.trim();
    return skipped ? `the row was never scored (skipped: ${skipped})` : `no ${REVIEW_COLUMNS.resultId}`;
  }
  if (resultId.length > MAX_ID_CHARS) return `${REVIEW_COLUMNS.resultId} is over ${MAX_ID_CHARS} characters`;
  const comment = cell('comment')?.trim() || null;
  if (comment && comment.length > MAX_COMMENT_CHARS) return `comment is over ${MAX_COMMENT_CHARS} characters`;
  const given = cell(REVIEW_COLUMNS.label)?.trim().toLowerCase() ?? '';
  if (given === '' || given === cell('top_label')?.trim().toLowerCase())
    return { resultId, verdict: 'correct', label: null, comment };
  if (given === 'wrong') return { resultId, verdict: 'wrong', label: null, comment };
  if (!LABELS.has(given))
    return `unknown label '${given}' in ${REVIEW_COLUMNS.label}: expected a core or GoEmotions label, 'wrong', or blank to confirm`;
  return { resultId, verdict: 'wrong', label: given, comment };
}

/**
 * The rows of a reviewed file, streamed, each with its line in the file. Throws ReviewedCsvError
 * when the file lacks the two columns (nothing is sent then).
 */
export async function* readReviewedCsv(file: string): AsyncGenerator<ReviewedRow, void, void> {
  const { rows, header } = readCsvRecords(file);
  let index: Map<string, number> | undefined;
  for await (const record of rows) {
    if (!index) {
      const names = await header;
      const missing = Object.values(REVIEW_COLUMNS).filter((name) => !names.includes(name));
      if (missing.length > 0)
        throw new ReviewedCsvError(
          `the file has no ${missing.map((m) => `'${m}'`).join(' or ')} column: send the downloaded results.csv ` +
            `with a '${REVIEW_COLUMNS.label}' column added (its columns are: ${names.map((h) => `'${h}'`).join(', ')})`,
        );
      // The last column of a name wins: the result columns come after the upload's own.
      index = new Map(names.map((name, i) => [name, i]));
    }
    const columns = index;
    const verdict = reviewedRow((column) => {
      const i = columns.get(column);
      return i === undefined ? undefined : record.cells[i];
    });
    yield typeof verdict === 'string'
      ? { line: record.line, refused: verdict }
      : { line: record.line, verdict };
  }
  if (!index) throw new ReviewedCsvError('the file has no rows (a header row and at least one reviewed row)');
}
