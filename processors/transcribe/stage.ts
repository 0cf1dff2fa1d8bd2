import type { KeyedState } from '../../runtime/stage/keyed-state.js';
import type { InputRecord, Outcome, OutputRecord, StageHandler } from '../../runtime/stage/types.js';
import { traceWork } from '../../runtime/tracing/record-spans.js';
import { type AudioChunk, newTextSegment, type StreamEvent, type TextSegment } from '../../schemas/index.js';
import { type Transcript, type TranscriptionEngine, unsupportedLanguage } from './engine.js';
import { pcmLevel } from './pcm-level.js';
import { speakerTurns } from './speaker-turns.js';
import {
  decide,
  describeDecision,
  EMPTY_TALLY,
  hearableBy,
  type LanguageDecision,
  type LanguageDecisionSettings,
  leaderOf,
  type StreamLanguage,
  withEvidence,
} from './stream-language.js';
import { NO_SPEAKERS, type SpeakerSettings, type StreamSpeakers } from './stream-speakers.js';

/** What becomes of one chunk: skipped (a language no model hears), silence, or speech in a language. */
type ChunkPlan =
  | { kind: 'unsupported' }
  | { kind: 'silence'; events: OutputRecord<StreamEvent>[] }
  | { kind: 'speech'; language: string; events: OutputRecord<StreamEvent>[] };

/**
 * audio.chunks → segments.raw: one TextSegment per chunk with speech, none for silence. The
 * segment keeps the chunk's place in the stream (id `<stream>:<seq>`, start/end in stream time
 * from the recognised words) and is keyed by stream id, so a stream's segments stay in order
 * whichever instance transcribes them. Chunks are cut in pauses by the producer (see
 * producers/audio/audio-chunker.ts), so each is transcribed on its own.
 *
 * **One language per stream.** A chunk's language hint is used as given. A stream without one gets
 * its language decided once, from its first speech, among the deployment's languages
 * (TRANSCRIBE_LANGUAGES; stream-language.ts): each chunk's evidence is added until one language's
 * share reaches the confidence floor, or the fallback is taken after TRANSCRIBE_LANGUAGE_DECIDE_WITHIN_MS
 * of speech. Until then a chunk is transcribed in the language leading so far. The decision is a
 * `language` stream event and the stream's keyed state (written in the stage's transaction,
 * restored after a restart), so it never changes for the rest of the stream. A hinted stream's
 * first speech is checked once: when Whisper's language token clearly says another candidate,
 * the stream gets a `warning` (the hint is still used: the user chose it).
 *
 * **Who is speaking.** With a voice encoder (the engine's `speakerEncoder`) and `speakers` given,
 * each Whisper segment of a chunk gets a voice embedding and joins one of the stream's speakers
 * (stream-speakers.ts; the speakers are keyed state like the language). Consecutive segments of one
 * speaker make one TextSegment with `speaker` (`S1`, `S2`, …); a chunk holding a change of speaker
 * becomes one TextSegment per turn, the first keeping the id `<stream>:<seq>`, the next ones
 * `<stream>:<seq>.2`, `.3` (all with the chunk's seq, in stream-time order).
 *
 * A chunk in a language the engine cannot hear (Romanian for an English-only model) is not
 * transcribed: the stream gets a `warning` event on stream.events saying why, once per stream and
 * stage instance, instead of English-sounding gibberish on its results.
 */
export class TranscribeHandler implements StageHandler<AudioChunk, TextSegment | StreamEvent> {
  /** Streams already warned about, oldest first; bounded so a long-lived stage does not grow. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly engine: TranscriptionEngine,
    private readonly outputTopic: string,
    private readonly silenceLevel: number,
    private readonly languages: {
      settings: LanguageDecisionSettings;
      /** Each stream's language state, by the input partition its chunks come from. */
      state: KeyedState<StreamLanguage>;
    },
    /** stream.events, where warnings and decisions go; none (replay) means they are not told. */
    private readonly eventsTopic?: string,
    private readonly speakers?: {
      settings: SpeakerSettings;
      /** Each stream's speakers, by the input partition its chunks come from. */
      state: KeyedState<StreamSpeakers>;
    },
  ) {}

  async process(records: InputRecord<AudioChunk>[]): Promise<Outcome<TextSegment | StreamEvent>[]> {
    // One chunk after another: a stream's decision is made from its chunks in order.
    const plans: ChunkPlan[] = [];
    for (const record of records) plans.push(await this.plan(record));
    const spoken = records.flatMap((record, i) => {
      const plan = plans[i]!;
      return plan.kind === 'speech' ? [{ record, language: plan.language }] : [];
    });
    const speech = spoken.map(({ record, language }) => ({
      pcm: record.value.pcm,
      sampleRate: record.value.sampleRate,
      langHint: language,
    }));
    // The Whisper worker's time, a span under each chunk's transcribe span.
    const transcripts =
      speech.length > 0
        ? await traceWork(
            spoken.map(({ record }) => record),
            'whisper',
            () => this.engine.run(speech, {}),
            {
              'emotion_stream.engine': this.engine.name,
            },
          )
        : [];
    const outcomes: Outcome<TextSegment | StreamEvent>[] = [];
    let next = 0;
    // In order again: a stream's speakers are assigned from its chunks as they were spoken.
    for (const [i, record] of records.entries()) {
      const plan = plans[i]!;
      if (plan.kind === 'unsupported') {
        outcomes.push({ outputs: this.languageWarning(record.value) });
        continue;
      }
      const events: OutputRecord<TextSegment | StreamEvent>[] = plan.events;
      const transcript = plan.kind === 'speech' ? transcripts[next++] : undefined;
      if (plan.kind === 'silence' || !transcript || transcript.text.trim() === '') {
        outcomes.push({ outputs: events });
        continue;
      }
      const segments = (await this.turns(record, transcript)).map((turn, k) => ({
        topic: this.outputTopic,
        key: record.value.streamId,
        value: this.segment(record.value, turn.transcript, plan.language, turn.speaker, k),
      }));
      outcomes.push({ outputs: [...events, ...segments] });
    }
    return outcomes;
  }

  /**
   * The chunk's transcript as one part per speaker turn: the whole transcript, speaker unknown,
   * without a voice encoder.
   */
  private async turns(
    record: InputRecord<AudioChunk>,
    transcript: Transcript,
  ): Promise<Array<{ speaker: string | null; transcript: Transcript }>> {
    const encoder = this.engine.speakerEncoder;
    const { speakers } = this;
    const segments = transcript.segments;
    if (!encoder || !speakers || segments.length === 0) return [{ speaker: null, transcript }];
    const chunk = record.value;
    const told = await traceWork([record], 'speaker-turns', () =>
      speakerTurns(
        encoder,
        speakers.state.get(record.partition, chunk.streamId) ?? NO_SPEAKERS,
        chunk,
        transcript,
        speakers.settings,
      ),
    );
    speakers.state.put(record.partition, chunk.streamId, told.speakers);
    return told.turns;
  }

  private async plan(record: InputRecord<AudioChunk>): Promise<ChunkPlan> {
    const chunk = record.value;
    const hint = chunk.languageHint;
    if (hint !== null && !this.engine.supportsLanguage(hint)) return { kind: 'unsupported' };
    const audible = pcmLevel(chunk.pcm) >= this.silenceLevel;
    if (hint !== null) {
      const events = audible ? await this.checkHint(record, hint) : [];
      return audible ? { kind: 'speech', language: hint, events } : { kind: 'silence', events };
    }
    const { state } = this.languages;
    const settings = this.hearableSettings();
    const known = state.get(record.partition, chunk.streamId);
    if (!audible) return { kind: 'silence', events: [] };
    if (known && 'decision' in known)
      return { kind: 'speech', language: known.decision.language, events: [] };
    if (settings.candidates.length === 1 || !this.engine.identifyLanguage)
      return { kind: 'speech', language: settings.candidates[0]!, events: [] };
    const evidence = await this.engine.identifyLanguage(chunk.pcm, settings.candidates);
    const tally = withEvidence(
      known && 'tally' in known ? known.tally : EMPTY_TALLY,
      evidence,
      chunk.durationMs,
    );
    const decision = decide(tally, settings);
    if (!decision) {
      state.put(record.partition, chunk.streamId, { tally });
      return { kind: 'speech', language: leaderOf(tally, settings.candidates), events: [] };
    }
    state.put(record.partition, chunk.streamId, { decision });
    return { kind: 'speech', language: decision.language, events: this.decisionEvent(chunk, decision) };
  }

  private hearableSettings(): LanguageDecisionSettings {
    return hearableBy(this.languages.settings, (language) => this.engine.supportsLanguage(language));
  }

  /**
   * A hinted stream's first speech, checked once against Whisper's language token: a warning when
   * it clearly says another of the deployment's languages.
   */
  private async checkHint(
    record: InputRecord<AudioChunk>,
    hint: string,
  ): Promise<OutputRecord<StreamEvent>[]> {
    const { state } = this.languages;
    const settings = this.hearableSettings();
    const chunk = record.value;
    if (
      !this.engine.identifyLanguage ||
      settings.candidates.length < 2 ||
      !settings.candidates.includes(hint)
    )
      return [];
    if (state.get(record.partition, chunk.streamId)) return [];
    const evidence = await this.engine.identifyLanguage(chunk.pcm, settings.candidates, { trials: false });
    state.put(record.partition, chunk.streamId, { hintChecked: hint });
    const [heard, share] = Object.entries(evidence.shares).sort((a, b) => b[1] - a[1])[0]!;
    if (!evidence.decisive || heard === hint) return [];
    return this.event(chunk, {
      kind: 'warning',
      message: `the stream's language is given as '${hint}' but its first speech sounds like '${heard}' (${share.toFixed(2)} of ${settings.candidates.join(', ')}); it is transcribed as '${hint}'. If the language is wrong, restart the stream with language '${heard}' or auto`,
    });
  }

  private decisionEvent(chunk: AudioChunk, decision: LanguageDecision): OutputRecord<StreamEvent>[] {
    return this.event(chunk, {
      kind: 'language',
      message: describeDecision(decision),
      language: decision.language,
      languageShares: decision.shares,
    });
  }

  private event(chunk: AudioChunk, fields: Pick<StreamEvent, 'kind' | 'message'> & Partial<StreamEvent>) {
    if (!this.eventsTopic) return [];
    return [
      {
        topic: this.eventsTopic,
        key: chunk.streamId,
        value: {
          streamId: chunk.streamId,
          source: chunk.source,
          chunks: chunk.seq + 1,
          audioMs: chunk.startMs + chunk.durationMs,
          atMs: Date.now(),
          language: null,
          languageShares: null,
          ...fields,
        },
      },
    ];
  }

  private languageWarning(chunk: AudioChunk): OutputRecord<StreamEvent>[] {
    if (!this.eventsTopic || this.warned.has(chunk.streamId)) return [];
    this.warned.add(chunk.streamId);
    if (this.warned.size > 10_000) this.warned.delete(this.warned.values().next().value!);
    const message = `${unsupportedLanguage(this.engine, chunk.languageHint!)}; its audio is skipped`;
    return this.event(chunk, { kind: 'warning', message });
  }

  private segment(
    chunk: AudioChunk,
    transcript: Transcript,
    language: string,
    speaker: string | null,
    turn: number,
  ): TextSegment {
    const first = transcript.segments[0];
    const last = transcript.segments.at(-1);
    return newTextSegment({
      id: turn === 0 ? `${chunk.streamId}:${chunk.seq}` : `${chunk.streamId}:${chunk.seq}.${turn + 1}`,
      streamId: chunk.streamId,
      seq: chunk.seq,
      origin: 'ASR',
      text: transcript.text,
      language,
      speaker,
      startMs: chunk.startMs + (first?.startMs ?? 0),
      endMs: chunk.startMs + (last?.endMs ?? chunk.durationMs),
      asr: {
        engine: this.engine.name,
        model: transcript.model ?? this.engine.model,
        confidence: transcript.confidence,
      },
      // The stage loop appends this stage's stamp; the producer's stays first.
      trace: chunk.trace,
    });
  }
}
