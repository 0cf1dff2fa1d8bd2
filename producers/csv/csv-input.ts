import { open, stat } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

/** The file cannot be produced as it is; the message says why, in one line. */
export class CsvInputError extends Error {
  override readonly name = 'CsvInputError';
}

const SNIFF_BYTES = 64 * 1024;

export interface CsvColumns {
  textColumn: string;
  /** The id column; a column named `id` when absent, generated ids when empty (csv-rows.ts). */
  idColumn?: string | undefined;
  /**
   * What the caller calls these two settings, for messages: the CLI's flags by default; the
   * gateway's form fields (`textColumn`, `idColumn`) for an API user.
   */
  settingNames?: { text: string; id: string };
}

/**
 * Checks, before anything is produced, that the file is a non-empty UTF-8 CSV whose header has the
 * columns asked for. Returns the header and the file size (for progress).
 */
export async function inspectCsvFile(
  path: string,
  columns: CsvColumns,
): Promise<{ header: string[]; bytes: number }> {
  let bytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CsvInputError(`${path} is not a file`);
    bytes = info.size;
  } catch (error) {
    if (error instanceof CsvInputError) throw error;
    throw new CsvInputError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (bytes === 0) throw new CsvInputError(`${path} is empty: expected a CSV with a header row`);
  const handle = await open(path, 'r');
  const head = Buffer.alloc(Math.min(bytes, SNIFF_BYTES));
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const nul = head.indexOf(0);
  if (nul >= 0)
    throw new CsvInputError(`${path} is not a CSV text file (binary data: a NUL byte at offset ${nul})`);
  let text: string;
  try {
    // stream: true tolerates a character cut at the end of the sample.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    throw new CsvInputError(`${path} is not a CSV text file (not valid UTF-8; save it as UTF-8 and retry)`);
  }
  const firstLine = firstRecordText(text.replace(/^\uFEFF/, ''));
  if (firstLine.trim() === '') throw new CsvInputError(`${path} has no header row (its first line is blank)`);
  let header: string[];
  try {
    header = (parse(firstLine, { relax_quotes: true }) as string[][])[0] ?? [];
  } catch (error) {
    throw new CsvInputError(`${path}: cannot read the header row: ${(error as Error).message}`);
  }
  header = header.map((name) => name.trim());
  const names = columns.settingNames ?? { text: '--text-column', id: '--id-column' };
  for (const [option, column] of [
    [names.text, columns.textColumn],
    [names.id, columns.idColumn],
  ] as const) {
    // An empty id column asks for generated ids (csv-rows.ts).
    if (column !== undefined && column !== '' && !header.includes(column)) {
      throw new CsvInputError(
        `${path} has no column '${column}' (${option}); its columns are: ${header.map((h) => `'${h}'`).join(', ')}`,
      );
    }
  }
  return { header, bytes };
}

/** The first CSV record of a text (a quoted field may span lines). */
function firstRecordText(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if ((char === '\n' || char === '\r') && !quoted) return text.slice(0, i);
  }
  return text;
}
