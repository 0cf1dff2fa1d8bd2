import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TranscriptLine } from '../../gateway/transcripts/transcript-formats.js';
import { speak, wordErrorRate } from '../support/audio.js';
import { conversation, conversationSentences, DISTINCT_VOICES, wavOf } from '../support/conversations.js';
import { diarizationErrorRate } from '../support/diarization.js';
import { gatewayEnv, LiveClient, startGateway, startTextStages } from '../support/gateway.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';

const services = new TestServices();
afterEach(() => services.stopAll());

// Emotional sentences in espeak-ng's voice, one utterance each.
const SENTENCES = [
  'I am so happy today, this is the best day of my life.',
  'I feel so sad and alone.',
  'This is the worst customer service ever, I am furious.',
  'What a wonderful surprise!',
];

// Romanian sentences of the project's own set (eval/speech-ro), in espeak-ng's Romanian voice.
const ROMANIAN = [
  'Sunt foarte fericit astăzi, totul a mers bine.',
  'M-au mințit din nou și sunt foarte supărat.',
];

function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/run.ts', ...args],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * A stack with the audio stages and a gateway; `sentences` spoken by espeak-ng in `voice`'s
 * language, uploaded as stream `streamId` with `language` (auto: none given), and waited for on the
 * live feed, whose stream events are returned.
 */
async function spokenThrough(
  label: string,
  streamId: string,
  sentences: string[],
  voice: 'en' | 'ro',
  language: 'en' | 'ro' | 'auto',
) {
  const { stack } = await pipelineStack(label, gatewayEnv());
  await startTextStages(services, stack, { audio: true });
  const { url } = await startGateway(services, stack);
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  const wav = await speak(sentences, join(dir, `${streamId}.wav`), 1, voice === 'ro' ? 'ro' : 'en-us');
  const live = LiveClient.connect(url, `streams=${streamId}`);
  await live.opened;
  const form = new FormData();
  form.append('streamId', streamId);
  if (language !== 'auto') form.append('language', language);
  form.append('file', new Blob([readFileSync(wav)]), `${streamId}.wav`);
  expect((await fetch(`${url}/v1/audio`, { method: 'POST', body: form })).status).toBe(202);
  await live.waitForResults(sentences.length, 120_000);
  live.close();
  return { stack, url, events: live.events };
}

describe('transcripts', () => {
  it('serves a stream transcript with emotions as JSON, CSV, SRT, WebVTT and text, from the committed results; its language decided from its first speech', async () => {
    // No language given: English is decided from the first chunk, told once, shown in the overview.
    const { stack, url, events } = await spokenThrough('transcripts', 'talk', SENTENCES, 'en', 'auto');
    const decisions = events.filter((event) => event.kind === 'language');
    expect(decisions.map((event) => event.language)).toEqual(['en']);
    expect(decisions[0]!.message).toMatch(
      /^language en decided after \d+\.\d s of speech in 1 chunk \(en 1\.00, ro 0\.00\)$/,
    );
    const overview = (await (await fetch(`${url}/v1/streams`)).json()) as {
      streams: Array<{ streamId: string; language: { code: string; decision: string } | null }>;
    };
    expect(overview.streams.find((stream) => stream.streamId === 'talk')?.language).toEqual({
      code: 'en',
      decision: decisions[0]!.message,
    });

    const json = (await (await fetch(`${url}/v1/streams/talk/transcript?format=json`)).json()) as {
      streamId: string;
      segments: Required<
        Pick<TranscriptLine, 'startMs' | 'endMs' | 'text' | 'topLabel' | 'core' | 'speaker'>
      >[];
    };
    expect(json.streamId).toBe('talk');
    expect(json.segments).toHaveLength(SENTENCES.length);
    const said = json.segments.map((s) => s.text).join(' ');
    expect(wordErrorRate(SENTENCES.join(' '), said)).toBeLessThan(0.3);
    for (const [i, segment] of json.segments.entries()) {
      expect(segment.endMs).toBeGreaterThan(segment.startMs);
      if (i > 0) expect(segment.startMs).toBeGreaterThanOrEqual(json.segments[i - 1]!.endMs);
      expect(Object.keys(segment.core)).toHaveLength(7);
    }

    const csv = await fetch(`${url}/v1/streams/talk/transcript?format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows[0]).toBe(
      'start_ms,end_ms,speaker,text,top_label,anger,disgust,fear,joy,neutral,sadness,surprise',
    );
    expect(rows).toHaveLength(SENTENCES.length + 1);
    expect(rows[2]).toContain(json.segments[1]!.topLabel);

    const srt = await (await fetch(`${url}/v1/streams/talk/transcript?format=srt`)).text();
    const first = json.segments[0]!;
    // One voice: one speaker, S1, on every cue.
    expect(srt).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n\[S1 \w+ \d\.\d\d\] /);
    expect(srt).toContain(`[S1 ${first.topLabel} ${first.core[first.topLabel]!.toFixed(2)}] ${first.text}`);
    expect(json.segments.map((s) => s.speaker)).toEqual(SENTENCES.map(() => 'S1'));
    expect(srt.trim().split('\n\n')).toHaveLength(SENTENCES.length);

    const vtt = await fetch(`${url}/v1/streams/talk/transcript?format=vtt`);
    expect(vtt.headers.get('content-type')).toMatch(/^text\/vtt/);
    const vttText = await vtt.text();
    expect(vttText.startsWith('WEBVTT\n\n')).toBe(true);
    expect(vttText).toMatch(/\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n\[/);

    const txt = await (await fetch(`${url}/v1/streams/talk/transcript?format=txt`)).text();
    expect(txt.trim().split('\n')).toEqual(json.segments.map((s) => `S1: ${s.text}`));

    // A second gateway (another replica, nothing in its memory) answers the same.
    const other = await startGateway(services, stack);
    expect(await (await fetch(`${other.url}/v1/streams/talk/transcript?format=srt`)).text()).toBe(srt);

    const missing = await fetch(`${url}/v1/streams/never-was/transcript`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toBe(
      'no results for stream never-was yet',
    );
    expect((await fetch(`${url}/v1/streams/talk/transcript?format=docx`)).status).toBe(400);
    process.stdout.write(`transcript of an upload, as SRT:\n${srt}`);
  });

  it('a Romanian recording uploaded without a language is decided Romanian and comes back through Kafka as a Romanian transcript, diacritics intact, scored by the Romanian model', async () => {
    const { url, events } = await spokenThrough('transcripts-ro', 'vorbire', ROMANIAN, 'ro', 'auto');
    expect(events.filter((event) => event.kind === 'language').map((event) => event.language)).toEqual([
      'ro',
    ]);

    const json = (await (await fetch(`${url}/v1/streams/vorbire/transcript?format=json`)).json()) as {
      segments: Array<Required<Pick<TranscriptLine, 'text' | 'language' | 'topLabel' | 'core'>>>;
    };
    expect(json.segments).toHaveLength(ROMANIAN.length);
    expect(json.segments.map((segment) => segment.language)).toEqual(['ro', 'ro']);
    const said = json.segments.map((segment) => segment.text).join(' ');
    expect(said).toMatch(/[ăâîșț]/i);
    expect(said).not.toMatch(/[şţŞŢ]/);
    expect(wordErrorRate(ROMANIAN.join(' '), said)).toBeLessThan(0.6);
    // The Romanian model scored them: the good day is joy, the lies anger.
    expect(json.segments.map((segment) => segment.topLabel)).toEqual(['joy', 'anger']);
    const srt = await (await fetch(`${url}/v1/streams/vorbire/transcript?format=srt`)).text();
    expect(srt).toContain(json.segments[1]!.text);
  });

  it('`transcribe` prints a file transcript without Kafka, as JSON with emotions or as subtitles, and says what it cannot do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transcribe-cli-'));
    const mp3 = join(dir, 'talk.mp3');
    await speak(SENTENCES, mp3, 1);
    const json = await cli(['transcribe', mp3, '--format', 'json', '--emotions']);
    expect(json.status, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      text: string;
      language: string;
      engine: string;
      model: string;
      segments: Required<
        Pick<TranscriptLine, 'startMs' | 'endMs' | 'text' | 'topLabel' | 'core' | 'speaker'>
      >[];
    };
    expect(parsed).toMatchObject({ language: 'en', engine: 'faster-whisper', model: 'tiny.en' });
    // No --language: decided among TRANSCRIBE_LANGUAGES from the first speech, and said on stderr.
    expect(json.stderr).toMatch(
      /transcribe: language en decided after \d+\.\d s of speech in 1 chunk \(en 1\.00, ro 0\.00\)/,
    );
    expect(parsed.segments).toHaveLength(SENTENCES.length);
    expect(wordErrorRate(SENTENCES.join(' '), parsed.text)).toBeLessThan(0.3);
    expect(parsed.segments[0]!.startMs).toBeGreaterThanOrEqual(300);
    const labels = parsed.segments.map((s) => s.topLabel);
    expect(labels[0]).toBe('joy');
    expect(labels[1]).toBe('sadness');
    expect(Object.keys(parsed.segments[0]!.core)).toHaveLength(7);
    // One voice: one speaker on every line.
    expect(parsed.segments.map((s) => s.speaker)).toEqual(SENTENCES.map(() => 'S1'));
    // Two voices, offline as through Kafka: S1 and S2 by turn; --no-speakers leaves them out.
    // (This conversation once began with a 0.5 s "Huh?" segment that opened a speaker of its own,
    // and a turn's short first sentence that joined the other voice.)
    const talk = conversation(DISTINCT_VOICES.slice(1, 3), conversationSentences(), { turns: 6, seed: 3 });
    const interview = join(dir, 'interview.wav');
    writeFileSync(interview, wavOf(talk.pcm));
    const turns = await cli(['transcribe', interview, '--language', 'en', '--format', 'json']);
    expect(turns.status, turns.stderr).toBe(0);
    const lines = (JSON.parse(turns.stdout) as typeof parsed).segments;
    expect(new Set(lines.map((line) => line.speaker))).toEqual(new Set(['S1', 'S2']));
    expect(diarizationErrorRate(talk.turns, lines).der).toBeLessThan(0.15);
    const plain = await cli(['transcribe', interview, '--language', 'en', '--no-speakers']);
    expect(plain.stdout).not.toMatch(/^S\d: /m);

    const vtt = await cli(['transcribe', mp3, '--format', 'vtt']);
    expect(vtt.stdout.startsWith('WEBVTT\n\n00:00:00.')).toBe(true);
    const fallback = await cli(['transcribe', mp3, '--engine', 'pocketsphinx', '--format', 'txt']);
    expect(fallback.status).toBe(0);
    expect(fallback.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);

    // Romanian, offline: Whisper base hears it, with its diacritics, and the Romanian model scores it.
    const roFile = await speak(ROMANIAN, join(dir, 'vorbire.wav'), 1, 'ro');
    const romanian = await cli(['transcribe', roFile, '--language', 'ro', '--format', 'json', '--emotions']);
    expect(romanian.status, romanian.stderr).toBe(0);
    const ro = JSON.parse(romanian.stdout) as typeof parsed;
    expect(ro).toMatchObject({ language: 'ro', engine: 'faster-whisper', model: 'base' });
    expect(ro.text).toMatch(/[ăâîșț]/i);
    expect(wordErrorRate(ROMANIAN.join(' '), ro.text)).toBeLessThan(0.6);
    expect(Object.keys(ro.segments[0]!.core)).toHaveLength(7);
    // The same recording without --language: decided Romanian, to the same model.
    const auto = await cli(['transcribe', roFile, '--format', 'json']);
    expect(auto.status, auto.stderr).toBe(0);
    expect(JSON.parse(auto.stdout)).toMatchObject({ language: 'ro', model: 'base' });
    expect(auto.stderr).toMatch(/transcribe: language ro decided after/);
    // A language no model knows (Igbo) stops with one line saying what to do.
    const igbo = await cli(['transcribe', mp3, '--language', 'ig']);
    expect(igbo.status).toBe(1);
    expect(igbo.stderr).toMatch(/cannot transcribe language 'ig' \(give it a multilingual model/);
    const missing = await cli(['transcribe', join(dir, 'nope.mp3')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.mp3: no such file/);
    const format = await cli(['transcribe', mp3, '--format', 'docx']);
    expect(format.stderr).toMatch(/expected one of json, csv, srt, vtt, txt/);
  });
});
