import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import type { CoreEmotion, EmotionResult, StreamEvent } from '../../schemas/index.js';

/**
 * The alert on a stream's emotion mix, as Prometheus' StreamEmotionShareHigh has it
 * (deploy/prometheus/emotion-stream.rules.yml; a test holds the two together): over the last
 * minute, an emotion is more than half of a stream's results, and the stream had at least 5
 * results in that minute.
 */
export const EMOTION_SHARE_RULE = {
  windowMs: 60_000,
  share: 0.5,
  minResults: 5,
  /** The emotions the shipped alert watches; a client may ask about others. */
  emotions: ['anger'] as CoreEmotion[],
};

/** A stream is idle when no result came for this long (and no ingest said it ended). */
const IDLE_AFTER_MS = 60_000;
/** A stream with no activity for this long leaves the overview. */
const KEEP_MS = 3_600_000;
const MAX_STREAMS = 1_000;
/** Speakers counted per stream (the transcribe stage's TRANSCRIBE_SPEAKERS_MAX is at most 32). */
const MAX_SPEAKERS = 32;
/** The minute is counted in buckets of this size (12 of them). */
const BUCKET_MS = 5_000;
const BUCKETS = EMOTION_SHARE_RULE.windowMs / BUCKET_MS;

export type StreamState = 'live' | 'idle' | 'ended' | 'stopped' | 'failed';

export interface StreamSummary {
  streamId: string;
  state: StreamState;
  firstAt: string;
  lastAt: string;
  /** Results seen since the stream appeared (this gateway's view), per top label and in all. */
  results: number;
  totals: Record<CoreEmotion, number>;
  /** The last minute: results, and each top label's share of them (empty when there were none). */
  window: { results: number; mix: Partial<Record<CoreEmotion, number>> };
  /** Emotions whose share of the last minute is over the rule's (see EMOTION_SHARE_RULE). */
  alerts: CoreEmotion[];
  lastSegment: { text: string; topLabel: CoreEmotion; atMs: number } | null;
  /** Why the ingest failed, or its last warning. */
  message: string | null;
  source: string | null;
  /** The spoken language decided for the stream, and how (its `language` event), once there is one. */
  language: { code: string; decision: string | null } | null;
  /**
   * Each speaker told apart in the stream (S1, S2, …, in the order first heard): results since
   * the stream appeared and each top label's share of them. Empty for text and unlabelled audio.
   */
  speakers: Array<{ speaker: string; results: number; mix: Partial<Record<CoreEmotion, number>> }>;
}

interface Tracked {
  streamId: string;
  firstMs: number;
  lastMs: number;
  ingest: StreamEvent['kind'] | null;
  message: string | null;
  source: string | null;
  language: StreamSummary['language'];
  totals: number[];
  /** Speaker → top-label counts, at most MAX_SPEAKERS of them. */
  speakers: Map<string, number[]>;
  /** Per bucket: its start and the top-label counts in it. */
  buckets: Array<{ startMs: number; counts: number[] }>;
  last: StreamSummary['lastSegment'];
}

const zeros = () => CORE_EMOTIONS.map(() => 0);

/** Each top label's share of `counts` (empty when there are none). */
function mixOf(counts: readonly number[]): Partial<Record<CoreEmotion, number>> {
  const results = counts.reduce((a, b) => a + b, 0);
  const mix: Partial<Record<CoreEmotion, number>> = {};
  if (results > 0) for (const [i, emotion] of CORE_EMOTIONS.entries()) mix[emotion] = counts[i]! / results;
  return mix;
}

/**
 * Every live and recent stream seen on the gateway's feed of results and stream events, with
 * rolling counts (issue 19: a team watching a channel line-up wants every stream on one screen).
 * CSV jobs are not streams and are left out. Memory is bounded: at most 1,000 streams, each a
 * minute of counts in 5-second buckets.
 */
export class StreamOverview {
  private readonly streams = new Map<string, Tracked>();

  constructor(private readonly now: () => number = Date.now) {}

  onResult(result: EmotionResult, atMs: number): void {
    if (result.jobId !== null) return;
    const stream = this.track(result.streamId, atMs);
    const label = CORE_EMOTIONS.indexOf(result.topLabel);
    stream.totals[label]! += 1;
    if (result.speaker) {
      const counts = stream.speakers.get(result.speaker) ?? zeros();
      if (stream.speakers.has(result.speaker) || stream.speakers.size < MAX_SPEAKERS) {
        counts[label]! += 1;
        stream.speakers.set(result.speaker, counts);
      }
    }
    const startMs = atMs - (atMs % BUCKET_MS);
    const slot = Math.floor(startMs / BUCKET_MS) % BUCKETS;
    let bucket = stream.buckets[slot];
    if (!bucket || bucket.startMs !== startMs) {
      if (bucket && bucket.startMs > startMs) return; // older than the window: counted in totals only
      bucket = { startMs, counts: zeros() };
      stream.buckets[slot] = bucket;
    }
    bucket.counts[label]! += 1;
    if (!stream.last || atMs >= stream.last.atMs)
      stream.last = { text: result.originalText, topLabel: result.topLabel, atMs };
  }

  onEvent(event: StreamEvent): void {
    const stream = this.track(event.streamId, event.atMs);
    if (event.kind === 'language') {
      if (event.language) stream.language = { code: event.language, decision: event.message };
      return;
    }
    if (event.kind === 'warning') {
      stream.message = event.message;
      return;
    }
    stream.ingest = event.kind;
    stream.source = event.source ?? stream.source;
    if (event.kind === 'failed' || event.kind === 'started') stream.message = event.message;
  }

  /** The streams, most recently active first; `alertOn` names the emotions to raise badges for. */
  list(alertOn: readonly CoreEmotion[] = EMOTION_SHARE_RULE.emotions): StreamSummary[] {
    const now = this.now();
    for (const [id, stream] of this.streams) if (now - stream.lastMs > KEEP_MS) this.streams.delete(id);
    return [...this.streams.values()]
      .sort((a, b) => b.lastMs - a.lastMs)
      .map((stream) => this.summary(stream, now, alertOn));
  }

  private summary(stream: Tracked, now: number, alertOn: readonly CoreEmotion[]): StreamSummary {
    const counts = zeros();
    for (const bucket of stream.buckets) {
      // A bucket counts while any of it lies within the last minute.
      if (bucket && bucket.startMs > now - EMOTION_SHARE_RULE.windowMs - BUCKET_MS && bucket.startMs <= now)
        bucket.counts.forEach((n, i) => {
          counts[i]! += n;
        });
    }
    const results = counts.reduce((a, b) => a + b, 0);
    const mix = mixOf(counts);
    const alerts =
      results >= EMOTION_SHARE_RULE.minResults
        ? alertOn.filter((emotion) => (mix[emotion] ?? 0) > EMOTION_SHARE_RULE.share)
        : [];
    const ended = stream.ingest === 'ended' || stream.ingest === 'stopped' || stream.ingest === 'failed';
    const state: StreamState = ended
      ? (stream.ingest as StreamState)
      : now - stream.lastMs <= IDLE_AFTER_MS
        ? 'live'
        : 'idle';
    return {
      streamId: stream.streamId,
      state,
      firstAt: new Date(stream.firstMs).toISOString(),
      lastAt: new Date(stream.lastMs).toISOString(),
      results: stream.totals.reduce((a, b) => a + b, 0),
      totals: Object.fromEntries(CORE_EMOTIONS.map((e, i) => [e, stream.totals[i]!])) as Record<
        CoreEmotion,
        number
      >,
      window: { results, mix },
      alerts,
      lastSegment: stream.last,
      message: stream.message,
      source: stream.source,
      language: stream.language,
      speakers: [...stream.speakers]
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([speaker, totals]) => ({
          speaker,
          results: totals.reduce((a, b) => a + b, 0),
          mix: mixOf(totals),
        })),
    };
  }

  private track(streamId: string, atMs: number): Tracked {
    let stream = this.streams.get(streamId);
    if (!stream) {
      stream = {
        streamId,
        firstMs: atMs,
        lastMs: atMs,
        ingest: null,
        message: null,
        source: null,
        language: null,
        totals: zeros(),
        speakers: new Map(),
        buckets: new Array(BUCKETS),
        last: null,
      };
      this.streams.set(streamId, stream);
      if (this.streams.size > MAX_STREAMS) this.evictLeastRecent();
    }
    stream.lastMs = Math.max(stream.lastMs, atMs);
    stream.firstMs = Math.min(stream.firstMs, atMs);
    return stream;
  }

  private evictLeastRecent(): void {
    let oldest: Tracked | undefined;
    for (const stream of this.streams.values()) if (!oldest || stream.lastMs < oldest.lastMs) oldest = stream;
    if (oldest) this.streams.delete(oldest.streamId);
  }
}
