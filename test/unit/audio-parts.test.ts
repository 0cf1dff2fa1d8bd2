import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHypseg } from '../../processors/transcribe/pocketsphinx-engine.js';
import { AudioChunker, pcmLevel } from '../../producers/audio/audio-chunker.js';
import { describe as describeInput } from '../../producers/audio/ffmpeg-decoder.js';
import { loadConfig } from '../../runtime/config/index.js';
import { wordErrorRate } from '../support/audio.js';

const RATE = 16_000;

/** 16 kHz PCM: a 200 Hz tone where `loud`, silence elsewhere, one entry per 10 ms. */
function pcm(pattern: boolean[]): Buffer {
  const samples = pattern.length * (RATE / 100);
  const buffer = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    if (pattern[Math.floor(i / (RATE / 100))])
      buffer.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 200 * i) / RATE)), i * 2);
  }
  return buffer;
}

describe('AudioChunker', () => {
  it('cuts in the pause nearest the target length, and loses no sample', () => {
    // 2.8 s of sound, 0.2 s pause, 2.6 s of sound, 0.2 s pause, 1 s of sound.
    const pattern = [
      ...new Array(280).fill(true),
      ...new Array(20).fill(false),
      ...new Array(260).fill(true),
      ...new Array(20).fill(false),
      ...new Array(100).fill(true),
    ];
    const audio = pcm(pattern);
    const chunker = new AudioChunker(RATE, 3000);
    const chunks = [];
    // Fed in uneven pieces, as ffmpeg's pipe delivers them.
    for (let at = 0; at < audio.length; at += 7000)
      chunks.push(...chunker.push(audio.subarray(at, at + 7000)));
    chunks.push(chunker.end());
    expect(chunks.map((c) => c.startMs)).toEqual([
      0,
      chunks[0]!.durationMs,
      chunks[0]!.durationMs + chunks[1]!.durationMs,
    ]);
    // Cuts fall inside the pauses: 2.8–3.0 s and 5.6–5.8 s.
    expect(chunks[0]!.durationMs).toBeGreaterThanOrEqual(2800);
    expect(chunks[0]!.durationMs).toBeLessThanOrEqual(3000);
    const second = chunks[0]!.durationMs + chunks[1]!.durationMs;
    expect(second).toBeGreaterThanOrEqual(5600);
    expect(second).toBeLessThanOrEqual(5800);
    expect(Buffer.concat(chunks.map((c) => c.pcm)).equals(audio)).toBe(true);
  });

  it('ends with an empty last chunk when the audio ends on a cut', () => {
    const chunker = new AudioChunker(RATE, 1000, 100);
    expect(chunker.push(Buffer.alloc(0))).toEqual([]);
    expect(chunker.end()).toEqual({ pcm: Buffer.alloc(0), startMs: 0, durationMs: 0 });
  });

  it('measures the level of silence and of sound', () => {
    expect(pcmLevel(pcm(new Array(10).fill(false)))).toBe(0);
    expect(pcmLevel(pcm(new Array(10).fill(true)))).toBeGreaterThan(0.1);
  });
});

describe('pocketsphinx output', () => {
  it('reads words and their times from -hypseg, without fillers or pronunciation variants', () => {
    const line =
      'u0 S 0 T -8492746 A -7965696 L -527050 0 -371712 0 <s> 21 -203776 -257 he 33 -377856 -136 was(2) 55 -1121280 -261 not 106 -364544 -524288 <sil> 113 -1494016 -512 until 148 -951296 -280 this 297';
    const transcript = parseHypseg(`${line}\n`).get('u0')!;
    expect(transcript.text).toBe('he was not until this');
    expect(transcript.segments[0]).toEqual({ startMs: 210, endMs: 330, text: 'he' });
    expect(transcript.segments.at(-1)).toEqual({ startMs: 1480, endMs: 2970, text: 'this' });
    expect(transcript.confidence).toBeGreaterThan(0);
    expect(transcript.confidence).toBeLessThan(1);
  });
});

describe('support: word error rate', () => {
  it('counts substitutions, insertions and deletions over the reference', () => {
    expect(
      wordErrorRate('he was not an ill disposed young man', 'he was not an ill disposed young man'),
    ).toBe(0);
    expect(wordErrorRate('<s> a b c d </s>', 'a x c')).toBe(0.5);
  });
});

describe('input names in messages', () => {
  it('never shows credentials or query strings of a URL', () => {
    expect(describeInput('https://user:secret@example.com/live.m3u8?token=abc')).toBe(
      'https://example.com/live.m3u8',
    );
    expect(describeInput('/home/me/recordings/talk.mp3')).toBe('talk.mp3');
  });
});

describe('Whisper engine', () => {
  // No Whisper checkpoint can be downloaded here; what is testable offline is that a model that
  // cannot be loaded stops the stage at start with a message naming where it looked.
  it('fails at load with the location it tried', async () => {
    const { WhisperEngine } = await import('../../processors/transcribe/whisper-engine.js');
    const missing = join(tmpdir(), 'no-such-whisper-base');
    mkdirSync(missing, { recursive: true });
    await expect(
      WhisperEngine.load({ model: missing, task: 'transcribe', allowRemote: false }),
    ).rejects.toThrow(/cannot load a speech recognition model from the directory .*no-such-whisper-base/);
  });

  it('is required to have a model when chosen', () => {
    expect(() => loadConfig({ TRANSCRIBE_ENGINE: 'whisper' })).toThrow(
      /^WHISPER_MODEL: is required when TRANSCRIBE_ENGINE=whisper/,
    );
    expect(() => loadConfig({ WHISPER_LANGUAGE: 'romanian' })).toThrow(
      /^WHISPER_LANGUAGE: must hold ISO 639-1 codes/,
    );
  });
});
