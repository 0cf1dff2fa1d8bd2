import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../http-errors.js';

/** The upload cannot be taken; `statusCode` (400, 413 or 415) and the message say why. */
export class UploadError extends HttpError {
  override readonly name = 'UploadError';
}

export interface UploadForm {
  /** What the file is, for messages: "CSV", "recording". */
  noun: string;
  /** Where the file part is written. */
  file: string;
  /** The file's name when the client sends none. */
  defaultFileName: string;
  /** The text fields accepted, each with the pattern its value must match and what that means. */
  fields: Record<string, { pattern: RegExp; expected: string }>;
  uploadLimitBytes: number;
}

/** busboy's messages for a body that does not parse (its boundary search rejects over-long boundaries). */
const MALFORMED_MULTIPART =
  /^(Multipart: |Malformed part header|Unexpected end of multipart data|\w+ terminated early due to unexpected end|The needle cannot)/;

/**
 * Reads a multipart/form-data upload with one `file` part, streamed to `form.file` (the size limit
 * is @fastify/multipart's), and the named text fields, each checked. Anything else is refused by
 * name. The caller removes `form.file` when this throws.
 */
export async function receiveUpload(
  request: FastifyRequest,
  form: UploadForm,
): Promise<{ fileName: string; fields: Record<string, string> }> {
  if (!request.isMultipart()) {
    throw new UploadError(415, `expected multipart/form-data with the ${form.noun} in the "file" part`);
  }
  const fields: Record<string, string> = {};
  let fileName: string | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || fileName !== undefined) {
          part.file.resume();
          throw new UploadError(
            400,
            `unexpected file part "${part.fieldname}": send one ${form.noun} as "file"`,
          );
        }
        await pipeline(part.file, createWriteStream(form.file));
        fileName = part.filename || form.defaultFileName;
        continue;
      }
      const field = form.fields[part.fieldname];
      if (!field) throw new UploadError(400, `unknown field "${part.fieldname}"`);
      const value = String(part.value);
      if (!field.pattern.test(value)) {
        throw new UploadError(400, `field "${part.fieldname}" must be ${field.expected}`);
      }
      fields[part.fieldname] = value;
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new UploadError(413, `the upload is larger than the limit of ${form.uploadLimitBytes} bytes`);
    }
    // busboy's parse errors carry no status: a body that is not the multipart it claims to be is
    // the client's mistake, not ours (found by fuzzing: a Content-Type without a boundary was a 500).
    if (error instanceof Error && MALFORMED_MULTIPART.test(error.message)) {
      throw new UploadError(400, `malformed multipart/form-data body: ${error.message}`);
    }
    throw error;
  }
  if (fileName === undefined) throw new UploadError(400, `no "file" part: send the ${form.noun} as "file"`);
  return { fileName, fields };
}
