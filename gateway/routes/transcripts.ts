import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { errorResponse, streamIdSchema } from '../api-schemas.js';
import { sendError } from '../http-errors.js';
import { type TranscriptSource, transcriptLineOf } from '../transcripts/stream-transcripts.js';
import {
  formatTranscript,
  TRANSCRIPT_CONTENT_TYPES,
  TRANSCRIPT_FORMATS,
  type TranscriptFormat,
} from '../transcripts/transcript-formats.js';

/**
 * GET /v1/streams/:streamId/transcript: every segment of a stream with its time, text, top emotion
 * and scores, as JSON, CSV, SubRip or WebVTT (the emotion in each cue), read from the committed
 * results (see KafkaTranscripts), so any gateway replica answers, and written out piece by piece.
 */
export const transcriptRoutes: FastifyPluginAsync<{ transcripts: TranscriptSource }> = async (
  app,
  { transcripts },
) => {
  app.get<{ Params: { streamId: string }; Querystring: { format?: TranscriptFormat } }>(
    '/streams/:streamId/transcript',
    {
      schema: {
        summary: "A stream's transcript with each segment's emotions: JSON, CSV, SRT or WebVTT",
        tags: ['streams'],
        params: { type: 'object', properties: { streamId: streamIdSchema }, required: ['streamId'] },
        querystring: {
          type: 'object',
          properties: {
            format: {
              type: 'string',
              enum: [...TRANSCRIPT_FORMATS],
              default: 'json',
              description:
                'json: {streamId, segments: [{startMs, endMs, text, classifiedText?, language, speaker?, topLabel, core}]}; csv: start_ms, end_ms, speaker, text, top_label and the 7 core scores; srt and vtt: one cue per segment, "[S1 label score] text" (the speaker where voices were told apart); txt: the text, a line per segment, "S1: " before it where voices were told apart',
            },
            access_token: { type: 'string', description: 'the API key, for download links' },
          },
        },
        response: {
          200: {
            description: 'The transcript in the format asked for',
            content: Object.fromEntries(
              Object.values(TRANSCRIPT_CONTENT_TYPES).map((type) => [
                type.split(';')[0],
                { schema: { type: 'string' } },
              ]),
            ),
          },
          404: errorResponse,
        },
      },
    },
    async (request, reply) => {
      const { streamId } = request.params;
      const format = request.query.format ?? 'json';
      const results = await transcripts.results(streamId);
      if (results.length === 0) return sendError(reply, 404, `no results for stream ${streamId} yet`);
      const lines = results.map(transcriptLineOf);
      const filename = `${streamId.replace(/[^A-Za-z0-9._-]/g, '_')}.${format}`;
      return reply
        .type(TRANSCRIPT_CONTENT_TYPES[format])
        .header('Content-Disposition', `inline; filename="${filename}"`)
        .send(Readable.from(formatTranscript(format, lines, { streamId })));
    },
  );
};
