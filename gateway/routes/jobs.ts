import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { CsvInputError } from '../../producers/csv/csv-input.js';
import { errorResponse, languageCode, streamIdSchema } from '../api-schemas.js';
import type { CsvJobs, CsvUpload } from '../jobs/csv-jobs.js';

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
  textColumn: /^.{1,200}$/,
  idColumn: /^.{1,200}$/,
  language: new RegExp(languageCode.pattern),
  streamId: new RegExp(streamIdSchema.pattern),
} as const;

function badRequest(reply: FastifyReply, code: number, message: string) {
  const error = code === 413 ? 'Payload Too Large' : code === 415 ? 'Unsupported Media Type' : 'Bad Request';
  return reply.code(code).send({ statusCode: code, error, message });
}

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
          '`textColumn` (default text), `idColumn`, `language` (ISO 639-1), `streamId`.',
        tags: ['jobs'],
        consumes: ['multipart/form-data'],
        response: { 202: jobStatus, 400: errorResponse, 413: errorResponse, 415: errorResponse },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        return badRequest(reply, 415, 'expected multipart/form-data with a CSV in the "file" part');
      }
      const { jobId, dir } = jobs.newJobDirectory();
      const fields: Record<string, string> = {};
      let upload: Pick<CsvUpload, 'file' | 'fileName'> | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || upload) {
              part.file.resume();
              return badRequest(
                reply,
                400,
                `unexpected file part "${part.fieldname}": send one CSV as "file"`,
              );
            }
            const file = join(dir, 'upload.csv');
            await pipeline(part.file, createWriteStream(file));
            upload = { file, fileName: part.filename || 'upload.csv' };
          } else {
            const pattern = FORM_FIELDS[part.fieldname as keyof typeof FORM_FIELDS];
            const value = String(part.value);
            if (!pattern) return badRequest(reply, 400, `unknown field "${part.fieldname}"`);
            if (!pattern.test(value)) return badRequest(reply, 400, `field "${part.fieldname}" is not valid`);
            fields[part.fieldname] = value;
          }
        }
        if (!upload) return badRequest(reply, 400, 'no "file" part: send the CSV as the "file" field');
        const status = await jobs.accept(jobId, dir, {
          ...upload,
          textColumn: fields.textColumn ?? 'text',
          idColumn: fields.idColumn,
          language: fields.language,
          streamId: fields.streamId,
        });
        return reply.code(202).header('Location', `/v1/jobs/${jobId}`).send(status);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          return badRequest(reply, 413, `the upload is larger than the limit of ${uploadLimitBytes} bytes`);
        }
        if (error instanceof CsvInputError) {
          // The spool path means nothing to the client; name the file it sent.
          return badRequest(
            reply,
            400,
            error.message.replaceAll(join(dir, 'upload.csv'), upload?.fileName ?? 'upload'),
          );
        }
        throw error;
      } finally {
        if (reply.statusCode >= 400) await rm(dir, { recursive: true, force: true });
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
      if (!status)
        return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'no such job' });
      return status;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { partial?: boolean } }>(
    '/jobs/:id/results.csv',
    {
      schema: {
        summary: 'Results of a CSV job: id, row, original text, language, top label and every core score',
        description:
          'Rows are in the order their results arrived (sort by `row` for the upload order). Cells that a ' +
          'spreadsheet would run as a formula are prefixed with an apostrophe. A job still running answers 409 ' +
          'unless `partial=true`.',
        tags: ['jobs'],
        params: jobParams,
        querystring: { type: 'object', properties: { partial: { type: 'boolean', default: false } } },
        produces: ['text/csv'],
        response: { 404: errorResponse, 409: errorResponse },
      },
    },
    async (request, reply) => {
      const status = jobs.get(request.params.id);
      if (!status)
        return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'no such job' });
      const complete = status.finishedAt !== null;
      if (!complete && !request.query.partial) {
        return reply.code(409).send({
          statusCode: 409,
          error: 'Conflict',
          message: `job is ${status.state}: ${status.resultsOut} of ${status.rowsIn} results so far; add ?partial=true for those`,
        });
      }
      const path = await jobs.resultsFile(status.jobId);
      return reply
        .header('Content-Type', 'text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="results-${status.jobId}.csv"`)
        .header('X-Job-State', status.state)
        .send(createReadStream(path!));
    },
  );
};
