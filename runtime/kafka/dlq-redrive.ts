import { setTimeout as sleep } from 'node:timers/promises';
import type { StageConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { KafkaClients } from './client.js';
import { DLQ_HEADERS, headersAsStrings } from './dead-letter.js';
import { ExactlyOnceLoop } from './exactly-once-loop.js';
import type { ConsumedRecord, RecordHeaders, RecordsByTopic } from './records.js';
import {
  committedOffsets,
  lastRecordOffsets,
  type PartitionSpan,
  rangeProgress,
  scanSpans,
  spansOf,
} from './topic-range-reader.js';

/**
 * Re-sends the dead letters of a range to the topic each came from, once the cause is fixed
 * (issue 21): key, value and the original headers as they were, the error headers dropped and a
 * `emotion-stream.redriven-from` header added. Exactly once and resumable, like a replay: a
 * consumer group of its own (starting at the range) whose offsets commit in the transaction of the
 * records it sends (the stages' ExactlyOnceLoop, bounded at the range's end); killed and run again
 * with the same group, it goes on where its last transaction ended.
 */

export const REDRIVEN_FROM_HEADER = 'emotion-stream.redriven-from';

export interface RedriveOptions {
  kafka: KafkaClients;
  logger: Logger;
  /** The dead-letter topic (`<topic>.dlq`). */
  deadLetterTopic: string;
  /** Where a record without the origin header goes (the topic the dead-letter topic belongs to). */
  fallbackTopic: string;
  groupId: string;
  fromMs?: number;
  toMs?: number;
  /** Count and report only; nothing is sent or committed. */
  dryRun?: boolean;
  /** Transactions, batches and retries as the stages have them (STAGE_*). */
  stage: StageConfig;
  onProgress?: (done: bigint, total: bigint) => void;
}

export interface RedriveSummary {
  /** Dead letters in the range (a dry run), or sent by this run. */
  records: number;
  /** Per original topic and error class: how many. */
  byOrigin: Record<string, number>;
  resumed: boolean;
  durationMs: number;
}

const ERROR_HEADERS = new Set<string>(Object.values(DLQ_HEADERS));

/** The record as it was before it failed, and the topic it goes back to. */
export function redrivenMessage(
  message: ConsumedRecord,
  source: { topic: string; partition: number },
  fallbackTopic: string,
): { topic: string; key: Buffer | null; value: Buffer | null; headers: RecordHeaders; reason: string } {
  const strings = headersAsStrings(message.headers);
  const headers: RecordHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {}))
    if (!ERROR_HEADERS.has(name) && name !== REDRIVEN_FROM_HEADER && value !== undefined)
      headers[name] = value;
  headers[REDRIVEN_FROM_HEADER] = `${source.topic}/${source.partition}/${message.offset}`;
  return {
    topic: strings[DLQ_HEADERS.topic] ?? fallbackTopic,
    key: message.key,
    value: message.value,
    headers,
    reason: strings[DLQ_HEADERS.errorClass] ?? 'unknown error',
  };
}

export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveSummary> {
  const started = Date.now();
  const { kafka: clients, logger, deadLetterTopic: topic, groupId } = options;
  const admin = clients.admin();
  await admin.connect();
  const byOrigin: Record<string, number> = {};
  const count = (message: ConsumedRecord, partition: number) => {
    const { topic: origin, reason } = redrivenMessage(message, { topic, partition }, options.fallbackTopic);
    byOrigin[`${origin} (${reason})`] = (byOrigin[`${origin} (${reason})`] ?? 0) + 1;
  };
  try {
    const spans = await spansOf(admin, topic, options.fromMs, options.toMs);
    const inTime = (message: ConsumedRecord) => {
      const at = Number(message.timestamp);
      return (
        (options.fromMs === undefined || at >= options.fromMs) &&
        (options.toMs === undefined || at < options.toMs)
      );
    };
    if (options.dryRun) {
      let records = 0;
      await scanSpans(clients, topic, spans, (partition, message) => {
        if (!inTime(message)) return;
        records += 1;
        count(message, partition);
      });
      return { records, byOrigin, resumed: false, durationMs: Date.now() - started };
    }
    const lastRecords = await lastRecordOffsets(clients, topic, spans);
    const committed = await committedOffsets(admin, groupId, topic);
    const resumed = committed.size > 0;
    if (!resumed)
      await admin.setOffsets({
        groupId,
        topic,
        partitions: spans.map((span) => ({ partition: span.partition, offset: span.from.toString() })),
      });
    const finished = async () => {
      const { done, total, finished: all } = await rangeProgress(admin, groupId, topic, spans, lastRecords);
      options.onProgress?.(done, total);
      return all;
    };
    let records = 0;
    if (await finished()) return { records, byOrigin, resumed, durationMs: Date.now() - started };

    let failure: Error | undefined;
    const loop = new ExactlyOnceLoop<{ messagesByTopic: RecordsByTopic; origins: string[] }>({
      clients,
      groupId,
      topic,
      settings: options.stage,
      logger,
      endOffsets: new Map(spans.map((span: PartitionSpan) => [span.partition, span.to])),
      batchSize: () => options.stage.maxBatchRecords,
      process: async (batch) => {
        const messagesByTopic: RecordsByTopic = new Map();
        const origins: string[] = [];
        for (const record of batch) {
          if (!inTime(record)) continue;
          const sent = redrivenMessage(record, { topic, partition: record.partition }, options.fallbackTopic);
          const list = messagesByTopic.get(sent.topic) ?? [];
          list.push({ key: sent.key, value: sent.value, headers: sent.headers });
          messagesByTopic.set(sent.topic, list);
          origins.push(`${sent.topic} (${sent.reason})`);
        }
        return { messagesByTopic, origins };
      },
      observer: {
        committed: (_records, made) => {
          records += made.origins.length;
          for (const origin of made.origins) byOrigin[origin] = (byOrigin[origin] ?? 0) + 1;
        },
      },
      onCrash: (error) => {
        failure ??= error;
      },
    });
    await loop.start();
    try {
      while (!(await finished())) {
        if (failure) throw failure;
        await sleep(300);
      }
    } finally {
      await loop.stop();
    }
    logger.info({ topic, groupId, records }, 'dead letters redriven');
    return { records, byOrigin, resumed, durationMs: Date.now() - started };
  } finally {
    await admin.disconnect();
  }
}
