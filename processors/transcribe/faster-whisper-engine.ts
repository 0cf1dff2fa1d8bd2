import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UnprocessableRecordError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/logger.js';
import { packageRoot } from '../../runtime/package-root.js';
import { withCommaBelow } from '../shared/romanian-letters.js';
import { AsrWorker, type Decoding, type WorkerAnswer } from './asr-worker.js';
import {
  type AudioInput,
  EMPTY_TRANSCRIPT,
  type IdentifyOptions,
  type SpeakerEncoder,
  type Transcript,
  type TranscriptionEngine,
} from './engine.js';
import { decodingFor } from './language-decoding.js';
import { type LanguageEvidence, tokenEvidence, trialEvidence } from './language-evidence.js';

/** The languages multilingual Whisper models were trained on (faster_whisper.tokenizer._LANGUAGE_CODES). */
const WHISPER_LANGUAGES = new Set(
  (
    'af,am,ar,as,az,ba,be,bg,bn,bo,br,bs,ca,cs,cy,da,de,el,en,es,et,eu,fa,fi,fo,fr,gl,gu,ha,haw,he,hi,' +
    'hr,ht,hu,hy,id,is,it,ja,jw,ka,kk,km,kn,ko,la,lb,ln,lo,lt,lv,mg,mi,mk,ml,mn,mr,ms,mt,my,ne,nl,nn,' +
    'no,oc,pa,pl,ps,pt,ro,ru,sa,sd,si,sk,sl,sn,so,sq,sr,su,sv,sw,ta,te,tg,th,tk,tl,tr,tt,uk,ur,uz,vi,' +
    'yi,yo,zh,yue'
  ).split(','),
);

/** The worker script, from the source tree whether this module runs from source or from dist/. */
const WORKER_SCRIPT = join(packageRoot(), 'processors', 'transcribe', 'worker', 'faster_whisper_worker.py');

export interface FasterWhisperOptions {
  /** The venv's python (see asr-runtime.ts). */
  python: string;
  /** A CTranslate2 Whisper directory, or a model id faster-whisper downloads (tiny.en, large-v3, …). */
  model: string;
  /** What results report as the model (a directory's name is not telling: the shipped one is tiny.en). */
  modelName: string;
  device: 'cpu' | 'cuda';
  computeType: string;
  threads: number;
  beamSize: number;
  /** Spoken language when a chunk has no hint; multilingual models detect it when unset. */
  language: string | undefined;
  /** Where model ids are downloaded to; faster-whisper's own cache when unset. */
  downloadDir: string | undefined;
  allowDownload: boolean;
  /** A chunk the worker has not answered in this long fails the batch as retryable. */
  timeoutMs: number;
  /** resemblyzer's voice encoder weights (install-asr.sh's speakerModel), for speaker embeddings. */
  speakerModel?: string;
  /** Decoding choices per language (language-decoding.ts's table unless given). */
  decoding?: Readonly<Record<string, Decoding>>;
  logger: Logger;
}

/**
 * Whisper through faster-whisper (CTranslate2), int8 on CPU or float16 on CUDA, in a resident Python
 * worker: the model loads once per stage instance, a batch's chunks are queued to the worker at once
 * and answered in order, and a worker that dies is started again on the next batch (its batch fails
 * as retryable, so the stage retries it in a new transaction).
 *
 * Confidence is the exponent of the mean token log-probability, weighted by segment duration: a
 * probability per token, comparable across chunks of one model.
 */
export class FasterWhisperEngine implements TranscriptionEngine {
  readonly name = 'faster-whisper';
  private worker: Promise<AsrWorker> | undefined;
  private multilingual = false;
  /**
   * The worker's GE2E voice encoder (worker/speaker_encoder.py), run where the chunk's audio
   * already is; none without speakerModel.
   */
  readonly speakerEncoder: SpeakerEncoder | undefined;

  constructor(private readonly options: FasterWhisperOptions) {
    if (!existsSync(options.python)) {
      throw new Error(
        `faster-whisper's python ${options.python} does not exist (install it with deploy/local/install-asr.sh)`,
      );
    }
    this.speakerEncoder = options.speakerModel
      ? {
          embed: async (pcm, spans) => {
            const answer = await (await this.running()).embed(pcm, spans);
            if ('error' in answer) throw new UnprocessableRecordError(`faster-whisper: ${answer.error}`);
            return answer.embeddings;
          },
        }
      : undefined;
  }

  get model(): string {
    return this.options.modelName;
  }

  /** Whether the model hears many languages (known once its worker has started). */
  get multilingualModel(): boolean {
    return this.multilingual;
  }

  /** English-only Whisper models (`*.en`) hear only English; multilingual ones any Whisper language. */
  supportsLanguage(language: string): boolean {
    return this.multilingual ? WHISPER_LANGUAGES.has(language) : language === 'en';
  }

  /** The worker's pid, for operators and the worker-crash test. */
  async workerPid(): Promise<number | undefined> {
    return (await this.worker?.catch(() => undefined))?.pid;
  }

  /** Loads the model now, so a bad model fails the service at start and the first chunk does not wait. */
  async start(): Promise<void> {
    await this.running();
  }

  async run(inputs: readonly AudioInput[]): Promise<Transcript[]> {
    for (const input of inputs) {
      if (input.sampleRate !== 16_000) {
        throw new UnprocessableRecordError(`faster-whisper needs 16 kHz audio, got ${input.sampleRate} Hz`);
      }
    }
    const worker = await this.running();
    return Promise.all(
      inputs.map(async (input) => {
        // Under 100 ms there is no word to hear; Whisper would only guess.
        if (input.pcm.length < 3200) return EMPTY_TRANSCRIPT(this.requestLanguage(input.langHint) ?? 'en');
        const language = this.requestLanguage(input.langHint);
        const answer = await worker.transcribe(
          input.pcm,
          language,
          decodingFor(language, this.options.decoding),
        );
        return transcriptOf(answer, Math.round(input.pcm.length / 32));
      }),
    );
  }

  /**
   * Which candidate a chunk is in (language-evidence.ts): Whisper's language token when it settles
   * it, else one greedy decode per candidate, without the temperature fallback, scored by how
   * likely each decode is.
   */
  async identifyLanguage(
    pcm: Buffer,
    candidates: readonly string[],
    options: IdentifyOptions = {},
  ): Promise<LanguageEvidence> {
    const worker = await this.running();
    if (!this.multilingual) throw new Error(`${this.model} is English-only: it cannot tell languages apart`);
    const detected = await worker.detect(pcm, candidates);
    if ('error' in detected) throw new UnprocessableRecordError(`faster-whisper: ${detected.error}`);
    const token = tokenEvidence(detected.languages, candidates);
    if (token.decisive || options.trials === false) return token;
    const trials = await Promise.all(
      candidates.map(async (language) => {
        const answer = await worker.transcribe(pcm, language, { beamSize: 1, fallback: false });
        if ('error' in answer) throw new UnprocessableRecordError(`faster-whisper: ${answer.error}`);
        return [language, answer] as const;
      }),
    );
    return trialEvidence(Object.fromEntries(trials));
  }

  private requestLanguage(hint: string | null | undefined): string | null {
    return workerLanguage(hint, this.options.language, this.multilingual);
  }

  async close(): Promise<void> {
    const current = await this.worker?.catch(() => undefined);
    await current?.close();
  }

  private async running(): Promise<AsrWorker> {
    const current = await this.worker?.catch(() => undefined);
    if (current?.alive) return current;
    const { options } = this;
    if (current)
      options.logger.warn({ engine: this.name }, 'the faster-whisper worker died; starting another');
    this.worker = AsrWorker.start({
      python: options.python,
      script: WORKER_SCRIPT,
      args: workerArgs(options),
      timeoutMs: options.timeoutMs,
      logger: options.logger,
    });
    const worker = await this.worker;
    this.multilingual = worker.ready.multilingual;
    return worker;
  }
}

/**
 * An engine on a local model with the offline defaults (CPU, int8, one thread, greedy, nothing
 * downloaded), for the benchmarks and tests that compare models or decoding choices.
 */
export function localWhisperEngine(
  options: Pick<FasterWhisperOptions, 'python' | 'model' | 'modelName' | 'logger'> &
    Partial<FasterWhisperOptions>,
): FasterWhisperEngine {
  return new FasterWhisperEngine({
    device: 'cpu',
    computeType: 'int8',
    threads: 1,
    beamSize: 1,
    language: undefined,
    downloadDir: undefined,
    allowDownload: false,
    timeoutMs: 300_000,
    ...options,
  });
}

/**
 * The language the worker is told for a chunk: the chunk's hint, else the configured language;
 * without either a multilingual model detects it (null) and an English-only one hears English.
 */
export function workerLanguage(
  hint: string | null | undefined,
  configured: string | undefined,
  multilingual: boolean,
): string | null {
  const language = hint ?? configured ?? null;
  if (language === null) return multilingual ? null : 'en';
  return language;
}

/** The worker's command-line arguments for these options. */
export function workerArgs(options: Omit<FasterWhisperOptions, 'python' | 'logger'>): string[] {
  return [
    ...['--model', options.model],
    ...['--device', options.device],
    ...['--compute-type', options.computeType],
    ...['--threads', String(options.threads)],
    ...['--beam-size', String(options.beamSize)],
    ...(options.downloadDir ? ['--download-root', options.downloadDir] : []),
    ...(options.allowDownload ? [] : ['--local-files-only']),
    ...(options.speakerModel ? ['--speaker-model', options.speakerModel] : []),
  ];
}

/**
 * A worker answer as a Transcript; an answer that is an error makes the chunk unprocessable.
 * Whisper's timestamps are on a 20 ms grid and its last one can pass the end of the audio: they
 * are kept within the chunk's `durationMs`, so consecutive chunks' segments never overlap.
 */
export function transcriptOf(answer: WorkerAnswer, durationMs: number): Transcript {
  if ('error' in answer) throw new UnprocessableRecordError(`faster-whisper: ${answer.error}`);
  const segments = answer.segments.map((s) => ({
    ...s,
    startMs: Math.min(s.startMs, durationMs),
    endMs: Math.min(s.endMs, durationMs),
  }));
  const duration = segments.reduce((sum, s) => sum + Math.max(1, s.endMs - s.startMs), 0);
  const meanLogprob =
    duration > 0
      ? segments.reduce((sum, s) => sum + s.avgLogprob * Math.max(1, s.endMs - s.startMs), 0) / duration
      : Number.NEGATIVE_INFINITY;
  // Whisper writes Romanian's ș and ț with a cedilla now and then (ş, ţ): the standard forms go on.
  const letters = answer.language === 'ro' ? withCommaBelow : (text: string) => text;
  return {
    text: letters(segments.map((s) => s.text).join(' ')),
    segments: segments.map((s) => ({ startMs: s.startMs, endMs: s.endMs, text: letters(s.text) })),
    language: answer.language,
    confidence: segments.length > 0 ? Math.min(1, Math.exp(meanLogprob)) : 0,
  };
}
