import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { findAsrRuntime } from '../../processors/transcribe/asr-runtime.js';
import type { PcmChunk } from '../../producers/audio/audio-chunker.js';
import { openChunker, vadModelOf } from '../../producers/audio/speech-chunker.js';
import { LIBRIVOX_DIR } from '../support/audio.js';

const clip = (name: string) => `${LIBRIVOX_DIR}/sense_and_sensibility_01_austen_64kb-${name}.wav`;

/**
 * 1 s of silence, 3 s of speech, 2 s of white noise, 2 s of a tremolo chord (music-like), 3.3 s
 * of speech, 1 s of silence: 16 kHz mono PCM made by ffmpeg.
 */
function speechNoiseMusic(): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error'],
      ...['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=1'],
      ...['-i', clip('0880')],
      ...['-f', 'lavfi', '-i', 'anoisesrc=r=16000:a=0.08:d=2'],
      ...[
        '-f',
        'lavfi',
        '-i',
        'aevalsrc=0.15*sin(2*PI*440*t)*(0.6+0.4*sin(2*PI*3*t))+0.1*sin(2*PI*554*t)+0.1*sin(2*PI*659*t):s=16000:d=2',
      ],
      ...['-i', clip('0930')],
      ...['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=1'],
      ...[
        '-filter_complex',
        '[0][1][2][3][4][5]concat=n=6:v=0:a=1',
        '-ar',
        '16000',
        '-ac',
        '1',
        '-f',
        's16le',
        '-',
      ],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

async function chunksOf(pcm: Buffer, vadModel: string | undefined, piece: number): Promise<PcmChunk[]> {
  const chunker = await openChunker(16_000, 3000, vadModel);
  const chunks: PcmChunk[] = [];
  for (let i = 0; i < pcm.length; i += piece)
    chunks.push(...(await chunker.push(pcm.subarray(i, i + piece))));
  chunks.push(chunker.end());
  return chunks.filter((c) => c.durationMs > 0);
}

const overlaps = (c: PcmChunk, from: number, to: number) => c.startMs < to && c.startMs + c.durationMs > from;

describe('silero VAD chunker', () => {
  const config = loadConfig({});
  const vadModel = vadModelOf(config);

  it('is what the producers use where faster-whisper is installed, and can be turned off', () => {
    expect(vadModel).toBe((findAsrRuntime(undefined) as { vadModel: string }).vadModel);
    expect(vadModelOf(loadConfig({ AUDIO_VAD: 'energy' }))).toBeUndefined();
    expect(vadModelOf(loadConfig({ ASR_RUNTIME_DIR: '/nonexistent' }))).toBeUndefined();
    expect(() => vadModelOf(loadConfig({ AUDIO_VAD: 'silero', ASR_RUNTIME_DIR: '/nonexistent' }))).toThrow(
      /AUDIO_VAD=silero: .*runtime.json does not exist/,
    );
  });

  it('sends the speech in stream time and drops noise and music, where the energy chunker sends them all', async () => {
    const pcm = speechNoiseMusic();
    const vad = await chunksOf(pcm, vadModel, 6400);
    expect(vad).toHaveLength(2);
    // Speech is at 1.0–4.0 s and 8.0–11.3 s; the chunks hold it, with a little lead-in and pause.
    expect(vad[0]!.startMs).toBeGreaterThanOrEqual(800);
    expect(vad[0]!.startMs + vad[0]!.durationMs).toBeLessThanOrEqual(4300);
    expect(vad[1]!.startMs).toBeGreaterThanOrEqual(7800);
    expect(vad[1]!.startMs + vad[1]!.durationMs).toBeLessThanOrEqual(11_500);
    expect(vad.some((c) => overlaps(c, 4300, 7800))).toBe(false);
    for (const c of vad) expect(c.pcm.length).toBe(Math.round((c.durationMs * 32) / 1024) * 1024);

    const energy = await chunksOf(pcm, undefined, 6400);
    expect(energy.some((c) => overlaps(c, 4300, 7800))).toBe(true);
  });

  it('cuts the same chunks whether the audio comes in small pieces or in one', async () => {
    const pcm = speechNoiseMusic();
    const small = await chunksOf(pcm, vadModel, 640);
    const whole = await chunksOf(pcm, vadModel, pcm.length);
    expect(small.map((c) => [c.startMs, c.durationMs])).toEqual(whole.map((c) => [c.startMs, c.durationMs]));
  });

  it('cuts long speech without a pause near the target length', async () => {
    const speech = execFileSync('ffmpeg', [
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        clip('0870'),
        '-f',
        's16le',
        '-ac',
        '1',
        '-ar',
        '16000',
        '-',
      ],
    ]);
    const chunks = await chunksOf(speech, vadModel, 3200);
    // 7.1 s read without a 300 ms pause: cut within 2.5–3.5 s of each chunk's start.
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    for (const c of chunks.slice(0, -1)) expect(c.durationMs).toBeLessThanOrEqual(3600);
    const covered = chunks.reduce((sum, c) => sum + c.durationMs, 0);
    expect(covered).toBeGreaterThan(6000);
  });
});
