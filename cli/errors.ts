import { RegistryRefusal } from '../processors/classify/model-registry.js';
import { AudioInputError } from '../producers/audio/ffmpeg-decoder.js';
import { CsvInputError } from '../producers/csv/csv-input.js';
import { ConfigError } from '../runtime/config/index.js';
import { IncompatibleSchemaError } from '../runtime/serde/schema-registry.js';
import { JavaNotFoundError } from '../runtime/stack/java.js';
import { StackInUseError } from '../runtime/stack/local-stack.js';

/** Exit codes: 1 failure, 2 usage, 78 configuration (sysexits EX_CONFIG). */
export const EXIT = { failure: 1, usage: 2, config: 78 } as const;

/** A command asked for something that cannot be done as asked; one line, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Errors the user can act on get one line; anything else is a bug and keeps its stack. */
export function reportCliError(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`emotion-stream: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`emotion-stream: configuration error: ${error.message}\n`);
    return EXIT.config;
  }
  if (
    error instanceof JavaNotFoundError ||
    error instanceof StackInUseError ||
    error instanceof IncompatibleSchemaError ||
    error instanceof CsvInputError ||
    error instanceof AudioInputError ||
    error instanceof RegistryRefusal
  ) {
    process.stderr.write(`emotion-stream: ${error.message}\n`);
    return EXIT.failure;
  }
  process.stderr.write(
    `emotion-stream: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT.failure;
}
