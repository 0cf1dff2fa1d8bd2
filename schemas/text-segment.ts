import type { TextSegment } from './events.generated.js';

/**
 * A segment as it enters the pipeline: what its producer knows (a CSV row, an API text, a
 * transcript), nothing a later stage fills in yet.
 */
export function newTextSegment(
  fields: Pick<TextSegment, 'id' | 'streamId' | 'seq' | 'origin' | 'text'> & Partial<TextSegment>,
): TextSegment {
  return {
    language: null,
    startMs: null,
    endMs: null,
    jobId: null,
    speaker: null,
    asr: null,
    correction: null,
    translation: null,
    trace: [],
    ...fields,
  };
}
