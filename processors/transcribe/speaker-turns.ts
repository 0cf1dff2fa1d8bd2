import type { SpeakerEncoder, Transcript } from './engine.js';
import { assignSpeaker, type SpeakerSettings, type StreamSpeakers, turnsOf } from './stream-speakers.js';

/** One speaker's part of a chunk's transcript. */
export interface SpeakerTurn {
  speaker: string;
  transcript: Transcript;
}

/**
 * A chunk's transcript as one part per speaker turn, and the stream's speakers after it: each
 * Whisper segment's audio gets a voice embedding and joins a speaker (stream-speakers.ts), and
 * consecutive segments of one speaker stay one part. The transcribe stage and the CLI both tell
 * speakers apart with this.
 */
export async function speakerTurns(
  encoder: SpeakerEncoder,
  speakers: StreamSpeakers,
  chunk: { pcm: Buffer; durationMs: number },
  transcript: Transcript,
  settings: SpeakerSettings,
): Promise<{ speakers: StreamSpeakers; turns: SpeakerTurn[] }> {
  const { segments } = transcript;
  if (segments.length === 0) return { speakers, turns: [] };
  const voices = voicePieces(segments, chunk.durationMs);
  const embeddings = await encoder.embed(chunk.pcm, voices.pieces);
  const assigned = assignPieces(
    speakers,
    voices.pieces.map(([start, end], i) => ({ voiceMs: end - start, embedding: embeddings[i]! })),
    settings,
  );
  const state = assigned.speakers;
  const labels = voices.labelsOf(assigned.labels);
  return {
    speakers: state,
    turns: turnsOf(segments, labels).map((turn) => ({
      speaker: turn.speaker,
      transcript: {
        ...transcript,
        text: turn.segments.map((s) => s.text).join(' '),
        segments: turn.segments,
      },
    })),
  };
}

/**
 * A chunk's pieces assigned to speakers, the longest first: a long piece's voice is the surer, and
 * a short one (which may not open a speaker) then finds the speaker its chunk's long piece opened.
 * (Seen on a two-voice upload: a 1.5 s sentence that began the second voice's turn joined the
 * first voice while the turn's 4 s sentence opened the second.)
 */
export function assignPieces(
  speakers: StreamSpeakers,
  pieces: ReadonlyArray<{ voiceMs: number; embedding: readonly number[] }>,
  settings: SpeakerSettings,
): { speakers: StreamSpeakers; labels: string[] } {
  const labels = new Array<string>(pieces.length);
  let state = speakers;
  const longestFirst = pieces.map((_, i) => i).sort((a, b) => pieces[b]!.voiceMs - pieces[a]!.voiceMs);
  for (const i of longestFirst) {
    const assigned = assignSpeaker(state, pieces[i]!.embedding, pieces[i]!.voiceMs, settings);
    state = assigned.state;
    labels[i] = assigned.label;
  }
  return { speakers: state, labels };
}

/**
 * Under this, a segment's voice is not embedded on its own: GE2E's window is 1.6 s, and half of it
 * padding gives an embedding far from the voice (seen on a two-voice upload: a 0.5 s "Huh?" that
 * began the recording opened a speaker of its own, and the first real voice became S2).
 */
export const MIN_OWN_VOICE_MS = 1000;

/**
 * The pieces of a chunk whose voices are embedded, and how their speakers become the segments'.
 * A segment too short to embed on its own ("Huh?", a lone "yes") takes its neighbour's speaker in
 * the chunk (the one before, else the one after); a chunk of nothing but such segments is embedded
 * whole, as one voice.
 */
export function voicePieces(
  segments: ReadonlyArray<{ startMs: number; endMs: number }>,
  durationMs: number,
): {
  pieces: Array<readonly [number, number]>;
  labelsOf: (pieceLabels: readonly string[]) => string[];
} {
  const spans = voiceSpans(segments, durationMs);
  const own = spans.map(([start, end]) => end - start >= MIN_OWN_VOICE_MS);
  if (!own.some(Boolean))
    return { pieces: [[0, durationMs]], labelsOf: (labels) => spans.map(() => labels[0]!) };
  return {
    pieces: spans.filter((_, i) => own[i]),
    labelsOf: (labels) => inheritLabels(own, labels),
  };
}

/** The label of each segment: its own where it has one, else the previous such one's, else the next's. */
function inheritLabels(own: readonly boolean[], labels: readonly string[]): string[] {
  const ownLabel: Array<string | undefined> = [];
  let next = 0;
  for (const has of own) ownLabel.push(has ? labels[next++] : undefined);
  const firstOwn = ownLabel.find((label) => label !== undefined)!;
  let previous: string | undefined;
  return ownLabel.map((label) => {
    previous = label ?? previous;
    return previous ?? firstOwn;
  });
}

/**
 * The audio each segment's voice is taken from, in ms of the chunk: its own span, the first and
 * last reaching the chunk's ends (Whisper's first timestamp is often late and its last early, and
 * the producer cut the chunk in pauses, so the ends hold the same voice).
 */
export function voiceSpans(
  segments: ReadonlyArray<{ startMs: number; endMs: number }>,
  durationMs: number,
): Array<readonly [number, number]> {
  return segments.map(
    (segment, i) =>
      [i === 0 ? 0 : segment.startMs, i === segments.length - 1 ? durationMs : segment.endMs] as const,
  );
}
