import { untilAvailable } from '../backoff.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AvroDecoder } from '../serde/avro-serde.js';

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
  const { topic, logger } = options;
  try {
    return await untilAvailable(() => decoder.decode(buffer), {
      initialMs: 500,
      maxMs: 10_000,
      stopping: options.stopping,
      onRetry: (error, waitMs) =>
        logger.warn({ topic, err: errorMessage(error), waitMs }, 'cannot decode yet; retrying'),
    });
  } catch (error) {
    options.onSkip?.();
    logger.warn({ topic, err: errorMessage(error) }, 'skipped a record that does not decode');
    return undefined;
  }
}
