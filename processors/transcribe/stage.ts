import type { InputRecord, Outcome, StageHandler } from '../../runtime/stage/types.js';
import { type AudioChunk, newTextSegment, type TextSegment } from '../../schemas/index.js';
import type { Transcript, TranscriptionEngine } from './engine.js';
import { pcmLevel } from './pcm-level.js';

/**
 * audio.chunks → segments.raw: one TextSegment per chunk with speech, none for silence. The
 * segment keeps the chunk's place in the stream (id `<stream>:<seq>`, start/end in stream time
 * from the recognised words) and is keyed by stream id, so a stream's segments stay in order
 * whichever instance transcribes them. Chunks are cut in pauses by the producer (see
 * producers/audio/audio-chunker.ts), so each is transcribed on its own.
 */
export class TranscribeHandler implements StageHandler<AudioChunk, TextSegment> {
  constructor(
    private readonly engine: TranscriptionEngine,
    private readonly outputTopic: string,
    private readonly silenceLevel: number,
  ) {}

  async process(records: InputRecord<AudioChunk>[]): Promise<Outcome<TextSegment>[]> {
    const audible = records.map((record) => pcmLevel(record.value.pcm) >= this.silenceLevel);
    const inputs = records
      .filter((_, i) => audible[i])
      .map((record) => ({
        pcm: record.value.pcm,
        sampleRate: record.value.sampleRate,
        langHint: record.value.languageHint,
      }));
    const transcripts = inputs.length > 0 ? await this.engine.transcribeBatch(inputs) : [];
    let next = 0;
    return records.map((record, i) => {
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
      asr: { engine: this.engine.name, model: this.engine.model, confidence: transcript.confidence },
      // The stage loop appends this stage's stamp; the producer's stays first.
      trace: chunk.trace,
    });
  }
}
