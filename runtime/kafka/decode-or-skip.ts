import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, isRetryable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AvroDecoder } from '../serde/avro-serde.js';
import { Backoff } from '../stage/backoff.js';

/**
 * Decoding for a reader that only looks (it dead-letters nothing; the stages do): waits out a
 * registry that is down, with backoff, and gives undefined, logged, for a record that will never
 * decode, or once the reader is stopping.
 */
export async function decodeOrSkip<T>(
  decoder: AvroDecoder<T>,
  buffer: Buffer | null,
  options: { topic: string; logger: Logger; stopping: () => boolean; onSkip?: () => void },
): Promise<T | undefined> {
  const backoff = new Backoff(500, 10_000);
  for (;;) {
    try {
      return await decoder.decode(buffer);
    } catch (error) {
      const { topic, logger } = options;
      if (!isRetryable(error) || options.stopping()) {
        options.onSkip?.();
        logger.warn({ topic, err: errorMessage(error) }, 'skipped a record that does not decode');
        return undefined;
      }
      const waitMs = backoff.next();
      logger.warn({ topic, err: errorMessage(error), waitMs }, 'cannot decode yet; retrying');
      await sleep(waitMs);
    }
  }
}
