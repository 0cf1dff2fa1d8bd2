import { createReadStream, type ReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import type { CsvColumns } from './csv-input.js';

/**
 * Reading an uploaded CSV row by row, shared by the producer (rows into the pipeline) and the
 * results file (the same rows again, in the file's order, each beside its result): both read the
 * same cells and give every row the same id and position, so they line up without keeping
 * anything per row in memory.
 */

/** Where the text and the id are in each row; the id is generated when there is no id column. */
export interface CsvLayout {
  header: string[];
  textIndex: number;
  idIndex: number | undefined;
  textColumn: string;
  idColumn: string | undefined;
}

/**
 * The column the ids come from: the one named, none when the caller passes an empty name (ids are
 * generated), else a column called `id` when the file has one (issue 19: an `id` column was
 * ignored unless named, and users lost their own ids).
 */
export function resolveIdColumn(header: readonly string[], idColumn: string | undefined): string | undefined {
  if (idColumn === '') return undefined;
  if (idColumn !== undefined) return idColumn;
  return header.includes('id') ? 'id' : undefined;
}

export function csvLayout(header: string[], columns: CsvColumns): CsvLayout {
  const idColumn = resolveIdColumn(header, columns.idColumn);
  return {
    header,
    textColumn: columns.textColumn,
    textIndex: header.indexOf(columns.textColumn),
    idColumn,
    idIndex: idColumn === undefined ? undefined : header.indexOf(idColumn),
  };
}

/** One data row: its cells, and its 1-based line in the file (where the row ends). */
export interface CsvRecord {
  cells: string[];
  line: number;
}

/**
 * The file's header (names trimmed) and then its data rows, streamed: the parser is read only as
 * fast as the caller consumes it. Any line ending, mixed within one file (spreadsheets and
 * editors append their own); a BOM is dropped.
 */
export function readCsvRecords(file: string): {
  input: ReadStream;
  rows: AsyncGenerator<CsvRecord, void, void>;
  header: Promise<string[]>;
} {
  const input = createReadStream(file);
  const parser = input.pipe(
    parse({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      info: true,
    }),
  );
  let gotHeader: (header: string[]) => void = () => {};
  let failHeader: (error: unknown) => void = () => {};
  const header = new Promise<string[]>((resolve, reject) => {
    gotHeader = resolve;
    failHeader = reject;
  });
  header.catch(() => {});
  async function* rows(): AsyncGenerator<CsvRecord, void, void> {
    let first = true;
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>) {
        if (first) {
          first = false;
          gotHeader(record.map((name) => name.trim()));
          continue;
        }
        yield { cells: record, line: info.lines };
      }
      if (first) gotHeader([]);
    } catch (error) {
      failHeader(error);
      throw error;
    } finally {
      input.destroy();
    }
  }
  return { input, rows: rows(), header };
}

export type RowOutcome = { kind: 'row'; id: string; text: string } | { kind: 'skip'; reason: string };

/**
 * Longest text a row may carry. Emotions of a longer text mean little (the classifier reads its
 * start), the record would grow past Kafka's 1 MB message limit on its way through the stages,
 * and a giant cell is most often an unclosed quote that swallowed the rows after it: such a row
 * is skipped with the reason, pointing at its line.
 */
export const MAX_TEXT_CHARS = 50_000;

/** What becomes of one row: a segment with this id and text, or skipped with why. */
export function rowOutcome(record: CsvRecord, layout: CsvLayout, jobId: string): RowOutcome {
  const text = record.cells[layout.textIndex];
  if (text === undefined || text.trim() === '')
    return { kind: 'skip', reason: text === undefined ? `no '${layout.textColumn}' field` : 'empty text' };
  if (text.length > MAX_TEXT_CHARS)
    return {
      kind: 'skip',
      reason: `text of ${text.length} characters is over the limit of ${MAX_TEXT_CHARS} (an unclosed quote?)`,
    };
  if (layout.idIndex === undefined) return { kind: 'row', id: `${jobId}:${record.line}`, text };
  const id = record.cells[layout.idIndex]?.trim();
  if (!id) return { kind: 'skip', reason: `empty '${layout.idColumn}'` };
  return { kind: 'row', id, text };
}
