import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withCommaBelow } from '../../processors/shared/romanian-letters.js';
import type { StreamLanguage } from '../../processors/transcribe/stream-language.js';
import { InMemoryState } from '../../runtime/stage/keyed-state.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import type { AudioChunk } from '../../schemas/index.js';

const run = promisify(execFile);

/** Debian pocketsphinx-testdata: human recordings (LibriVox) with their transcripts. */
export const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';

/** What is said in each LibriVox recording, by file name without `.wav`. */
export function librivoxReferences(): Map<string, string> {
  return new Map(
    readFileSync(join(LIBRIVOX_DIR, 'transcription'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [, text, id] = /^<s> (.*) <\/s> \((.*)\)$/.exec(line)!;
        return [id!, text!] as const;
      }),
  );
}

/**
 * Speaks the sentences with espeak-ng into one WAV, after half a second of silence and each
 * followed by `gapSeconds` of it, so they read like separate utterances.
 */
export async function speak(
  sentences: readonly string[],
  file: string,
  gapSeconds = 1,
  voice = 'en-us',
): Promise<string> {
  const parts: string[] = [];
  for (const [i, sentence] of sentences.entries()) {
    const part = `${file}.${i}.wav`;
    await run('espeak-ng', ['-v', voice, '-w', part, sentence]);
    parts.push(part);
  }
  const inputs = parts.flatMap((part) => ['-i', part]);
  // Half a second of silence first, as a recording has: the recogniser needs a moment of background.
  const filter = `${parts.map((_, i) => `[${i}]${i === 0 ? 'adelay=500:all=1,' : ''}apad=pad_dur=${gapSeconds}[a${i}]`).join(';')};${parts
    .map((_, i) => `[a${i}]`)
    .join('')}concat=n=${parts.length}:v=0:a=1`;
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...inputs,
    '-filter_complex',
    filter,
    '-ar',
    '22050',
    file,
  ]);
  return file;
}

/** The same audio in another container and codec (by extension: mp3, m4a, ogg, flac, wav). */
export async function convert(file: string, extension: string, dir: string): Promise<string> {
  const target = join(dir, `speech.${extension}`);
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, target]);
  return target;
}

/** Word error rate: word-level edit distance over the reference length. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[hyp.length]! / ref.length;
}

/** `text` spoken by espeak-ng in `voice` at its default rate, as 16 kHz mono 16-bit PCM. */
export function spokenPcm(text: string, voice: string): Buffer {
  return pcm16k(execFileSync('espeak-ng', ['-v', voice, '--stdout', text], { maxBuffer: 64 << 20 }));
}

/** Any audio file's bytes (a WAV from espeak-ng, a recording) as 16 kHz mono 16-bit PCM, by ffmpeg. */
export function pcm16k(input: Buffer): Buffer {
  return execFileSync(
    'ffmpeg',
    ['-loglevel', 'error', '-i', '-', '-ar', '16000', '-ac', '1', '-f', 's16le', '-'],
    { input, maxBuffer: 64 << 20 },
  );
}

/** The words WER counts: lower case, letters of any alphabet, punctuation dropped. */
export function words(text: string): string[] {
  // Letters of any alphabet (Romanian's ă, â, î, ș, ț count), the cedilla forms read as comma-below.
  return withCommaBelow(text)
    .toLowerCase()
    .replace(/<\/?s>/g, ' ')
    .replace(/[^\p{L}' ]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * ffmpeg's arguments to play a file in real time as an HTTP live stream on loopback, as a
 * broadcaster would (the live tests and `bench -- audio`).
 */
export function liveBroadcastArgs(file: string, port: number): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-i',
    file,
    '-f',
    'mp3',
    // Send each packet as it is encoded, as a live broadcaster does, not in 32 kB (2 s) blocks.
    '-flush_packets',
    '1',
    '-listen',
    '1',
    `http://127.0.0.1:${port}/live.mp3`,
  ];
}

/**
 * The transcribe handler's language settings for a test: `candidates` as TRANSCRIBE_LANGUAGES (English
 * alone by default: nothing to decide), the shipped floor and limit, state in memory.
 */
export function streamLanguages(candidates: string[] = ['en']) {
  return {
    settings: { candidates, confidence: 0.8, withinMs: 10_000 },
    state: new InMemoryState<StreamLanguage>(),
  };
}

/** An audio.chunks record of stream `s` as the transcribe stage receives it (16 kHz PCM). */
export function audioChunkRecord(
  seq: number,
  pcm: Buffer,
  chunk: Partial<AudioChunk> & { startMs: number },
): InputRecord<AudioChunk> {
  return {
    topic: 'audio.chunks',
    partition: 0,
    offset: String(seq),
    key: 's',
    timestamp: 0,
    headers: {},
    value: {
      streamId: 's',
      seq,
      durationMs: pcm.length / 32,
      sampleRate: 16_000,
      encoding: 'PCM_S16LE',
      pcm,
      final: false,
      languageHint: 'en',
      source: null,
      trace: [],
      ...chunk,
    },
  };
}
