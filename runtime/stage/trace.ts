import type { TraceStamp } from '../../schemas/index.js';

/** A value carrying the trace of stage timestamps that every pipeline event has. */
export interface Traced {
  trace: TraceStamp[];
}

export function isTraced(value: unknown): value is Traced {
  return typeof value === 'object' && value !== null && Array.isArray((value as { trace?: unknown }).trace);
}

/** A copy of the value with one more stamp; the input is left as it was. */
export function withStamp<T extends Traced>(value: T, stage: string, atMs: number = Date.now()): T {
  return { ...value, trace: [...value.trace, { stage, atMs }] };
}

/** When the data entered the system: the first stamp of its trace. */
export function traceOrigin(value: unknown): number | undefined {
  return isTraced(value) ? value.trace[0]?.atMs : undefined;
}
