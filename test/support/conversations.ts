import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../runtime/package-root.js';
import { LIBRIVOX_DIR, pcm16k } from './audio.js';
import type { SpeakerSpan } from './diarization.js';

/**
 * A voice: an espeak-ng variant and pitch (its command-line arguments), or a human reader's
 * recordings (each turn the next one, round and round; the sentences are not used).
 */
export type Voice = { name: string; args: string[] } | { name: string; recordings: string[] };

/** The LibriVox reader of Debian's pocketsphinx-testdata: five recordings, 2.9–7.1 s. */
export const LIBRIVOX_READER: Voice = {
  name: 'librivox',
  recordings: [870, 880, 890, 920, 930].map((n) =>
    join(LIBRIVOX_DIR, `sense_and_sensibility_01_austen_64kb-0${n}.wav`),
  ),
};

/**
 * Four espeak-ng voices the GE2E encoder tells apart (cosine between them 0.54–0.74 on single
 * sentences, within one voice 0.77–0.90): two male variants and two female ones at different pitches.
 */
export const DISTINCT_VOICES: Voice[] = [
  { name: 'm1', args: ['-v', 'en+m1', '-p', '40'] },
  { name: 'f2', args: ['-v', 'en+f2', '-p', '55'] },
  { name: 'm7', args: ['-v', 'en+m7'] },
  { name: 'f4', args: ['-v', 'en+f4', '-p', '85'] },
];

/**
 * Two male espeak-ng variants the encoder hardly tells apart (cosine between them 0.84 on average,
 * as alike as one voice's own sentences): espeak's variants change pitch and a few formants, not
 * the vocal tract a real second speaker has.
 */
export const ALIKE_VOICES: Voice[] = [
  { name: 'm1', args: ['-v', 'en+m1', '-p', '40'] },
  { name: 'm3-low', args: ['-v', 'en-us+m3', '-p', '15'] },
];

/** `text` in an espeak-ng `voice` (a reader's `turn`th recording), 16 kHz mono 16-bit PCM. */
export function voicePcm(text: string, voice: Voice, turn = 0): Buffer {
  const input =
    'args' in voice
      ? execFileSync('espeak-ng', [...voice.args, '--stdout', text], { maxBuffer: 64 << 20 })
      : readFileSync(voice.recordings[turn % voice.recordings.length]!);
  return pcm16k(input);
}

/** The texts of eval/out-of-domain/en.csv, in order. */
export function outOfDomainEnglish(): string[] {
  const csv = readFileSync(join(packageRoot(), 'eval', 'out-of-domain', 'en.csv'), 'utf8');
  // text,label,domain with the text quoted: the first quoted field of each row.
  return csv
    .split('\n')
    .slice(1)
    .map((line) => /^"((?:[^"]|"")*)"/.exec(line)?.[1]?.replaceAll('""', '"'))
    .filter((text): text is string => Boolean(text));
}

/** Short English sentences (eval/out-of-domain/en.csv, 25–110 characters: 1.5–7 s spoken). */
export function conversationSentences(): string[] {
  return outOfDomainEnglish().filter((text) => text.length >= 25 && text.length <= 110);
}

export interface Conversation {
  pcm: Buffer;
  /** Who speaks when: the speech of each turn, its leading and trailing silence trimmed. */
  turns: SpeakerSpan[];
  speakers: number;
}

/**
 * A conversation of `voices` taking `turns` turns: each voice speaks once in order, then a random
 * other voice each turn; a turn is one or two sentences; between turns a pause of 0.3–0.9 s, or
 * one of 0.12 s in a quarter of the changes (too short for the chunker's cut: a chunk then holds
 * the change). Deterministic for a seed.
 */
export function conversation(
  voices: readonly Voice[],
  sentences: readonly string[],
  options: { turns: number; seed: number },
): Conversation {
  const random = seeded(options.seed);
  const parts: Buffer[] = [];
  const turns: SpeakerSpan[] = [];
  let atMs = 500;
  parts.push(Buffer.alloc(500 * 32));
  let next = Math.floor(random() * sentences.length);
  let previous = -1;
  const spoken = voices.map(() => 0);
  for (let t = 0; t < options.turns; t++) {
    let speaker = t < voices.length ? t : Math.floor(random() * voices.length);
    if (speaker === previous) speaker = (speaker + 1) % voices.length;
    previous = speaker;
    const count = random() < 0.5 ? 1 : 2;
    const text = Array.from({ length: count }, () => sentences[next++ % sentences.length]!).join(' ');
    const pcm = voicePcm(text, voices[speaker]!, spoken[speaker]!++);
    const [from, to] = speechBounds(pcm);
    turns.push({
      speaker: voices[speaker]!.name,
      startMs: Math.floor(atMs + from),
      endMs: Math.ceil(atMs + to),
    });
    parts.push(pcm);
    atMs += pcm.length / 32;
    const pauseMs = random() < 0.25 ? 120 : 300 + Math.floor(random() * 600);
    parts.push(Buffer.alloc(pauseMs * 32));
    atMs += pauseMs;
  }
  return { pcm: Buffer.concat(parts), turns, speakers: new Set(turns.map((t) => t.speaker)).size };
}

/** Where speech starts and ends in `pcm` (ms): the first and last 10 ms louder than -40 dBFS. */
function speechBounds(pcm: Buffer): [number, number] {
  const frames = Math.floor(pcm.length / 320);
  const loud: number[] = [];
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = 0; i < 160; i++) {
      const x = pcm.readInt16LE((f * 160 + i) * 2) / 32768;
      sum += x * x;
    }
    if (Math.sqrt(sum / 160) > 0.01) loud.push(f);
  }
  return loud.length > 0 ? [loud[0]! * 10, (loud.at(-1)! + 1) * 10] : [0, pcm.length / 32];
}

/** mulberry32: a small seeded generator, so a conversation is the same every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 16 kHz mono 16-bit PCM as a WAV file's bytes. */
export function wavOf(pcm: Buffer): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(16_000, 24);
  header.writeUInt32LE(32_000, 28); // bytes a second
  header.writeUInt16LE(2, 32); // bytes a frame
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
