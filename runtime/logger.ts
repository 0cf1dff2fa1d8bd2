import type { Logger } from 'pino';
import { destination, pino } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

/**
 * The one logger of a process; everything else receives it (or a child) as a parameter.
 * JSON lines on stderr keep stdout free for the output of CLI commands; written synchronously so
 * the last lines before a crash are not lost.
 */
export function createLogger(options: { level: LogLevel; name?: string }): Logger {
  return pino(
    { level: options.level, name: options.name ?? 'emotion-stream' },
    destination({ dest: 2, sync: true }),
  );
}

/** A logger that drops everything, for code paths where nothing should be printed. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
