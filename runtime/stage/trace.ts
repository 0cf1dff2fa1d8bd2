import type { TraceStamp } from '../../schemas/index.js';

/** A value carrying the trace of stage timestamps that every pipeline event has. */
export interface Traced {
  trace: TraceStamp[];
}

export function isTraced(value: unknown): value is Traced {
  return typeof value === 'object' && value !== null && Array.isArray((value as { trace?: unknown }).trace);
}

/** When the data entered the system: the first stamp of its trace. */
export function traceOrigin(value: unknown): number | undefined {
  return isTraced(value) ? value.trace[0]?.atMs : undefined;
}

/**
 * The value encoded with one more stamp, `stage`'s, at the end of its trace: every stage stamps
 * what it emits, so latency per hop can be read from the data. The stamp is pushed for the
 * encoding and taken off again, because the value is the handler's (its input, or shared by
 * several outputs); a copy of the value and its trace for each output was 2.4% of a passthrough
 * hop's CPU (`bench runtime --only a --cpu-prof`), plus the collections of the copies.
 */
export function encodeStamped<T>(encoder: { encode(value: T): Buffer }, value: T, stage: string): Buffer {
  if (!isTraced(value)) return encoder.encode(value);
  value.trace.push({ stage, atMs: Date.now() });
  try {
    return encoder.encode(value);
  } finally {
    value.trace.pop();
  }
}
