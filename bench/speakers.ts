/**
 * Speaker turns (processors/transcribe/stream-speakers.ts): conversations of espeak-ng voices with
 * known turns (test/support/conversations.ts) cut by the producers' silero chunker, each chunk
 * transcribed by tiny.en and its Whisper segments embedded by the worker's GE2E voice encoder,
 * exactly as the transcribe stage does, then clustered online in stream order. Reports the
 * diarization error rate (NIST style, 0.25 s collar; missed speech, false alarm and confusion
 * apart), how often the number of speakers is right, a sweep of the similarity threshold over the
 * same embeddings, and what the embeddings cost in worker time per second of audio. Sets: 2, 3 and
 * 4 distinct voices, one voice alone, a human reader (LibriVox) with a voice and alone, and two
 * male espeak variants the encoder hears as alike.
 */
import { loadConfig } from '../cli/config.js';
import { transcribeOne } from '../processors/transcribe/engine.js';
import { createTranscriptionEngine } from '../processors/transcribe/pipeline.js';
import { assignPieces, voicePieces } from '../processors/transcribe/speaker-turns.js';
import { NO_SPEAKERS, type SpeakerSettings } from '../processors/transcribe/stream-speakers.js';
import { openChunker, vadModelOf } from '../producers/audio/speech-chunker.js';
import { createLogger } from '../runtime/logger.js';
import {
  ALIKE_VOICES,
  type Conversation,
  conversation,
  conversationSentences,
  DISTINCT_VOICES,
  LIBRIVOX_READER,
  type Voice,
} from '../test/support/conversations.js';
import { diarizationErrorRate, type SpeakerSpan } from '../test/support/diarization.js';
import { format, printTable } from './table.js';

const TURNS = 12;
const THRESHOLDS = [0.65, 0.7, 0.75, 0.78, 0.8, 0.85, 0.9];

interface SetSpec {
  name: string;
  voices: (seed: number) => Voice[];
  conversations: number;
  turns?: number;
}

const SETS: SetSpec[] = [
  { name: '2 distinct voices', voices: (seed) => pick(DISTINCT_VOICES, 2, seed), conversations: 6 },
  { name: '3 distinct voices', voices: (seed) => pick(DISTINCT_VOICES, 3, seed), conversations: 4 },
  { name: '4 distinct voices', voices: () => DISTINCT_VOICES, conversations: 2 },
  { name: '1 voice', voices: (seed) => pick(DISTINCT_VOICES, 1, seed), conversations: 4 },
  {
    name: 'LibriVox reader + 1 voice',
    voices: (seed) => [LIBRIVOX_READER, ...pick(DISTINCT_VOICES, 1, seed)],
    conversations: 2,
  },
  // Its five recordings once each (a longer conversation would repeat them).
  { name: 'LibriVox reader alone', voices: () => [LIBRIVOX_READER], conversations: 1, turns: 5 },
  { name: '2 alike male voices', voices: () => ALIKE_VOICES, conversations: 2 },
];

/**
 * What the stage saw of one chunk: its Whisper segments in stream time, the pieces whose voices
 * were embedded (speaker-turns.ts's choice) and how their labels become the segments'.
 */
interface HeardChunk {
  segments: Array<{ startMs: number; endMs: number }>;
  pieces: Array<{ voiceMs: number; embedding: number[] }>;
  labelsOf: (pieceLabels: readonly string[]) => string[];
}

interface Heard {
  set: string;
  conversation: Conversation;
  chunks: HeardChunk[];
  audioMs: number;
  transcribeMs: number;
  embedMs: number;
}

export async function main(json: boolean): Promise<void> {
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const config = loadConfig();
  const shipped = config.transcribe.speakers;
  const engine = await createTranscriptionEngine(config.transcribe, logger);
  const encoder = engine.speakerEncoder;
  if (!encoder) throw new Error('no voice encoder: run deploy/local/install-asr.sh (TRANSCRIBE_SPEAKERS on)');
  const sentences = conversationSentences();
  const heard: Heard[] = [];
  try {
    // Warm-up: the worker loads the encoder on its first request.
    const warm = conversation(DISTINCT_VOICES.slice(0, 1), sentences, { turns: 1, seed: 99 });
    await encoder.embed(warm.pcm, [[0, warm.pcm.length / 32]]);
    let seed = 1;
    for (const set of SETS) {
      for (let c = 0; c < set.conversations; c++, seed++) {
        const talk = conversation(set.voices(seed), sentences, { turns: set.turns ?? TURNS, seed });
        heard.push({ set: set.name, ...(await hear(talk)) });
        process.stderr.write(`speakers: ${set.name} #${c + 1} done\n`);
      }
    }
  } finally {
    await engine.close();
  }

  async function hear(talk: Conversation): Promise<Omit<Heard, 'set'>> {
    const chunker = await openChunker(16_000, config.audio.chunkMs, vadModelOf(config));
    const chunks = [];
    for (let at = 0; at < talk.pcm.length; at += 3200)
      chunks.push(...(await chunker.push(talk.pcm.subarray(at, at + 3200))));
    chunks.push(chunker.end());
    const heardChunks: HeardChunk[] = [];
    let transcribeMs = 0;
    let embedMs = 0;
    for (const chunk of chunks) {
      if (chunk.pcm.length === 0) continue;
      let started = performance.now();
      const transcript = await transcribeOne(engine, chunk.pcm, 16_000, 'en');
      transcribeMs += performance.now() - started;
      if (!transcript.text.trim()) continue;
      const voices = voicePieces(transcript.segments, chunk.durationMs);
      started = performance.now();
      const embeddings = await encoder!.embed(chunk.pcm, voices.pieces);
      embedMs += performance.now() - started;
      heardChunks.push({
        segments: transcript.segments.map((segment) => ({
          startMs: chunk.startMs + segment.startMs,
          endMs: chunk.startMs + segment.endMs,
        })),
        pieces: voices.pieces.map(([start, end], i) => ({ voiceMs: end - start, embedding: embeddings[i]! })),
        labelsOf: voices.labelsOf,
      });
    }
    return { conversation: talk, chunks: heardChunks, audioMs: talk.pcm.length / 32, transcribeMs, embedMs };
  }

  const scoreAt = (similarity: number) =>
    SETS.map((set) => {
      const runs = heard.filter((h) => h.set === set.name);
      const scored = runs.map((run) => score(run, { ...shipped, similarity }));
      const sum = (pick: (s: (typeof scored)[number]) => number) => scored.reduce((t, s) => t + pick(s), 0);
      const scoredMs = sum((s) => s.scoredMs);
      return {
        set: set.name,
        conversations: runs.length,
        der: (sum((s) => s.missed) + sum((s) => s.falseAlarm) + sum((s) => s.confusion)) / scoredMs,
        missed: sum((s) => s.missed) / scoredMs,
        falseAlarm: sum((s) => s.falseAlarm) / scoredMs,
        confusion: sum((s) => s.confusion) / scoredMs,
        countRight: scored.filter((s) => s.found === s.speakers).length / runs.length,
        found: scored.map((s) => s.found),
      };
    });
  const results = scoreAt(shipped.similarity);
  const sweep = THRESHOLDS.map((similarity) => ({ similarity, sets: scoreAt(similarity) }));
  const audioMs = heard.reduce((t, h) => t + h.audioMs, 0);
  const cost = {
    audioSeconds: audioMs / 1000,
    embedMsPerAudioSecond: heard.reduce((t, h) => t + h.embedMs, 0) / (audioMs / 1000),
    transcribeMsPerAudioSecond: heard.reduce((t, h) => t + h.transcribeMs, 0) / (audioMs / 1000),
  };

  printTable(
    `Speaker turns at similarity ${shipped.similarity} (${TURNS} turns a conversation, DER with a 0.25 s collar)`,
    [
      ['set', 'conversations', 'DER', 'missed', 'false alarm', 'confusion', 'speakers right', 'found'],
      ...results.map(
        (r) =>
          [
            r.set,
            r.conversations,
            pct(r.der),
            pct(r.missed),
            pct(r.falseAlarm),
            pct(r.confusion),
            pct(r.countRight),
            r.found.join(' '),
          ] as [string, ...Array<string | number>],
      ),
    ],
  );
  printTable('DER by similarity threshold (same embeddings)', [
    ['similarity', ...SETS.map((s) => s.name)],
    ...sweep.map(
      (row) =>
        [format(row.similarity, 2), ...row.sets.map((s) => `${pct(s.der)} (${pct(s.countRight)})`)] as [
          string,
          ...string[],
        ],
    ),
  ]);
  printTable('Cost (worker time a second of audio, one thread)', [
    ['audio', `${format(cost.audioSeconds, 0)} s`],
    ['voice embeddings', `${format(cost.embedMsPerAudioSecond, 1)} ms`],
    ['transcription (tiny.en)', `${format(cost.transcribeMsPerAudioSecond, 1)} ms`],
  ]);
  if (json)
    process.stdout.write(`${JSON.stringify({ similarity: shipped.similarity, results, sweep, cost })}\n`);
}

/** One conversation's speakers assigned online at `settings`, scored against its turns. */
function score(run: Heard, settings: SpeakerSettings) {
  let state = NO_SPEAKERS;
  const hypothesis: SpeakerSpan[] = run.chunks.flatMap((chunk) => {
    const assigned = assignPieces(state, chunk.pieces, settings);
    state = assigned.speakers;
    const labels = chunk.labelsOf(assigned.labels);
    return chunk.segments.map((segment, i) => ({ speaker: labels[i]!, ...segment }));
  });
  return {
    ...diarizationErrorRate(run.conversation.turns, hypothesis),
    speakers: run.conversation.speakers,
    found: state.speakers.length,
  };
}

/** `count` of `voices`, a different choice for each seed. */
function pick(voices: readonly Voice[], count: number, seed: number): Voice[] {
  return Array.from({ length: count }, (_, i) => voices[(seed + i) % voices.length]!);
}

function pct(share: number): string {
  return `${format(share * 100, 1)}%`;
}
