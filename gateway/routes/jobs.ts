import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { CsvInputError } from '../../producers/csv/csv-input.js';
import { errorResponse, languageCode, streamIdSchema } from '../api-schemas.js';
import { HttpError, sendError } from '../http-errors.js';
import type { CsvJobs } from '../jobs/csv-jobs.js';
import { requestTrace } from '../request-trace.js';
import { receiveUpload } from './multipart-upload.js';

const jobStatus = {
  type: 'object',
  properties: {
    jobId: { type: 'string' },
    state: { type: 'string', enum: ['producing', 'processing', 'done', 'failed'] },
    fileName: { type: 'string' },
    streamId: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    rowsIn: { type: 'integer', description: 'Rows sent into the pipeline so far' },
    rowsSkipped: { type: 'integer', description: 'Rows without text (or without an id), not sent' },
    resultsOut: { type: 'integer', description: 'Rows with a result so far' },
    skippedRows: {
      type: 'array',
      items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' } } },
    },
    error: { type: ['string', 'null'] },
  },
} as const;

const jobParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' } },
  required: ['id'],
} as const;

/** Text fields of the upload form; anything else is refused by name. */
const FORM_FIELDS = {
  textColumn: { pattern: /^.{1,200}$/, expected: 'a column name of at most 200 characters' },
  idColumn: {
    pattern: /^.{0,200}$/,
    expected: 'a column name of at most 200 characters (empty for generated ids)',
  },
  language: { pattern: new RegExp(languageCode.pattern), expected: 'an ISO 639-1 code such as en' },
  streamId: {
    pattern: new RegExp(streamIdSchema.pattern),
    expected: streamIdSchema.description.toLowerCase(),
  },
};

/**
 * CSV jobs: POST /v1/jobs/csv (multipart, streamed to disk under the upload limit, checked, then
 * produced in the background), GET /v1/jobs/:id (progress), GET /v1/jobs/:id/results.csv.
 */
export const jobRoutes: FastifyPluginAsync<{ jobs: CsvJobs; uploadLimitBytes: number }> = async (
  app,
  { jobs, uploadLimitBytes },
) => {
  app.post(
    '/jobs/csv',
    {
      schema: {
        summary: 'Upload a CSV; each row becomes a segment in the pipeline',
        description:
          'multipart/form-data with a `file` part (UTF-8 CSV with a header row) and optional fields ' +
          '`textColumn` (default text), `idColumn` (default: the column named `id` when the file has one; ' +
          'an empty value gives generated ids `<job>:<line>`), `language` (ISO 639-1), `streamId`. Every ' +
          'column of the file comes back in the results file.',
        tags: ['jobs'],
        consumes: ['multipart/form-data'],
        response: { 202: jobStatus, 400: errorResponse, 413: errorResponse, 415: errorResponse },
      },
    },
    async (request, reply) => {
      const { jobId, dir } = jobs.newJobDirectory();
      const file = join(dir, 'upload.csv');
      let fileName = 'upload.csv';
      try {
        const upload = await receiveUpload(request, {
          noun: 'CSV',
          file,
          defaultFileName: fileName,
          fields: FORM_FIELDS,
          uploadLimitBytes,
        });
        fileName = upload.fileName;
        const status = await jobs.accept(jobId, dir, {
          file,
          fileName,
          textColumn: upload.fields.textColumn ?? 'text',
          idColumn: upload.fields.idColumn,
          language: upload.fields.language,
          streamId: upload.fields.streamId,
          traceHeaders: requestTrace(request),
        });
        return reply.code(202).header('Location', `/v1/jobs/${jobId}`).send(status);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        // The spool path means nothing to the client; name the file it sent.
        if (error instanceof CsvInputError)
          throw new HttpError(400, error.message.replaceAll(file, fileName), { cause: error });
        throw error;
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    '/jobs/:id',
    {
      schema: {
        summary: 'Progress of a CSV job: rows in, results out',
        tags: ['jobs'],
        params: jobParams,
        response: { 200: jobStatus, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const status = jobs.get(request.params.id);
      if (!status) return sendError(reply, 404, 'no such job');
      return status;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { partial?: boolean } }>(
    '/jobs/:id/results.csv',
    {
      schema: {
        summary:
          "Results of a CSV job: the upload's rows in its order, every column kept, each row's result after them",
        description:
          "The upload's columns come first, as sent (a column named like a result column is carried as " +
          '`input_<name>`), then the result columns: `result_id` (what `POST /v1/feedback` and ' +
          '`POST /v1/feedback/csv` refer to), `row` (position among the rows sent, 0-based), `language`, ' +
          '`top_label`, `labels` (every class over its threshold, joined by `;`), the 7 calibrated core ' +
          'scores (empty for a class the model lacks), `polarity`, `intensity`, `model` (name@version), ' +
          "`language_fallback` (true when another language's model scored the row) and `skipped` (why a row " +
          'was not sent, e.g. empty text). Rows are in the order of the file. Cells that a spreadsheet would ' +
          'run as a formula are prefixed with an apostrophe (plain numbers are not). A job still running ' +
          'answers 409 unless `partial=true`; then rows still without a result have empty result columns.',
        tags: ['jobs'],
        params: jobParams,
        querystring: { type: 'object', properties: { partial: { type: 'boolean', default: false } } },
        produces: ['text/csv'],
        response: { 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const status = jobs.get(request.params.id);
      if (!status) return sendError(reply, 404, 'no such job');
      const complete = status.finishedAt !== null;
      if (!complete && !request.query.partial) {
        return sendError(
          reply,
          409,
          `job is ${status.state}: ${status.resultsOut} of ${status.rowsIn} results so far; add ?partial=true for those`,
        );
      }
      const results = await jobs.results(status.jobId);
      return reply
        .header('Content-Type', 'text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="results-${status.jobId}.csv"`)
        .header('X-Job-State', status.state)
        .send(results);
    },
  );
};
