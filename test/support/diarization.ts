/** Who spoke when: a speaker label over [startMs, endMs). */
export interface SpeakerSpan {
  speaker: string;
  startMs: number;
  endMs: number;
}

const FRAME_MS = 10;

/**
 * Diarization error rate as NIST's md-eval scores it: (missed speech + false alarm + speaker
 * confusion) ÷ reference speech, in 10 ms frames, with a `collarMs` (usually 250) either side of
 * every reference boundary left unscored, and the hypothesis' labels mapped one-to-one onto the
 * reference's to match the most speech (every mapping tried: a handful of speakers). Overlapping
 * speech is not scored (the conversations here have none).
 */
export function diarizationErrorRate(
  reference: readonly SpeakerSpan[],
  hypothesis: readonly SpeakerSpan[],
  collarMs = 250,
): { der: number; missed: number; falseAlarm: number; confusion: number; scoredMs: number } {
  const endMs = Math.max(...reference.map((s) => s.endMs), ...hypothesis.map((s) => s.endMs), 0);
  const frames = Math.ceil(endMs / FRAME_MS);
  const labelsOf = (spans: readonly SpeakerSpan[]) => {
    const names = [...new Set(spans.map((s) => s.speaker))];
    const at = new Int8Array(frames).fill(-1);
    for (const span of spans) {
      for (let f = Math.floor(span.startMs / FRAME_MS); f < Math.ceil(span.endMs / FRAME_MS); f++)
        at[f] = names.indexOf(span.speaker);
    }
    return { names, at };
  };
  const ref = labelsOf(reference);
  const hyp = labelsOf(hypothesis);
  const scored = new Uint8Array(frames).fill(1);
  for (const span of reference) {
    for (const boundary of [span.startMs, span.endMs]) {
      const from = Math.max(0, Math.floor((boundary - collarMs) / FRAME_MS));
      const to = Math.min(frames, Math.ceil((boundary + collarMs) / FRAME_MS));
      for (let f = from; f < to; f++) scored[f] = 0;
    }
  }
  // Frames each (hypothesis, reference) pair share, where both speak and the frame is scored.
  const together = hyp.names.map(() => new Array<number>(ref.names.length).fill(0));
  let missed = 0;
  let falseAlarm = 0;
  let speech = 0;
  let both = 0;
  for (let f = 0; f < frames; f++) {
    if (!scored[f]) continue;
    const r = ref.at[f]!;
    const h = hyp.at[f]!;
    if (r >= 0) speech++;
    if (r >= 0 && h < 0) missed++;
    if (r < 0 && h >= 0) falseAlarm++;
    if (r >= 0 && h >= 0) {
      both++;
      together[h]![r]!++;
    }
  }
  const confusion = both - bestMatch(together);
  const total = missed + falseAlarm + confusion;
  return {
    der: speech > 0 ? total / speech : 0,
    missed: missed * FRAME_MS,
    falseAlarm: falseAlarm * FRAME_MS,
    confusion: confusion * FRAME_MS,
    scoredMs: speech * FRAME_MS,
  };
}

/** The most frames a one-to-one mapping of hypothesis onto reference labels agrees on. */
function bestMatch(together: number[][], from = 0, used = new Set<number>()): number {
  if (from === together.length) return 0;
  let best = bestMatch(together, from + 1, used); // this hypothesis label maps to nobody
  for (let r = 0; r < (together[from]?.length ?? 0); r++) {
    if (used.has(r)) continue;
    used.add(r);
    best = Math.max(best, together[from]![r]! + bestMatch(together, from + 1, used));
    used.delete(r);
  }
  return best;
}
