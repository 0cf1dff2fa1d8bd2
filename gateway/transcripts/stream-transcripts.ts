import type { KafkaClients } from '../../runtime/kafka/client.js';
import { readTopicRange } from '../../runtime/kafka/topic-range-reader.js';
import type { Logger } from '../../runtime/logger.js';
import type { SchemaRegistryClient } from '../../runtime/serde/schema-registry.js';
import { avroSchemas, type EmotionResult } from '../../schemas/index.js';
import type { TranscriptLine } from './transcript-formats.js';

/** Where a stream's transcript comes from: its committed results, in stream order. */
export interface TranscriptSource {
  /** The stream's results, one per segment (the latest where a replay classified one again), by seq. */
  results(streamId: string): Promise<EmotionResult[]>;
}

/**
 * A stream's results read from the `emotions` topic itself, so any gateway replica answers the
 * same (no gateway's memory is involved) and the transcript is complete up to what was committed
 * when the request came. Audio and live-text results are keyed by stream id, so only the one
 * partition the producers' default partitioner put the stream in is read, read_committed, up to
 * the end offset it had when the request came.
 */
export class KafkaTranscripts implements TranscriptSource {
  constructor(
    private readonly options: {
      kafka: KafkaClients;
      registry: SchemaRegistryClient;
      topic: string;
      logger: Logger;
    },
  ) {}

  async results(streamId: string): Promise<EmotionResult[]> {
    const { kafka, registry, topic, logger } = this.options;
    const bySegment = new Map<string, EmotionResult>();
    await readTopicRange<EmotionResult>({
      kafka,
      registry,
      topic,
      schema: avroSchemas.EmotionResult,
      key: streamId,
      onRecord: ({ value }) => {
        if (value.streamId === streamId) bySegment.set(value.segmentId, value);
      },
      logger,
    });
    // A chunk with a change of speaker gave a result per turn, all with its seq.
    return [...bySegment.values()].sort((a, b) => a.seq - b.seq || (a.startMs ?? 0) - (b.startMs ?? 0));
  }
}

/** A result as a transcript line: what was said, its time in the stream, its emotions. */
export function transcriptLineOf(result: EmotionResult): TranscriptLine {
  return {
    startMs: result.startMs ?? 0,
    endMs: result.endMs ?? result.startMs ?? 0,
    text: result.originalText,
    ...(result.text !== result.originalText ? { classifiedText: result.text } : {}),
    language: result.language,
    ...(result.speaker ? { speaker: result.speaker } : {}),
    topLabel: result.topLabel,
    core: { ...result.core },
  };
}
