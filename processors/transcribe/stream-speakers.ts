/** How a stream's speech is told apart by voice (TRANSCRIBE_SPEAKER*). */
export interface SpeakerSettings {
  /** A stream gets at most this many speakers; past it, a new voice goes to the nearest one. */
  maxSpeakers: number;
  /**
   * A piece of speech joins the speaker whose voice is most alike when the cosine similarity of its
   * embedding and that speaker's centroid reaches this; below it, it opens a new speaker.
   */
  similarity: number;
}

/**
 * Speech shorter than this never opens a speaker (it joins the nearest one): GE2E's window is
 * 1.6 s, and shorter pieces embed far from their voice. bench/speakers.ts: at 1 s, one of four
 * one-voice conversations and two of six two-voice ones grew a speaker too many at similarity
 * 0.78; at 2 s none did; at 3 s a second voice whose turns are short was missed.
 */
export const MIN_NEW_SPEAKER_MS = 2000;

/**
 * A centroid stops moving much once it has this much speech behind it: a later piece still pulls
 * it, by at least its share of this many ms, so a voice that drifts over an hour is followed.
 */
const CENTROID_MEMORY_MS = 60_000;

export interface KnownSpeaker {
  /** `S1`, `S2`, … in the order they were first heard; stable for the stream's life. */
  label: string;
  /** The normalised mean of the speaker's embeddings so far, rounded to 4 decimals (the state's size). */
  centroid: number[];
  /** Speech heard from this speaker, ms. */
  speechMs: number;
}

/** A stream's speakers: the stage's keyed state, restored with the partition after a restart. */
export interface StreamSpeakers {
  speakers: KnownSpeaker[];
}

export const NO_SPEAKERS: StreamSpeakers = { speakers: [] };

/**
 * Online clustering, one piece of speech at a time, in stream order: the piece joins the most
 * alike known speaker at or above `similarity`, else opens a new one (while under `maxSpeakers`
 * and when it is long enough to trust), else joins the most alike anyway. The joined speaker's
 * centroid moves towards the piece by its share of the speech (a running mean, bounded by
 * CENTROID_MEMORY_MS). Agglomerative clustering over a whole recording does better offline, but a
 * live stream's labels must be given when its words are, and never change afterwards.
 */
export function assignSpeaker(
  state: StreamSpeakers,
  embedding: readonly number[],
  speechMs: number,
  settings: SpeakerSettings,
): { state: StreamSpeakers; label: string; similarity: number } {
  const scored = state.speakers.map((speaker) => ({
    speaker,
    similarity: cosine(speaker.centroid, embedding),
  }));
  const best = scored.reduce<(typeof scored)[number] | undefined>(
    (top, next) => (top === undefined || next.similarity > top.similarity ? next : top),
    undefined,
  );
  const opens =
    best === undefined ||
    (best.similarity < settings.similarity &&
      state.speakers.length < settings.maxSpeakers &&
      speechMs >= MIN_NEW_SPEAKER_MS);
  if (opens) {
    const label = `S${state.speakers.length + 1}`;
    const speaker = { label, centroid: rounded(normalised(embedding)), speechMs };
    return { state: { speakers: [...state.speakers, speaker] }, label, similarity: 1 };
  }
  const joined = best!.speaker;
  const weight = speechMs / (Math.min(joined.speechMs, CENTROID_MEMORY_MS) + speechMs);
  const centroid = rounded(
    normalised(joined.centroid.map((value, i) => value * (1 - weight) + (embedding[i] ?? 0) * weight)),
  );
  return {
    state: {
      speakers: state.speakers.map((speaker) =>
        speaker === joined ? { ...speaker, centroid, speechMs: speaker.speechMs + speechMs } : speaker,
      ),
    },
    label: joined.label,
    similarity: best!.similarity,
  };
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA > 0 && normB > 0 ? dot / Math.sqrt(normA * normB) : 0;
}

function normalised(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm > 0 ? vector.map((x) => x / norm) : [...vector];
}

function rounded(vector: readonly number[]): number[] {
  return vector.map((x) => Math.round(x * 1e4) / 1e4);
}

/**
 * A chunk's transcript segments grouped into turns: consecutive segments of one speaker make one
 * turn, so a chunk holding a change of speaker is split at Whisper's segment boundary rather than
 * giving one speaker the other's words.
 */
export function turnsOf<S extends { startMs: number; endMs: number }>(
  segments: readonly S[],
  labels: readonly string[],
): Array<{ speaker: string; segments: S[] }> {
  const turns: Array<{ speaker: string; segments: S[] }> = [];
  segments.forEach((segment, i) => {
    const speaker = labels[i]!;
    const last = turns.at(-1);
    if (last && last.speaker === speaker) last.segments.push(segment);
    else turns.push({ speaker, segments: [segment] });
  });
  return turns;
}
