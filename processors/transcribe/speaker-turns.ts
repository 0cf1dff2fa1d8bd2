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
  const spans = voiceSpans(segments, chunk.durationMs);
  const embeddings = await encoder.embed(chunk.pcm, spans);
  let state = speakers;
  const labels = spans.map(([start, end], i) => {
    const assigned = assignSpeaker(state, embeddings[i]!, end - start, settings);
    state = assigned.state;
    return assigned.label;
  });
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
