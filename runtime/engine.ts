/**
 * The one shape of an engine (issue 20): a batch of inputs, the context they share, one output per
 * input, in order. Every engine of every stage keeps the same contract:
 * - it never drops, adds or reorders: as many outputs as inputs;
 * - it throws RetryableError (runtime/errors.ts) while a service it needs is down: the stage pauses
 *   the batch and retries it;
 * - any other error fails the batch: the stage splits it to find the input at fault and sends that
 *   one to the dead-letter topic (UnprocessableRecordError says so explicitly);
 * - `close()` releases what it holds (processes, sessions, sockets).
 * Each stage's factory builds its engines from the stage's configuration and covers every choice
 * (a `switch` TypeScript checks is exhaustive), with "none" an engine like the others.
 */
export interface Engine<Input, Output, Context> {
  readonly name: string;
  run(inputs: readonly Input[], context: Context): Promise<Output[]>;
  close(): Promise<void>;
}

/** The context of an engine whose inputs carry everything they need. */
export type NoContext = Readonly<Record<never, never>>;
