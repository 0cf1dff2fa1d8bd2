import type { InputRecord, Outcome, OutputRecord, StageHandler } from '../../runtime/stage/types.js';
import { type AudioChunk, newTextSegment, type StreamEvent, type TextSegment } from '../../schemas/index.js';
import { type Transcript, type TranscriptionEngine, unsupportedLanguage } from './engine.js';
import { pcmLevel } from './pcm-level.js';

/**
 * audio.chunks → segments.raw: one TextSegment per chunk with speech, none for silence. The
 * segment keeps the chunk's place in the stream (id `<stream>:<seq>`, start/end in stream time
 * from the recognised words) and is keyed by stream id, so a stream's segments stay in order
 * whichever instance transcribes them. Chunks are cut in pauses by the producer (see
 * producers/audio/audio-chunker.ts), so each is transcribed on its own.
 *
 * A chunk in a language the engine cannot hear (Romanian for an English-only model) is not
 * transcribed: the stream gets a `warning` event on stream.events saying why, once per stream and
 * stage instance, instead of English-sounding gibberish on its results.
 */
export class TranscribeHandler implements StageHandler<AudioChunk, TextSegment | StreamEvent> {
  /** Streams already warned about, oldest first; bounded so a long-lived stage does not grow. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly engine: TranscriptionEngine,
    private readonly outputTopic: string,
    private readonly silenceLevel: number,
    /** stream.events, where warnings go; none (replay) means the chunk is only skipped. */
    private readonly eventsTopic?: string,
  ) {}

  async process(records: InputRecord<AudioChunk>[]): Promise<Outcome<TextSegment | StreamEvent>[]> {
    const unsupported = records.map((record) => {
      const hint = record.value.languageHint;
      return hint !== null && !this.engine.supportsLanguage(hint);
    });
    const audible = records.map(
      (record, i) => !unsupported[i] && pcmLevel(record.value.pcm) >= this.silenceLevel,
    );
    const inputs = records
      .filter((_, i) => audible[i])
      .map((record) => ({
        pcm: record.value.pcm,
        sampleRate: record.value.sampleRate,
        langHint: record.value.languageHint,
      }));
    const transcripts = inputs.length > 0 ? await this.engine.run(inputs, {}) : [];
    let next = 0;
    return records.map((record, i) => {
      if (unsupported[i]) return { outputs: this.languageWarning(record.value) };
      const transcript = audible[i] ? transcripts[next++] : undefined;
      if (!transcript || transcript.text.trim() === '') return { outputs: [] };
      return {
        outputs: [
          {
            topic: this.outputTopic,
            key: record.value.streamId,
            value: this.segment(record.value, transcript),
          },
        ],
      };
    });
  }

  private languageWarning(chunk: AudioChunk): OutputRecord<StreamEvent>[] {
    if (!this.eventsTopic || this.warned.has(chunk.streamId)) return [];
    this.warned.add(chunk.streamId);
    if (this.warned.size > 10_000) this.warned.delete(this.warned.values().next().value!);
    const message = `${unsupportedLanguage(this.engine, chunk.languageHint!)}; its audio is skipped`;
    return [
      {
        topic: this.eventsTopic,
        key: chunk.streamId,
        value: {
          streamId: chunk.streamId,
          kind: 'warning',
          message,
          source: chunk.source,
          chunks: chunk.seq + 1,
          audioMs: chunk.startMs + chunk.durationMs,
          atMs: Date.now(),
        },
      },
    ];
  }

  private segment(chunk: AudioChunk, transcript: Transcript): TextSegment {
    const first = transcript.segments[0];
    const last = transcript.segments.at(-1);
    return newTextSegment({
      id: `${chunk.streamId}:${chunk.seq}`,
      streamId: chunk.streamId,
      seq: chunk.seq,
      origin: 'ASR',
      text: transcript.text,
      language: chunk.languageHint ?? transcript.language,
      startMs: chunk.startMs + (first?.startMs ?? 0),
      endMs: chunk.startMs + (last?.endMs ?? chunk.durationMs),
      asr: {
        engine: this.engine.name,
        model: transcript.model ?? this.engine.model,
        confidence: transcript.confidence,
      },
      // The stage loop appends this stage's stamp; the producer's stays first.
      trace: chunk.trace,
    });
  }
}
