import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EMOTION_SHARE_RULE, StreamOverview } from '../../gateway/streams/stream-overview.js';
import type { CoreEmotion, EmotionResult, StreamEvent } from '../../schemas/index.js';

function result(streamId: string, topLabel: CoreEmotion, text = 'a line', jobId: string | null = null) {
  return { streamId, topLabel, originalText: text, jobId } as EmotionResult;
}

function event(
  streamId: string,
  kind: StreamEvent['kind'],
  atMs: number,
  message: string | null = null,
): StreamEvent {
  return {
    streamId,
    kind,
    atMs,
    message,
    source: 'talk.wav',
    chunks: 0,
    audioMs: 0,
    language: null,
    languageShares: null,
  };
}

describe('stream overview', () => {
  it('lists streams by last activity with their last segment, totals and the last minute’s mix', () => {
    let now = 1_000_000;
    const overview = new StreamOverview(() => now);
    overview.onResult(result('news', 'joy', 'first'), now - 120_000);
    for (let i = 0; i < 6; i++)
      overview.onResult(result('news', i < 4 ? 'anger' : 'neutral', `line ${i}`), now - 1000 * i);
    overview.onResult(result('call', 'sadness', 'hello?'), now - 30_000);
    overview.onResult(result('csv:rows.csv', 'joy', 'row', 'job-1'), now);
    const [news, call, ...rest] = overview.list();
    expect(rest).toEqual([]);
    expect(news).toMatchObject({
      streamId: 'news',
      state: 'live',
      results: 7,
      totals: { joy: 1, anger: 4, neutral: 2 },
      window: { results: 6 },
      alerts: ['anger'],
      lastSegment: { text: 'line 0', topLabel: 'anger', atMs: now },
    });
    expect(news!.window.mix.anger).toBeCloseTo(4 / 6);
    // Under 5 results in the minute: no badge, whatever the share.
    expect(call).toMatchObject({ streamId: 'call', window: { results: 1, mix: { sadness: 1 } }, alerts: [] });
    // Badges for the emotions asked about.
    expect(overview.list(['sadness', 'neutral'])[0]!.alerts).toEqual([]);

    // Two minutes on: the minute is empty, the stream idle, its totals kept.
    now += 120_000;
    expect(overview.list()[0]).toMatchObject({
      streamId: 'news',
      state: 'idle',
      results: 7,
      window: { results: 0, mix: {} },
    });
    // An hour without activity and it is gone.
    now += 3_600_000;
    expect(overview.list()).toEqual([]);
  });

  it('takes the ingest’s own word for ended, stopped and failed streams', () => {
    const now = 5_000_000;
    const overview = new StreamOverview(() => now);
    overview.onEvent(event('radio', 'started', now - 5000));
    overview.onResult(result('radio', 'joy'), now - 4000);
    expect(overview.list()[0]).toMatchObject({ state: 'live', source: 'talk.wav' });
    overview.onEvent(event('radio', 'warning', now - 3000, 'no Romanian model'));
    overview.onEvent(event('radio', 'failed', now - 2000, 'the URL answered 404'));
    expect(overview.list()[0]).toMatchObject({
      state: 'failed',
      message: 'the URL answered 404',
      results: 1,
    });
  });

  it('gives each speaker of a stream its own mix, in the order first heard', () => {
    const now = 7_000_000;
    const overview = new StreamOverview(() => now);
    const spoken = (topLabel: CoreEmotion, speaker: string | null) =>
      ({ ...result('call', topLabel), speaker }) as EmotionResult;
    overview.onResult(spoken('anger', 'S2'), now - 3000);
    overview.onResult(spoken('anger', 'S1'), now - 2500);
    overview.onResult(spoken('neutral', 'S1'), now - 2000);
    overview.onResult(spoken('neutral', 'S10'), now - 1500);
    overview.onResult(spoken('joy', null), now - 1000);
    expect(overview.list()[0]!.speakers).toEqual([
      { speaker: 'S1', results: 2, mix: expect.objectContaining({ anger: 0.5, neutral: 0.5 }) },
      { speaker: 'S2', results: 1, mix: expect.objectContaining({ anger: 1 }) },
      { speaker: 'S10', results: 1, mix: expect.objectContaining({ neutral: 1 }) },
    ]);
    // Text streams have no speakers.
    overview.onResult(result('chat', 'joy'), now);
    expect(overview.list()[0]).toMatchObject({ streamId: 'chat', speakers: [] });
  });

  it('is the rule of the StreamEmotionShareHigh Prometheus alert', () => {
    const rules = parse(readFileSync('deploy/prometheus/emotion-stream.rules.yml', 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
    };
    const alert = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'StreamEmotionShareHigh')!;
    const expr = alert.expr.replace(/\s+/g, ' ');
    expect(expr).toContain(`emotion="${EMOTION_SHARE_RULE.emotions.join('|')}"`);
    expect(expr).toContain(`) > ${EMOTION_SHARE_RULE.share} and`);
    expect(expr).toContain(`* 60 >= ${EMOTION_SHARE_RULE.minResults}`);
    const windows = [...expr.matchAll(/\[(\d+)m\]/g)].map((m) => Number(m[1]) * 60_000);
    expect(new Set(windows)).toEqual(new Set([EMOTION_SHARE_RULE.windowMs]));
  });
});
