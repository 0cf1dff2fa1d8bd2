/** A consumed record, decoded with the stage's reader schema. */
export interface InputRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** Broker timestamp (epoch ms). */
  timestamp: number;
  headers: Record<string, string>;
}

export interface OutputRecord<T> {
  /** Must be one of the stage's declared output topics. */
  topic: string;
  key: string | null;
  value: T;
  headers?: Record<string, string>;
}

/** What became of one input: the records it produced (possibly none), or why it was rejected. */
export type Outcome<Out> = { outputs: OutputRecord<Out>[] } | { rejected: Error };

/**
 * The stage-specific work. `process` returns one outcome per input, in order. It throws a
 * RetryableError when something it needs is down (the batch is retried later, nothing skipped);
 * any other throw makes the stage retry the records one by one and dead-letter the one that fails.
 */
export interface StageHandler<In, Out> {
  process(records: InputRecord<In>[]): Promise<Outcome<Out>[]>;
}

export function outputs<Out>(...records: OutputRecord<Out>[]): Outcome<Out> {
  return { outputs: records };
}

export function rejected<Out>(error: Error): Outcome<Out> {
  return { rejected: error };
}

/** A handler opened from a service's configuration, and the close that releases its engine. */
export interface OpenedHandler<In, Out> {
  handler: StageHandler<In, Out>;
  close(): Promise<void>;
}
