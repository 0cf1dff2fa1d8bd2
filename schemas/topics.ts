import type { EventName } from './events.generated.js';

/** One pipeline topic: the single definition used by `topics create`, the services and the tests. */
export interface TopicDefinition {
  /** Base name; a deployment may prefix it (TOPIC_PREFIX) to share a cluster. */
  readonly name: string;
  /** The Avro record every value must be, registered under `<topic>-value`. */
  readonly value: EventName;
  /** What the record key is; it decides ordering (per stream) and spread (per row). */
  readonly key: string;
  /** -1 keeps records forever. */
  readonly retentionMs: number;
  readonly cleanupPolicy: 'delete' | 'compact';
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const TOPICS = {
  audioChunks: {
    name: 'audio.chunks',
    value: 'AudioChunk',
    key: 'streamId (ordered per stream)',
    retentionMs: DAY,
    cleanupPolicy: 'delete',
  },
  segmentsRaw: {
    name: 'segments.raw',
    value: 'TextSegment',
    key: 'streamId for streams, row id for batch rows',
    retentionMs: 7 * DAY,
    cleanupPolicy: 'delete',
  },
  segmentsCorrected: {
    name: 'segments.corrected',
    value: 'TextSegment',
    key: 'as segments.raw',
    retentionMs: 7 * DAY,
    cleanupPolicy: 'delete',
  },
  segmentsTranslated: {
    name: 'segments.translated',
    value: 'TextSegment',
    key: 'as segments.raw',
    retentionMs: 7 * DAY,
    cleanupPolicy: 'delete',
  },
  emotions: {
    name: 'emotions',
    value: 'EmotionResult',
    key: 'as segments.raw',
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
  },
  emotionsShadow: {
    name: 'emotions.shadow',
    value: 'EmotionResult',
    key: 'as segments.raw',
    // Only for comparing a candidate model with the one serving (emotion-stream compare).
    retentionMs: 7 * DAY,
    cleanupPolicy: 'delete',
  },
  streamEvents: {
    name: 'stream.events',
    value: 'StreamEvent',
    key: 'streamId',
    retentionMs: 7 * DAY,
    cleanupPolicy: 'delete',
  },
  feedback: {
    name: 'feedback',
    value: 'Feedback',
    key: 'resultId',
    // Feedback is training data: never expire it.
    retentionMs: -1,
    cleanupPolicy: 'delete',
  },
} as const satisfies Record<string, TopicDefinition>;

export type TopicKey = keyof typeof TOPICS;

/** Dead letters keep the original bytes long enough for someone to look at them and replay. */
export const DEAD_LETTER_RETENTION_MS = 14 * DAY;
const DEAD_LETTER_PARTITIONS = 3;

export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

export interface TopologyOptions {
  prefix: string;
  partitions: number;
  /** Undefined until the cluster's size decides it (cli/provision.ts). */
  replicationFactor: number | undefined;
  /** Replicas that must have a write before it is acknowledged (acks=all); 1 when unset. */
  minInsyncReplicas?: number;
}

/** The names of the pipeline's topics under a deployment's prefix. */
export function topicNames(prefix: string): Record<TopicKey, string> {
  return Object.fromEntries(
    Object.entries(TOPICS).map(([key, definition]) => [key, `${prefix}${definition.name}`]),
  ) as Record<TopicKey, string>;
}

export interface PlannedTopic {
  name: string;
  partitions: number;
  replicationFactor: number | undefined;
  config: Record<string, string>;
  /** Record the value must be; undefined for dead-letter topics, which keep whatever bytes failed. */
  value: EventName | undefined;
}

/** Every topic the pipeline needs, each with its dead-letter topic. */
export function plannedTopics(options: TopologyOptions): PlannedTopic[] {
  return Object.values(TOPICS).flatMap((definition) => {
    const name = `${options.prefix}${definition.name}`;
    return [
      {
        name,
        partitions: options.partitions,
        replicationFactor: options.replicationFactor,
        config: {
          'retention.ms': String(definition.retentionMs),
          'cleanup.policy': definition.cleanupPolicy,
          'min.insync.replicas': String(options.minInsyncReplicas ?? 1),
        },
        value: definition.value,
      },
      {
        name: deadLetterTopicOf(name),
        partitions: Math.min(options.partitions, DEAD_LETTER_PARTITIONS),
        replicationFactor: options.replicationFactor,
        config: {
          'retention.ms': String(DEAD_LETTER_RETENTION_MS),
          'cleanup.policy': 'delete',
          'min.insync.replicas': String(options.minInsyncReplicas ?? 1),
        },
        value: undefined,
      },
    ];
  });
}
