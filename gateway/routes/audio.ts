import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { AudioInputError, describe } from '../../producers/audio/ffmpeg-decoder.js';
import { probeAudioFile } from '../../producers/audio/probe-audio.js';
import { errorResponse, languageHintOf, spokenLanguage, streamIdSchema } from '../api-schemas.js';
import { HttpError, sendError } from '../http-errors.js';
import { requestTrace } from '../request-trace.js';
import type { StreamIngests } from '../streams/stream-ingests.js';
import { checkStreamUrl, type UrlAllowList } from '../streams/url-guard.js';
import { receiveUpload } from './multipart-upload.js';

const streamStatus = {
  type: 'object',
  properties: {
    streamId: { type: 'string' },
    state: { type: 'string', enum: ['running', 'ended', 'stopped', 'failed'] },
    source: { type: 'string' },
    chunks: { type: 'integer' },
    audioMs: { type: 'integer' },
    startedAt: { type: 'string', format: 'date-time' },
    error: { type: ['string', 'null'] },
  },
} as const;

const streamParams = {
  type: 'object',
  properties: { streamId: streamIdSchema },
  required: ['streamId'],
} as const;

/** URL schemes ffmpeg reads live or as files; page URLs (YouTube) go through yt-dlp. */
const URL_PATTERN = '^(https?|rtmps?|rtsp|srt|udp|tcp)://';

/** Text fields of the upload form; anything else is refused by name. */
const FORM_FIELDS = {
  streamId: {
    pattern: new RegExp(streamIdSchema.pattern),
    expected: streamIdSchema.description.toLowerCase(),
  },
  language: {
    pattern: new RegExp(spokenLanguage.pattern),
    expected: 'an ISO 639-1 code such as en, or auto',
  },
  realtime: { pattern: /^(true|false)$/, expected: 'true or false' },
};

function newStreamId(): string {
  return `audio-${randomUUID().slice(0, 8)}`;
}

/**
 * Audio in: POST /v1/audio (an uploaded recording), POST /v1/streams (a URL: a file, a live
 * HTTP/HLS/RTMP/SRT/UDP stream, or a YouTube page), GET and DELETE /v1/streams/:streamId.
 * Results appear on /v1/live under the stream id; so do the stream's events (started, ended,
 * stopped, failed with the reason).
 */
export const audioRoutes: FastifyPluginAsync<{
  ingests: StreamIngests;
  spoolDir: string;
  uploadLimitBytes: number;
  /** Internal hosts and networks a stream URL may reach (GATEWAY_STREAM_URL_ALLOW). */
  urlAllow: UrlAllowList;
}> = async (app, { ingests, spoolDir, uploadLimitBytes, urlAllow }) => {
  mkdirSync(spoolDir, { recursive: true });

  app.post(
    '/audio',
    {
      schema: {
        summary:
          'Upload a recording (MP3, WAV, M4A, OGG, FLAC, anything ffmpeg decodes); it becomes a stream',
        description:
          'multipart/form-data with a `file` part and optional fields `streamId`, `language` (ISO 639-1, or auto), ' +
          '`realtime` (true: produce at the pace of playback, as if live).',
        tags: ['streams'],
        consumes: ['multipart/form-data'],
        response: {
          202: streamStatus,
          400: errorResponse,
          409: errorResponse,
          413: errorResponse,
          415: errorResponse,
          429: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const file = join(spoolDir, randomUUID());
      try {
        const { fileName, fields } = await receiveUpload(request, {
          noun: 'recording',
          file,
          defaultFileName: 'upload',
          fields: FORM_FIELDS,
          uploadLimitBytes,
        });
        const streamId = fields.streamId ?? newStreamId();
        if (ingests.isRunning(streamId)) {
          await rm(file, { force: true });
          return sendError(reply, 409, `stream ${streamId} is already running`);
        }
        await probeAudioFile(file, fileName);
        const status = ingests.start({
          streamId,
          input: file,
          source: fileName,
          realtime: fields.realtime === 'true',
          languageHint: languageHintOf(fields.language),
          cleanup: file,
          traceHeaders: requestTrace(request),
        });
        return reply.code(202).header('Location', `/v1/streams/${streamId}`).send(status);
      } catch (error) {
        await rm(file, { force: true });
        // Upload and stream-limit errors carry their status (HttpError); the decoder's are the client's file.
        if (error instanceof AudioInputError) throw new HttpError(400, error.message, { cause: error });
        throw error;
      }
    },
  );

  app.post<{ Body: { url: string; streamId?: string; language?: string; realtime?: boolean } }>(
    '/streams',
    {
      schema: {
        summary: 'Ingest audio from a URL: a file, a live HTTP/HLS/RTMP/SRT/UDP stream, or a YouTube page',
        description:
          'The URL, and every HTTP redirect it leads through, must reach a public address: loopback, ' +
          'link-local (cloud metadata) and private addresses are refused with 400 unless ' +
          'GATEWAY_STREAM_URL_ALLOW names the host or network.',
        tags: ['streams'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', maxLength: 4096, pattern: URL_PATTERN },
            streamId: streamIdSchema,
            language: spokenLanguage,
            realtime: {
              type: 'boolean',
              description: 'Pace a file URL like playback (live inputs always are)',
            },
          },
        },
        response: { 202: streamStatus, 400: errorResponse, 409: errorResponse, 429: errorResponse },
      },
    },
    async (request, reply) => {
      const { url, language, realtime } = request.body;
      const streamId = request.body.streamId ?? newStreamId();
      if (ingests.isRunning(streamId)) return sendError(reply, 409, `stream ${streamId} is already running`);
      // A refused URL (400) and the stream limit (429) carry their status to the error handler.
      // The URL and every redirect it leads through must reach public addresses (url-guard.ts).
      const input = await checkStreamUrl(url, { allow: urlAllow });
      const status = ingests.start({
        streamId,
        input,
        source: describe(url),
        realtime: realtime ?? false,
        languageHint: languageHintOf(language),
        traceHeaders: requestTrace(request),
      });
      return reply.code(202).header('Location', `/v1/streams/${streamId}`).send(status);
    },
  );

  app.get<{ Params: { streamId: string } }>(
    '/streams/:streamId',
    {
      schema: {
        summary: "An audio stream's ingest: state, audio so far, the error if it failed",
        tags: ['streams'],
        params: streamParams,
        response: { 200: streamStatus, 404: errorResponse },
      },
    },
    async (request, reply) =>
      ingests.get(request.params.streamId) ??
      sendError(reply, 404, 'no audio stream with this id on this gateway'),
  );

  app.delete<{ Params: { streamId: string } }>(
    '/streams/:streamId',
    {
      schema: {
        summary: 'Stop a running ingest: the audio so far is kept and the stream ends',
        tags: ['streams'],
        params: streamParams,
        response: { 200: streamStatus, 404: errorResponse },
      },
    },
    async (request, reply) =>
      (await ingests.stop(request.params.streamId)) ??
      sendError(reply, 404, 'no audio stream with this id on this gateway'),
  );
};
