import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { transcribeOne } from '../../processors/transcribe/engine.js';
import { pcmLevel } from '../../processors/transcribe/pcm-level.js';
import { PocketsphinxEngine, parseHypseg } from '../../processors/transcribe/pocketsphinx-engine.js';
import { TranscribeHandler } from '../../processors/transcribe/stage.js';
import { AudioChunker } from '../../producers/audio/audio-chunker.js';
import { describe as describeInput } from '../../producers/audio/ffmpeg-decoder.js';
import { resolveAudioInput } from '../../producers/audio/resolve-input.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import type { AudioChunk, TextSegment } from '../../schemas/index.js';
import { audioChunkRecord, LIBRIVOX_DIR, streamLanguages, wordErrorRate } from '../support/audio.js';

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

  it('ends a chunk as soon as a pause follows speech, without waiting for the target length', () => {
    // 1.5 s of sound, then a pause: the chunk is out once 300 ms of the pause are heard.
    const chunker = new AudioChunker(RATE, 3000);
    expect(chunker.push(pcm(new Array(150).fill(true)))).toEqual([]);
    expect(chunker.push(pcm(new Array(20).fill(false)))).toEqual([]);
    const [chunk] = chunker.push(pcm(new Array(10).fill(false)));
    expect(chunk).toMatchObject({ startMs: 0, durationMs: 1650 });
    // A breath inside the first second does not end the chunk; silence alone never does.
    const breath = new AudioChunker(RATE, 3000);
    expect(
      breath.push(
        pcm([...new Array(50).fill(true), ...new Array(40).fill(false), ...new Array(50).fill(true)]),
      ),
    ).toEqual([]);
    const quiet = new AudioChunker(RATE, 3000);
    expect(quiet.push(pcm(new Array(200).fill(false)))).toEqual([]);
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

describe('decoding a live input', () => {
  it('loses none of the audio read to probe the format, over HTTP without a length', async () => {
    const { createServer } = await import('node:http');
    const { decodeToPcm } = await import('../../producers/audio/ffmpeg-decoder.js');
    // 3 s of a recording as a WAV sent in pieces, as a live source sends it.
    const wav = readFileSync(join(LIBRIVOX_DIR, 'sense_and_sensibility_01_austen_64kb-0880.wav'));
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'audio/wav' });
      let sent = 0;
      const timer = setInterval(() => {
        response.write(wav.subarray(sent, sent + 8000));
        sent += 8000;
        if (sent >= wav.length) {
          clearInterval(timer);
          response.end();
        }
      }, 10);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const decoder = decodeToPcm(`http://127.0.0.1:${port}/live.wav`, { sampleRate: RATE, realtime: false });
      let bytes = 0;
      for await (const part of decoder.pcm as AsyncIterable<Buffer>) bytes += part.length;
      await decoder.finished;
      // Every sample: with -fflags nobuffer the first 0.5-0.9 s were dropped.
      expect(bytes).toBe(wav.length - 44);
    } finally {
      server.close();
    }
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

describe('transcription settings', () => {
  it('default to faster-whisper where installed, int8 on CPU and float16 on CUDA, and check their values', () => {
    const cpu = loadConfig({}).transcribe;
    expect(cpu).toMatchObject({ engine: 'auto', whisper: { computeType: 'int8', threads: 1, beamSize: 1 } });
    expect(loadConfig({ TRANSCRIBE_EXECUTION_PROVIDER: 'cuda' }).transcribe.whisper.computeType).toBe(
      'float16',
    );
    expect(() => loadConfig({ TRANSCRIBE_ENGINE: 'whisper' })).toThrow(/^TRANSCRIBE_ENGINE: must be one of/);
    expect(() => loadConfig({ WHISPER_LANGUAGE: 'romanian' })).toThrow(
      /^WHISPER_LANGUAGE: must hold ISO 639-1 codes/,
    );
  });
});

describe('page URLs through yt-dlp', () => {
  // YouTube cannot be reached here. A stand-in executable answers as yt-dlp does on its command
  // line (the audio URL on stdout, or an error on stderr and exit 1), so what we send it and how
  // we read its answer are checked.
  function fakeYtDlp(script: string): string {
    const path = join(mkdtempSync(join(tmpdir(), 'yt-dlp-')), 'yt-dlp');
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('asks yt-dlp for the best audio of a page and uses the URL it prints', async () => {
    const ytDlp = fakeYtDlp(
      'case "$*" in *"-f bestaudio/best --get-url https://www.youtube.com/watch?v=abc"*) echo https://media.example/audio.webm;; *) echo "unexpected: $*" >&2; exit 2;; esac',
    );
    await expect(resolveAudioInput('https://www.youtube.com/watch?v=abc', { ytDlp })).resolves.toBe(
      'https://media.example/audio.webm',
    );
    // Media URLs and files do not go through it.
    await expect(resolveAudioInput('https://media.example/a.mp3', { ytDlp: '/nonexistent' })).resolves.toBe(
      'https://media.example/a.mp3',
    );
  });

  it("says why a page has no audio, in yt-dlp's words", async () => {
    const ytDlp = fakeYtDlp('echo "ERROR: [youtube] abc: Video unavailable" >&2; exit 1');
    await expect(resolveAudioInput('https://youtu.be/abc', { ytDlp })).rejects.toThrow(
      'cannot find audio on https://youtu.be/abc: ERROR: [youtube] abc: Video unavailable',
    );
    await expect(resolveAudioInput('https://youtu.be/abc', { ytDlp: '/nonexistent/yt-dlp' })).rejects.toThrow(
      /yt-dlp is not installed/,
    );
    await expect(resolveAudioInput('/nonexistent/talk.mp3')).rejects.toThrow('talk.mp3: no such file');
  });
});

describe('transcribe stage', () => {
  it('gives no segment for silence, and a segment in stream time for speech', async () => {
    const engine = new PocketsphinxEngine({ modelDir: '/usr/share/pocketsphinx/model/en-us' });
    const handler = new TranscribeHandler(engine, 'segments.raw', 0.003, streamLanguages());
    const chunk = (seq: number, pcmData: Buffer): InputRecord<AudioChunk> =>
      audioChunkRecord(seq, pcmData, {
        startMs: seq * 3000,
        durationMs: 3000,
        trace: [{ stage: 'produce-audio', atMs: 1 }],
      });
    // A human recording (pocketsphinx-testdata), 16 kHz mono 16-bit: the PCM is the WAV without its header.
    const speech = readFileSync(join(LIBRIVOX_DIR, 'sense_and_sensibility_01_austen_64kb-0880.wav')).subarray(
      44,
    );
    const outcomes = await handler.process([
      chunk(0, Buffer.alloc(96_000)),
      chunk(1, pcm(new Array(300).fill(false))),
      chunk(2, speech),
    ]);
    expect(outcomes.slice(0, 2)).toEqual([{ outputs: [] }, { outputs: [] }]);
    const [spoken] = (outcomes[2] as { outputs: Array<{ key: string; value: TextSegment }> }).outputs;
    expect(spoken!.key).toBe('s');
    expect(spoken!.value).toMatchObject({
      id: 's:2',
      seq: 2,
      origin: 'ASR',
      language: 'en',
      asr: { engine: 'pocketsphinx', model: 'cmusphinx-en-us' },
    });
    expect(spoken!.value.text).toMatch(/young man/);
    // Stream time: the chunk starts at 6 s; the words inside it start a little later.
    expect(spoken!.value.startMs).toBeGreaterThan(6000);
    expect(spoken!.value.endMs).toBeGreaterThan(spoken!.value.startMs!);
    expect(spoken!.value.trace).toEqual([{ stage: 'produce-audio', atMs: 1 }]);
  });

  it('stamps words at the time they are said, silence before them included', async () => {
    const engine = new PocketsphinxEngine({ modelDir: '/usr/share/pocketsphinx/model/en-us' });
    try {
      const speech = readFileSync(
        join(LIBRIVOX_DIR, 'sense_and_sensibility_01_austen_64kb-0880.wav'),
      ).subarray(44);
      const alone = await transcribeOne(engine, speech, RATE, 'en');
      // The same speech after 2 s of silence: every word 2 s later (pocketsphinx drops silence
      // frames by default, which stamped them as if the silence were not there).
      const silenceMs = 2000;
      const later = await transcribeOne(
        engine,
        Buffer.concat([Buffer.alloc((silenceMs * RATE * 2) / 1000), speech]),
        RATE,
        'en',
      );
      expect(later.text).toBe(alone.text);
      const shifts = later.segments.map((segment, i) => segment.startMs - alone.segments[i]!.startMs);
      expect(shifts.every((shift) => Math.abs(shift - silenceMs) <= 100)).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
