import type { InputRecord, Outcome, OutputRecord, StageHandler } from './types.js';

/** One step of a chain: its handler, and the topic whose records the next step takes as input. */
export interface ChainStep {
  handler: StageHandler<unknown, unknown>;
  /** The output topic the next step reads (its other outputs are only written). */
  feeds?: string;
}

/**
 * Several stages' handlers as one (issue 22, the fused deployment mode): each input runs through
 * every step in the process, every step's outputs are written (so the intermediate topics, replay
 * and audit keep working), and the whole chain commits in the input's one transaction. A record a
 * later step rejects rejects the input it came from: the input is dead-lettered once, with the
 * later step's reason, instead of an intermediate record being dead-lettered on its own topic. A
 * throw (RetryableError or any other) propagates, so the stage's retry and bisection are unchanged.
 */
export function chainHandlers(steps: readonly ChainStep[]): StageHandler<unknown, unknown> {
  if (steps.length === 0) throw new Error('a chain needs at least one step');
  return {
    async process(records: InputRecord<unknown>[]): Promise<Outcome<unknown>[]> {
      /** Per original input: everything written so far, or why it was rejected. */
      const written: OutputRecord<unknown>[][] = records.map(() => []);
      const rejected: Array<Error | undefined> = records.map(() => undefined);
      /** The records the current step takes, each with the original input it descends from. */
      let current = records.map((record, origin) => ({ record, origin }));
      for (const [index, step] of steps.entries()) {
        if (current.length === 0) break;
        const outcomes = await step.handler.process(current.map((entry) => entry.record));
        if (outcomes.length !== current.length) {
          throw new Error(
            `chain step ${index + 1} returned ${outcomes.length} outcomes for ${current.length} records`,
          );
        }
        const next: typeof current = [];
        for (const [k, outcome] of outcomes.entries()) {
          const { record, origin } = current[k]!;
          if (rejected[origin]) continue;
          if ('rejected' in outcome) {
            rejected[origin] = outcome.rejected;
            continue;
          }
          written[origin]!.push(...outcome.outputs);
          if (step.feeds === undefined) continue;
          for (const output of outcome.outputs) {
            if (output.topic !== step.feeds) continue;
            next.push({
              origin,
              record: {
                // Where it came from: the input's position, so logs and dead letters point at it.
                topic: output.topic,
                partition: record.partition,
                offset: record.offset,
                key: output.key,
                value: output.value,
                timestamp: record.timestamp,
                headers: { ...record.headers, ...(output.headers ?? {}) },
              },
            });
          }
        }
        current = next;
      }
      return records.map((_, origin) =>
        rejected[origin] ? { rejected: rejected[origin]! } : { outputs: written[origin]! },
      );
    },
  };
}
