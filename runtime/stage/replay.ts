import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka } from '../kafka/client.js';
import {
  committedOffsets,
  lastRecordOffsets,
  type PartitionSpan,
  rangeProgress,
  spansOf,
} from '../kafka/topic-range-reader.js';
import type { ServiceContext } from '../service.js';
import { startStage } from './run-stage.js';
import type { InputRecord, OpenedHandler, Outcome, OutputRecord, StageHandler } from './types.js';

export interface ReplayOptions<In, Out> {
  /** Stage name in logs, metrics and trace stamps (e.g. `replay-classify`). */
  name: string;
  /** The replay's own group: re-running with the same group resumes (or finds it done). */
  groupId: string;
  input: { topic: string; schema: object };
  output: { topic: string; schema: object };
  handler: OpenedHandler<In, Out>;
  /** Records stamped at or after this; the start of the topic when absent. */
  fromMs?: number;
  /**
   * Records stamped before this: each partition is read up to its first record stamped at or
   * after it (a record stamped earlier but written after that one is left out); everything up to
   * the end offsets at the start when absent.
   */
  toMs?: number;
  /** Per partition: the first offset to replay (instead of a time). */
  fromOffsets?: Map<number, bigint>;
  /** Per partition: the offset to stop before (instead of a time); never beyond the end at start. */
  toOffsets?: Map<number, bigint>;
  onProgress?: (done: bigint, total: bigint) => void;
  /** The outputs of each record, once per record (a batch retried after a failed commit is not seen again). */
  onOutputs?: (outputs: OutputRecord<Out>[]) => void;
}

export interface ReplaySummary {
  /** Records of the range processed by this run (0 when a previous run with the group finished). */
  records: number;
  outputs: number;
  /** Records in the spans but outside the time range. */
  skipped: number;
  resumed: boolean;
  durationMs: number;
}

/**
 * Reprocesses a time range of a topic through a stage's processing into an output topic, exactly
 * once: an ExactlyOnceStage in a consumer group of its own, whose offsets start at the range
 * (found by timestamp) and which stops when it has committed past the last record that was in
 * the topic when the replay began. Killed and re-run with the same group, it resumes.
 */
export async function replayRange<In, Out>(
  context: ServiceContext,
  options: ReplayOptions<In, Out>,
): Promise<ReplaySummary> {
  const started = Date.now();
  const { config, logger } = context;
  const kafka = createKafka(config.kafka, logger, options.name);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = options.input.topic;
    const spans = (await spansOf(admin, topic, options.fromMs, options.toMs)).map((span) => {
      const from = options.fromOffsets?.get(span.partition) ?? span.from;
      const to = options.toOffsets?.get(span.partition);
      return { ...span, from, to: to !== undefined && to < span.to ? to : span.to };
    });
    const lastRecords = await lastRecordOffsets(kafka, topic, spans);
    const committed = await committedOffsets(admin, options.groupId, topic);
    const resumed = committed.size > 0;
    if (!resumed) {
      // A new replay: its group starts at the range, not at the start of the topic.
      await admin.setOffsets({
        groupId: options.groupId,
        topic,
        partitions: spans.map((s) => ({ partition: s.partition, offset: s.from.toString() })),
      });
    }
    const startOf = (span: PartitionSpan) =>
      resumed ? (committed.get(span.partition) ?? span.from) : span.from;
    const progress = async () => {
      const { done, total, finished } = await rangeProgress(
        admin,
        options.groupId,
        topic,
        spans,
        lastRecords,
      );
      options.onProgress?.(done, total);
      return finished;
    };
    const counts = { records: 0, outputs: 0, skipped: 0 };
    if (await progress()) {
      return { ...counts, resumed, durationMs: Date.now() - started };
    }
    logger.info(
      {
        topic,
        groupId: options.groupId,
        resumed,
        spans: spans.map((s) => ({ ...s, from: String(startOf(s)), to: String(s.to) })),
      },
      'replay starting',
    );

    const inner = options.handler.handler;
    // A batch whose transaction fails is handed to the handler again: count each offset once.
    const counted = new Map<number, bigint>();
    const firstTime = (record: InputRecord<In>) => {
      const offset = BigInt(record.offset);
      if (offset <= (counted.get(record.partition) ?? -1n)) return false;
      counted.set(record.partition, offset);
      return true;
    };
    const handler: StageHandler<In, Out> = {
      async process(records: InputRecord<In>[]): Promise<Outcome<Out>[]> {
        const inRange = records.map((record) => {
          const last = lastRecords.get(record.partition);
          return (
            last !== undefined &&
            BigInt(record.offset) <= last &&
            (options.fromMs === undefined || record.timestamp >= options.fromMs) &&
            (options.toMs === undefined || record.timestamp < options.toMs)
          );
        });
        const outcomes = await inner.process(records.filter((_, i) => inRange[i]));
        let next = 0;
        return inRange.map((wanted, i) => {
          const first = firstTime(records[i]!);
          if (!wanted) {
            if (first) counts.skipped += 1;
            return { outputs: [] };
          }
          const outcome = outcomes[next++]!;
          if (first) {
            counts.records += 1;
            if ('outputs' in outcome) {
              counts.outputs += outcome.outputs.length;
              options.onOutputs?.(outcome.outputs);
            }
          }
          return outcome;
        });
      },
    };
    const running = await startStage(context, {
      name: options.name,
      groupId: options.groupId,
      input: options.input,
      outputs: [options.output],
      handler,
      // Each partition stops at the end of its span instead of reading on to the topic's end.
      endOffsets: new Map(spans.map((span) => [span.partition, span.to])),
      // New work on old data: a trace of its own per record, linked to the one that first made it.
      linkTraces: true,
    });
    try {
      // A stage that fails rejects the race and ends the replay with its error.
      while (!(await progress())) await Promise.race([running.failed, sleep(500)]);
    } finally {
      await running.stop();
    }
    return { ...counts, resumed, durationMs: Date.now() - started };
  } finally {
    await options.handler.close();
    await admin.disconnect();
  }
}
