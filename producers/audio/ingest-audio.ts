import { AvroProducer } from '../../runtime/kafka/avro-producer.js';
import type { KafkaClients } from '../../runtime/kafka/client.js';
import type { Logger } from '../../runtime/logger.js';
import type { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { type AudioChunk, avroSchemas, type StreamEvent, type StreamEventKind } from '../../schemas/index.js';
import type { PcmChunk } from './audio-chunker.js';
import { AudioInputError, decodeToPcm, describe } from './ffmpeg-decoder.js';
import { resolveAudioInput } from './resolve-input.js';
import { openChunker } from './speech-chunker.js';

export interface AudioProducers {
  chunks: AvroProducer<AudioChunk>;
  events: AvroProducer<StreamEvent>;
  close(): Promise<void>;
}

/** The two producers an audio ingest writes with: chunks to audio.chunks, events to stream.events. */
export async function connectAudioProducers(options: {
  kafka: KafkaClients;
  registry: SchemaRegistryClient;
  topics: { audioChunks: string; streamEvents: string };
  logger: Logger;
}): Promise<AudioProducers> {
  const { kafka, registry, logger } = options;
  const chunks = await AvroProducer.connect<AudioChunk>({
    kafka,
    registry,
    topic: options.topics.audioChunks,
    schema: avroSchemas.AudioChunk,
    logger,
  });
  const events = await AvroProducer.connect<StreamEvent>({
    kafka,
    registry,
    topic: options.topics.streamEvents,
    schema: avroSchemas.StreamEvent,
    logger,
  });
  return { chunks, events, close: () => Promise.all([chunks.close(), events.close()]).then(() => undefined) };
}

export interface IngestAudioOptions {
  /** A file path or URL: anything ffmpeg reads, or a page yt-dlp knows (YouTube). */
  input: string;
  streamId: string;
  chunks: AvroProducer<AudioChunk>;
  events: AvroProducer<StreamEvent>;
  /** Target chunk length; cuts move up to ±500 ms into the nearest pause. */
  chunkMs?: number;
  /** silero VAD's ONNX file (vadModelOf(config)): only speech becomes chunks; energy levels when undefined. */
  vadModel: string | undefined;
  sampleRate?: number;
  /** Read at the input's own pace (files); live inputs always are. */
  realtime?: boolean;
  languageHint?: string | undefined;
  /** A live input that delivers no audio for this long is a failure. */
  stallTimeoutMs?: number;
  /** Aborting stops the ingest: the stream ends with a final chunk and a `stopped` event. */
  signal?: AbortSignal;
  onProgress?: (progress: { chunks: number; audioMs: number }) => void;
  /** The trace context the chunks continue (the upload's or the request's that started the stream). */
  traceHeaders?: Record<string, string>;
}

export interface IngestResult {
  kind: StreamEventKind;
  chunks: number;
  audioMs: number;
  error?: string;
}

/**
 * Decodes one input and produces it to audio.chunks as AudioChunks keyed by stream id (so they
 * stay in order), the last one marked final. What happened is also published to stream.events
 * (started, then ended, stopped or failed with the reason), which the gateway forwards to the
 * stream's viewers. Never throws for a bad input: the failure is the result and an event.
 */
export async function ingestAudio(options: IngestAudioOptions): Promise<IngestResult> {
  const sampleRate = options.sampleRate ?? 16_000;
  const chunker = await openChunker(sampleRate, options.chunkMs ?? 8000, options.vadModel);
  const source = describe(options.input);
  let seq = 0;
  let audioMs = 0;
  const event = (kind: StreamEventKind, message: string | null = null) =>
    options.events.send([
      {
        key: options.streamId,
        value: {
          streamId: options.streamId,
          kind,
          message,
          source,
          chunks: seq,
          audioMs,
          atMs: Date.now(),
          language: null,
          languageShares: null,
        },
      },
    ]);
  const send = async (pieces: PcmChunk[], final: boolean) => {
    if (pieces.length === 0) return;
    const atMs = Date.now();
    await options.chunks.send(
      pieces.map((piece, i) => ({
        key: options.streamId,
        ...(options.traceHeaders ? { headers: options.traceHeaders } : {}),
        value: {
          streamId: options.streamId,
          seq: seq + i,
          startMs: piece.startMs,
          durationMs: piece.durationMs,
          sampleRate,
          encoding: 'PCM_S16LE',
          pcm: piece.pcm,
          final: final && i === pieces.length - 1,
          languageHint: options.languageHint ?? null,
          source,
          trace: [{ stage: 'produce-audio', atMs }],
        },
      })),
    );
    seq += pieces.length;
  };
  // Progress counts audio decoded, not chunks sent: with the VAD chunker, a long stretch without
  // speech (music, a tone) sends no chunk at all but is still progress.
  let decodedBytes = 0;
  const progress = (bytes: number) => {
    decodedBytes += bytes;
    audioMs = Math.round((decodedBytes / 2 / sampleRate) * 1000);
    options.onProgress?.({ chunks: seq, audioMs });
  };

  let decoder: ReturnType<typeof decodeToPcm> | undefined;
  const stop = () => decoder?.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    const input = await resolveAudioInput(options.input);
    decoder = decodeToPcm(input, { sampleRate, realtime: options.realtime ?? false });
    const stallMs = options.stallTimeoutMs ?? 30_000;
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        decoder?.stop();
      }, stallMs);
    };
    watch();
    let started = false;
    try {
      for await (const data of decoder.pcm as AsyncIterable<Buffer>) {
        watch();
        if (!started) {
          started = true;
          await event('started');
        }
        await send(await chunker.push(data), false);
        progress(data.length);
      }
      await decoder.finished;
    } finally {
      clearTimeout(timer);
    }
    if (stalled) throw new AudioInputError(`${source}: no audio for ${stallMs / 1000} s; the stream stalled`);
    if (!started && !options.signal?.aborted) throw new AudioInputError(`${source}: no audio in the input`);
    await send([chunker.end()], true);
    const kind = options.signal?.aborted ? 'stopped' : 'ended';
    await event(kind);
    return { kind, chunks: seq, audioMs };
  } catch (error) {
    if (!(error instanceof AudioInputError)) throw error;
    // What was produced stays; the rest of the audio goes out as the final chunk, closing the stream.
    if (seq > 0) await send([chunker.end()], true);
    await event('failed', error.message);
    return { kind: 'failed', chunks: seq, audioMs, error: error.message };
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}
