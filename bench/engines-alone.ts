/**
 * The text pipeline's work without Kafka (issue 22): the correct, translate and classify handlers
 * the stages run, chained as the fused stage chains them, called in this process on the rows the
 * runtime benchmark sends. No broker, no Avro, no transactions: what is left is the engines' and
 * handlers' own CPU per row, to set beside the CPU a whole Kafka Streams run spends per row.
 */
import type { Config } from '../cli/config.js';
import { openClassifyHandler } from '../processors/classify/service.js';
import { openCorrectHandler } from '../processors/correct/service.js';
import { openTranslateHandler } from '../processors/translate/service.js';
import { newTextSegment } from '../producers/segment-producer.js';
import type { Logger } from '../runtime/logger.js';
import { createMetricsRegistry } from '../runtime/metrics/registry.js';
import { chainHandlers } from '../runtime/stage/chained-handlers.js';
import type { InputRecord, OpenedHandler, Outcome } from '../runtime/stage/types.js';
import { type TextSegment, topicNames } from '../schemas/index.js';

export interface EnginesAlone {
  /** µs of CPU per row in this process (every thread, onnxruntime's included). */
  cpuMicrosPerRow: number;
  /**
   * The last batch's values on each topic of the chain, its input topic first: what a stage of the
   * real pipeline reads and writes there (before the stages' trace stamps), for their sizes.
   */
  valuesByTopic: Map<string, unknown[]>;
}

/** Batches as large as a stage's transactions get on the fast tier (runtime/stage/chunk-sizer.ts). */
const BATCH = 2_000;

export async function measureEnginesAlone(options: {
  config: Config;
  logger: Logger;
  texts: readonly string[];
  rows: number;
}): Promise<EnginesAlone> {
  const { config, logger, texts, rows } = options;
  const context = { config, logger, metrics: createMetricsRegistry({ service: 'bench-engines' }) };
  const topics = topicNames(config.topics.prefix);
  const opened: OpenedHandler<unknown, unknown>[] = [];
  /** The topic each handler writes and the next one reads (the last one feeds none). */
  const feeds = [topics.segmentsCorrected, topics.segmentsTranslated, undefined];
  try {
    opened.push(
      (await openCorrectHandler(context, topics.segmentsCorrected)) as OpenedHandler<unknown, unknown>,
    );
    opened.push(
      (await openTranslateHandler(context, topics.segmentsTranslated)) as OpenedHandler<unknown, unknown>,
    );
    opened.push((await openClassifyHandler(context, topics.emotions)) as OpenedHandler<unknown, unknown>);
    const chain = chainHandlers(
      opened.map((one, i) => ({ handler: one.handler, ...(feeds[i] ? { feeds: feeds[i] } : {}) })),
    );
    const recordsFrom = (from: number, to: number): InputRecord<TextSegment>[] =>
      Array.from({ length: to - from }, (_, i) => {
        const k = from + i;
        const id = `engines-${k}`;
        return {
          topic: topics.segmentsRaw,
          partition: k % config.topics.partitions,
          offset: String(k),
          key: id,
          value: newTextSegment({
            id,
            streamId: 'bench-engines',
            seq: k,
            origin: 'API',
            text: texts[k % texts.length]!,
          }),
          timestamp: Date.now(),
          headers: {},
        };
      });
    // One pass over the distinct texts first, uncounted: JIT warm-up and the spelling cache
    // a long-running stage has (its rows repeat the same way).
    for (let i = 0; i < Math.min(rows, texts.length); i += BATCH)
      await chain.process(recordsFrom(i, Math.min(rows, texts.length, i + BATCH)));
    // The records exist before the clock starts: a stage receives them decoded.
    const batches: InputRecord<TextSegment>[][] = [];
    for (let i = 0; i < rows; i += BATCH) batches.push(recordsFrom(i, Math.min(rows, i + BATCH)));
    const before = process.cpuUsage();
    let outcomes: Outcome<unknown>[] = [];
    for (const batch of batches) outcomes = await chain.process(batch);
    const used = process.cpuUsage(before);
    const valuesByTopic = new Map<string, unknown[]>([
      [topics.segmentsRaw, batches.at(-1)?.map((record) => record.value) ?? []],
    ]);
    for (const outcome of outcomes) {
      if (!('outputs' in outcome)) continue;
      for (const output of outcome.outputs) {
        const values = valuesByTopic.get(output.topic);
        if (values) values.push(output.value);
        else valuesByTopic.set(output.topic, [output.value]);
      }
    }
    return { cpuMicrosPerRow: (used.user + used.system) / rows, valuesByTopic };
  } finally {
    await Promise.all(opened.map((one) => one.close()));
  }
}
