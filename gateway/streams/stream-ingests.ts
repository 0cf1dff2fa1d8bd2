import { rm } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import * as prom from 'prom-client';
import { type IngestResult, ingestAudio } from '../../producers/audio/ingest-audio.js';
import type { AvroProducer } from '../../runtime/kafka/avro-producer.js';
import type { Logger } from '../../runtime/logger.js';
import type { AudioChunk, StreamEvent } from '../../schemas/index.js';
import { HttpError } from '../http-errors.js';

export interface StreamStatus {
  streamId: string;
  state: 'running' | 'ended' | 'stopped' | 'failed';
  source: string;
  chunks: number;
  audioMs: number;
  startedAt: string;
  error: string | null;
}

interface Ingest {
  status: StreamStatus;
  controller: AbortController;
  done: Promise<IngestResult>;
}

export class TooManyStreamsError extends HttpError {
  override readonly name = 'TooManyStreamsError';
  constructor(message: string) {
    super(429, message);
  }
}

/**
 * The audio ingests this gateway runs (uploads and URLs), each producing to audio.chunks until its
 * input ends or it is stopped. Bounded: more than `maxRunning` at once is refused, since each
 * holds an ffmpeg process.
 */
export class StreamIngests {
  private readonly ingests = new Map<string, Ingest>();
  private readonly running: prom.Gauge;

  constructor(
    private readonly options: {
      chunks: AvroProducer<AudioChunk>;
      events: AvroProducer<StreamEvent>;
      chunkMs: number;
      /** silero VAD for the chunker (producers/audio/speech-chunker.ts); energy levels when unset. */
      vadModel: string | undefined;
      stallTimeoutMs: number;
      maxRunning: number;
      logger: Logger;
      metrics: Registry;
    },
  ) {
    this.running = new prom.Gauge({
      name: 'gateway_audio_ingests_running',
      help: 'Audio inputs (uploads and URLs) being produced to audio.chunks',
      registers: [options.metrics],
    });
  }

  isRunning(streamId: string): boolean {
    return this.ingests.get(streamId)?.status.state === 'running';
  }

  /**
   * Starts producing an input as a stream; `cleanup` (an uploaded file) is deleted when it ends.
   * Throws TooManyStreamsError when the gateway runs its maximum already.
   */
  start(request: {
    streamId: string;
    input: string;
    source: string;
    realtime: boolean;
    languageHint?: string | undefined;
    cleanup?: string;
    /** The request's trace context, which every chunk continues. */
    traceHeaders?: Record<string, string>;
  }): StreamStatus {
    const active = this.runningCount();
    if (active >= this.options.maxRunning) {
      throw new TooManyStreamsError(
        `this gateway already ingests ${active} streams, its maximum; retry later`,
      );
    }
    const controller = new AbortController();
    const status: StreamStatus = {
      streamId: request.streamId,
      state: 'running',
      source: request.source,
      chunks: 0,
      audioMs: 0,
      startedAt: new Date().toISOString(),
      error: null,
    };
    const done = ingestAudio({
      input: request.input,
      streamId: request.streamId,
      chunks: this.options.chunks,
      events: this.options.events,
      chunkMs: this.options.chunkMs,
      vadModel: this.options.vadModel,
      stallTimeoutMs: this.options.stallTimeoutMs,
      realtime: request.realtime,
      languageHint: request.languageHint,
      signal: controller.signal,
      onProgress: (progress) => Object.assign(status, progress),
      ...(request.traceHeaders ? { traceHeaders: request.traceHeaders } : {}),
    })
      .then((result) => {
        Object.assign(status, {
          chunks: result.chunks,
          audioMs: result.audioMs,
          state: result.kind,
          error: result.error ?? null,
        });
        this.options.logger.info({ streamId: request.streamId, ...result }, 'audio ingest finished');
        return result;
      })
      .catch((error: Error) => {
        // Kafka itself failed: the stream cannot go on.
        Object.assign(status, { state: 'failed', error: error.message });
        this.options.logger.error({ streamId: request.streamId, err: error }, 'audio ingest failed');
        return {
          kind: 'failed',
          chunks: status.chunks,
          audioMs: status.audioMs,
          error: error.message,
        } as IngestResult;
      })
      .finally(() => {
        this.running.set(this.runningCount());
        if (request.cleanup) void rm(request.cleanup, { force: true });
      });
    this.ingests.set(request.streamId, { status, controller, done });
    this.running.set(active + 1);
    return { ...status };
  }

  private runningCount(): number {
    return [...this.ingests.values()].filter((ingest) => ingest.status.state === 'running').length;
  }

  get(streamId: string): StreamStatus | undefined {
    const ingest = this.ingests.get(streamId);
    return ingest && { ...ingest.status };
  }

  /** Stops a running ingest; resolves once its last chunk and event are produced. */
  async stop(streamId: string): Promise<StreamStatus | undefined> {
    const ingest = this.ingests.get(streamId);
    if (!ingest) return undefined;
    ingest.controller.abort();
    await ingest.done;
    return { ...ingest.status };
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.ingests.keys()].map((streamId) => this.stop(streamId)));
  }
}
