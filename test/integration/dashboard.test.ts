/// <reference lib="dom" />
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmotionScores } from '../../processors/classify/engine.js';
import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import { packageRoot } from '../../runtime/package-root.js';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import { avroSchemas, type Feedback } from '../../schemas/index.js';
import { startFeedbackSinkService } from '../../sinks/feedback/service.js';
import { speak } from '../support/audio.js';
import { testBlobStore, uniqueContainer } from '../support/blob.js';
import { DISTINCT_VOICES, type Voice, voicePcm, wavOf } from '../support/conversations.js';
import { gatewayEnv, startGateway, startTextStages } from '../support/gateway.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';
import { readTopic } from '../support/topics.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(packageRoot(), '.cache', 'test-artifacts');

const services = new TestServices();
afterEach(() => services.stopAll());

/**
 * Headless Chromium (Debian's, installed by deploy/local/bootstrap.sh --test) with one page, and
 * the page errors and console errors it reports; the test expects none.
 */
async function openDashboard(url: string) {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: run deploy/local/bootstrap.sh --test`).toBe(true);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  await page.goto(url);
  return { browser, page, problems };
}

describe('dashboard', () => {
  it('in headless Chromium: starts streams from text and from a recording, shows the chart and transcript live, takes feedback and a CSV job', async () => {
    const { stack, topics } = await pipelineStack('dashboard', {
      ...gatewayEnv(),
      BLOB_CONTAINER: uniqueContainer('dashboard'),
      SINK_FLUSH_INTERVAL_MS: '300',
      FEEDBACK_JOIN_WAIT_MS: '1500',
    });
    await testBlobStore(stack.config);
    await startTextStages(services, stack, { audio: true });
    await services.start(stack, startFeedbackSinkService);
    const { gateway } = await startGateway(services, stack);

    const { browser, page, problems } = await openDashboard(gateway.url);
    try {
      await expect.poll(() => page.locator('#chart .uplot').count()).toBe(1);

      const streamId = `browser-${Date.now()}`;
      await page.fill('#stream-id', streamId);
      await page.click('#watch');
      await page.waitForSelector('#connection[data-state="open"]');
      const lines = [
        'I am so happy, this is the best news ever!',
        'This makes me furious, I hate it',
        'Thank you so much, I love you all',
        'I am terrified of what comes next',
      ];
      await page.fill('#texts', lines.join('\n'));
      await page.click('#send-texts');
      await expect.poll(() => page.textContent('#text-status')).toBe(`sent 4 to ${streamId}`);

      // Results arrive over the WebSocket while the page is open: transcript and chart grow.
      await page.waitForFunction(() => document.querySelectorAll('#transcript .segment').length === 4, null, {
        timeout: 120_000,
      });
      expect(Number(await page.getAttribute('#chart', 'data-points'))).toBe(4);
      // The legend shows the latest scores without hovering (uPlot alone shows "--" until then).
      const legendValues = await page.$$eval(
        '#chart .u-legend .u-series:not(:first-child) .u-value',
        (cells) => cells.map((cell) => cell.textContent),
      );
      expect(legendValues).toHaveLength(7);
      expect(legendValues.every((value) => /^\d/.test(value ?? ''))).toBe(true);
      const segments = await page.$$eval('#transcript .segment', (items) =>
        items.map((item) => ({
          id: (item as HTMLElement).dataset.resultId,
          label: (item as HTMLElement).dataset.label,
          text: item.querySelector('.text')?.textContent,
          colour: getComputedStyle(item).borderLeftColor,
        })),
      );
      // Newest first; each coloured by its top emotion.
      expect(segments.map((s) => s.text)).toEqual([...lines].reverse());
      expect(segments.find((s) => s.text === lines[0])?.label).toBe('joy');
      expect(segments.find((s) => s.text === lines[1])?.label).toBe('anger');
      expect(new Set(segments.map((s) => s.colour)).size).toBeGreaterThanOrEqual(2);
      const joyColour = segments.find((s) => s.label === 'joy')!.colour;
      expect(segments.filter((s) => s.label === 'joy').every((s) => s.colour === joyColour)).toBe(true);

      // A feedback button posts to the gateway, which puts it on the feedback topic.
      const target = segments[0]!;
      await page.click(`#transcript .segment[data-result-id="${target.id}"] .correct`);
      await page.waitForSelector(
        `#transcript .segment[data-result-id="${target.id}"][data-feedback="correct"]`,
      );
      const decoder = new AvroDecoder<Feedback>(stack.registry, avroSchemas.Feedback);
      const feedback = await Promise.all(
        (await readTopic(stack.kafka, topics.feedback)).map((r) => decoder.decode(r.value)),
      );
      expect(feedback).toEqual([
        expect.objectContaining({ resultId: target.id, verdict: 'correct', streamId, label: null }),
      ]);

      // A refused CSV upload: its reason, in the API's words, and no full progress bars.
      await page.setInputFiles('#csv-file', {
        name: 'wrong.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from('title,body\na,b\n'),
      });
      await page.click('#upload-csv');
      await expect
        .poll(() => page.textContent('#job-status'))
        .toMatch(/wrong\.csv has no column 'text' \(textColumn\)/);
      expect(await page.isHidden('#upload-progress')).toBe(true);
      expect(await page.isHidden('#job-progress')).toBe(true);
      // The browser logs the refusal's 400 as a console error: expected here, and only here.
      const refusal = problems.findIndex((p) => /status of 400/.test(p));
      expect(refusal).toBeGreaterThanOrEqual(0);
      problems.splice(refusal, 1);

      // CSV upload with progress, then the download link.
      const csv = `text\n${Array.from({ length: 40 }, (_, i) => `"Row ${i}: ${lines[i % 4]}"`).join('\n')}\n`;
      await page.setInputFiles('#csv-file', {
        name: 'rows.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(csv),
      });
      await page.click('#upload-csv');
      await page.waitForSelector('#job-download:not([hidden])', { timeout: 120_000 });
      expect(await page.textContent('#job-status')).toBe('done: 40 rows in, 40 results out');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#job-download')]);
      expect(download.suggestedFilename()).toMatch(/^results-.*\.csv$/);

      // The downloaded file, reviewed (a correct_label column: one 'wrong', one relabelled, the
      // rest confirmed), sent back from the same card; each verdict's outcome is counted.
      const rows = parse(readFileSync((await download.path())!, 'utf8')) as string[][];
      const cell = (value: string) => `"${value.replace(/"/g, '""')}"`;
      const reviewed = rows
        .map((row, i) => [...row, i === 0 ? 'correct_label' : i === 1 ? 'wrong' : i === 2 ? 'sadness' : ''])
        .map((row) => row.map(cell).join(','))
        .join('\n');
      await page.setInputFiles('#review-file', {
        name: 'reviewed.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(reviewed),
      });
      await page.click('#send-review');
      await expect
        .poll(() => page.textContent('#review-status'), { timeout: 60_000 })
        .toBe('40 verdicts sent: 40 matched, 0 pending, 0 unmatched');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('aside').screenshot({ path: join(ARTIFACTS, 'dashboard-csv-review.png') });

      // A stream started from a local recording of two voices: uploaded, transcribed, told apart by
      // speaker, classified, shown live.
      const recording = join(mkdtempSync(join(tmpdir(), 'dash-')), 'talk.wav');
      const [first, second] = DISTINCT_VOICES as [Voice, Voice];
      writeFileSync(
        recording,
        wavOf(
          Buffer.concat([
            Buffer.alloc(500 * 32),
            voicePcm('I feel so sad and alone, nobody ever calls me anymore.', first),
            Buffer.alloc(800 * 32),
            voicePcm('What a wonderful surprise, I never expected to see you here!', second),
            Buffer.alloc(500 * 32),
          ]),
        ),
      );
      const audioStream = `browser-audio-${Date.now()}`;
      await page.fill('#stream-id', audioStream);
      await page.setInputFiles('#audio-file', recording);
      await page.click('#upload-audio');
      await page.waitForFunction(() => document.querySelectorAll('#transcript .segment').length >= 2, null, {
        timeout: 120_000,
      });
      await expect
        .poll(() => page.textContent('#stream-status'), { timeout: 30_000 })
        .toMatch(/: ended \(\d+\.\d s of audio\)/);
      // Uploaded with the form's default language, auto: the decision stays in view, and the
      // streams overview marks the stream with it.
      expect(await page.textContent('#stream-language')).toMatch(
        new RegExp(`^${audioStream}: language en decided after \\d+\\.\\d s of speech in 1 chunk`),
      );
      await expect
        .poll(() => page.textContent(`#overview [data-stream="${audioStream}"] .state`), { timeout: 30_000 })
        .toMatch(/ · en · /);
      const spoken = await page.$$eval('#transcript .segment .text', (items) =>
        items.map((item) => item.textContent),
      );
      expect(spoken.join(' ')).toMatch(/sad|wonderful/);
      // Each line marked by its speaker; the chart shows one speaker's results when asked; the
      // overview tile has each speaker's mix.
      // The stream's end is the upload's; its last segment (the second voice) may still be on its
      // way through the stages, so the marks are read until it is there.
      await expect
        .poll(
          async () =>
            new Set(
              await page.$$eval('#transcript .segment .speaker', (items) =>
                items.map((item) => item.textContent),
              ),
            ),
          { timeout: 30_000 },
        )
        .toEqual(new Set(['S1', 'S2']));
      const marks = await page.$$eval('#transcript .segment .speaker', (items) =>
        items.map((item) => item.textContent),
      );
      expect(await page.isVisible('#chart-speaker')).toBe(true);
      const allPoints = Number(await page.getAttribute('#chart', 'data-points'));
      await page.selectOption('#chart-speaker', 'S2');
      const s2Points = Number(await page.getAttribute('#chart', 'data-points'));
      expect(s2Points).toBe(marks.filter((mark) => mark === 'S2').length);
      expect(s2Points).toBeLessThan(allPoints);
      await page.selectOption('#chart-speaker', '');
      await expect
        .poll(
          () =>
            page.$$eval(`#overview [data-stream="${audioStream}"] .speaker-mix .speaker`, (items) =>
              items.map((item) => item.textContent),
            ),
          { timeout: 30_000 },
        )
        .toEqual(['S1', 'S2']);

      // The stream's transcript downloads as subtitles with the emotion in each cue.
      expect(await page.getAttribute('#transcript-links a[data-format="srt"]', 'href')).toBe(
        `/v1/streams/${audioStream}/transcript?format=srt`,
      );
      const [subtitles] = await Promise.all([
        page.waitForEvent('download'),
        page.click('#transcript-links a[data-format="srt"]'),
      ]);
      expect(subtitles.suggestedFilename()).toBe(`${audioStream}.srt`);
      const srt = readFileSync((await subtitles.path())!, 'utf8');
      expect(srt).toMatch(
        /^1\n00:00:0\d,\d{3} --> 00:00:0\d,\d{3}\n\[S1 (sadness|joy|surprise|neutral|fear|anger|disgust) \d\.\d\d\] /,
      );

      // A Romanian recording, its language chosen in the form: heard by Whisper base, diacritics kept.
      const vorbire = await speak(
        ['Sunt foarte fericit astăzi, totul a mers bine.', 'M-au mințit din nou și sunt foarte supărat.'],
        join(mkdtempSync(join(tmpdir(), 'dash-ro-')), 'vorbire.wav'),
        1,
        'ro',
      );
      await page.fill('#stream-id', `${audioStream}-ro`);
      await page.selectOption('#audio-language', 'ro');
      await page.setInputFiles('#audio-file', vorbire);
      await page.click('#upload-audio');
      // The view shows the new stream only: two segments, none of the English one's.
      await page.waitForFunction(
        () => {
          const texts = Array.from(
            document.querySelectorAll('#transcript .segment .text'),
            (item) => item.textContent,
          );
          return texts.length >= 2 && !texts.some((text) => /sad|wonderful/i.test(text ?? ''));
        },
        null,
        { timeout: 120_000 },
      );
      const romanian = await page.$$eval('#transcript .segment .text', (items) =>
        items.map((item) => item.textContent),
      );
      expect(romanian.join(' ')).toMatch(/[ăâîșț]/i);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('in headless Chromium: the Analyse panel draws exactly what POST /v1/predict answers', async () => {
    const { stack } = await pipelineStack('dashboard-analyse', gatewayEnv());
    const { gateway } = await startGateway(services, stack);
    const texts = [
      "This is the worst customer service ever, I'm furious.",
      'Sunt atât de fericită azi, mulțumesc tuturor!',
      "The meeting moved to three o'clock.",
    ];
    const expected = (await (
      await fetch(`${gateway.url}/v1/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts }),
      })
    ).json()) as { results: EmotionScores[] };

    const { browser, page, problems } = await openDashboard(gateway.url);
    try {
      await page.fill('#analyse-texts', texts.join('\n'));
      await page.click('#analyse');
      await page.waitForFunction(() => document.querySelectorAll('#analyses .analysis').length === 3);
      const drawn = await page.$$eval('#analyses .analysis', (items) =>
        items.map((item) => ({
          top: item.querySelector('.top')?.textContent,
          sentiment: item.querySelector('.sentiment')?.textContent,
          values: Object.fromEntries(
            Array.from(item.querySelectorAll('.bar-row')).map((row) => [
              (row as HTMLElement).dataset.emotion,
              row.querySelector('.value')?.textContent,
            ]),
          ),
          shares: Array.from(item.querySelectorAll('.shares span')).map((part) => [
            (part as HTMLElement).dataset.emotion,
            Number((part as HTMLElement).style.flexGrow),
          ]),
          model: item.querySelector('.model')?.textContent,
        })),
      );
      drawn.forEach((analysis, i) => {
        const result = expected.results[i]!;
        expect(analysis.top).toBe(result.topLabel);
        for (const emotion of CORE_EMOTIONS) {
          const score = result.core[emotion];
          expect(analysis.values[emotion]).toBe(score === null ? 'n/a' : score.toFixed(2));
        }
        const shares = Object.fromEntries(analysis.shares);
        for (const emotion of CORE_EMOTIONS)
          if (result.distribution[emotion])
            expect(shares[emotion]).toBeCloseTo(result.distribution[emotion]!, 6);
        expect(analysis.sentiment).toContain(`intensity ${result.sentiment.intensity.toFixed(2)}`);
        expect(analysis.model).toContain(result.model.name);
      });
      // The Romanian model has no disgust or surprise: shown as such, not as 0.
      expect(drawn[1]!.values.disgust).toBe('n/a');
      expect(drawn[1]!.model).toContain('language ro');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#analyse-card').screenshot({ path: join(ARTIFACTS, 'dashboard-analyse.png') });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('in headless Chromium, with API keys on: the streams overview shows every stream live, badges the angry one, and opens one on click', async () => {
    const key = 'overview-test-key-0123456789';
    const { stack } = await pipelineStack('dashboard-overview', { ...gatewayEnv(), GATEWAY_API_KEYS: key });
    await startTextStages(services, stack);
    const { gateway } = await startGateway(services, stack);
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const send = (streamId: string, texts: string[]) =>
      fetch(`${gateway.url}/v1/streams/${streamId}/texts`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ texts, language: 'en' }),
      });
    const angry = [
      'This is outrageous, I am furious with you!',
      'I hate this so much, it makes me so angry.',
      'How dare they treat us like this, I am livid!',
      'Stop lying to me, I am sick of your excuses, this makes me mad!',
      'I am so angry I could scream at them.',
      'You ruined everything, I am furious!',
    ];
    const joyful = ['What a wonderful day, I love it!', 'Thank you so much, this made me so happy!'];
    expect((await send('channel-1', angry)).status).toBe(202);
    expect((await send('channel-2', joyful)).status).toBe(202);

    // The API first: without the key it is refused; with it, both streams and the badge.
    expect((await fetch(`${gateway.url}/v1/streams`)).status).toBe(401);
    type Overview = {
      streams: Array<{ streamId: string; state: string; alerts: string[]; window: { results: number } }>;
    };
    let overview: Overview = { streams: [] };
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      overview = (await (await fetch(`${gateway.url}/v1/streams`, { headers: auth })).json()) as Overview;
      if (overview.streams.reduce((n, s) => n + s.window.results, 0) === angry.length + joyful.length) break;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const byId = new Map(overview.streams.map((s) => [s.streamId, s]));
    expect(byId.get('channel-1')).toMatchObject({ state: 'live', alerts: ['anger'], window: { results: 6 } });
    expect(byId.get('channel-2')).toMatchObject({ state: 'live', alerts: [], window: { results: 2 } });
    const unknown = await fetch(`${gateway.url}/v1/streams?alert=anger,rage`, { headers: auth });
    expect(unknown.status).toBe(400);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      // The key as a user saved it in the dashboard before.
      await page.addInitScript((saved) => localStorage.setItem('emotion-stream.api-key', saved), key);
      await page.goto(gateway.url);
      await page.waitForSelector('#overview .stream-tile[data-stream="channel-2"]');
      const tiles = await page.$$eval('#overview .stream-tile', (items) =>
        items.map((item) => ({
          stream: (item as HTMLElement).dataset.stream,
          badges: Array.from(item.querySelectorAll('.badge')).map((b) => b.textContent),
          shares: item.querySelectorAll('.shares span').length,
          last: item.querySelector('.last')?.textContent,
        })),
      );
      const tile = new Map(tiles.map((t) => [t.stream, t]));
      expect(tile.get('channel-1')!.badges).toEqual([expect.stringMatching(/^anger \d+%$/)]);
      expect(tile.get('channel-2')!.badges).toEqual([]);
      expect(tile.get('channel-1')!.last).toMatch(/^anger: /);
      // Live: a new stream appears without a reload.
      expect((await send('channel-3', ['I am a bit worried about tomorrow.'])).status).toBe(202);
      await page.waitForSelector('#overview .stream-tile[data-stream="channel-3"]', { timeout: 60_000 });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#overview-card').screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png') });
      // A click opens the stream view.
      await page.click('#overview .stream-tile[data-stream="channel-2"]');
      await page.waitForSelector('#connection[data-state="open"]');
      expect(await page.inputValue('#stream-id')).toBe('channel-2');
      await page.waitForFunction(() => document.querySelectorAll('#transcript .segment').length === 2);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
