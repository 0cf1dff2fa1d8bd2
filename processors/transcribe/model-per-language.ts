import type {
  AudioInput,
  IdentifyOptions,
  SpeakerEncoder,
  Transcript,
  TranscriptionEngine,
} from './engine.js';
import type { FasterWhisperEngine } from './faster-whisper-engine.js';
import type { LanguageEvidence } from './language-evidence.js';

/** Where unhinted chunks go when no WHISPER_LANGUAGE says otherwise: the English model, as before. */
const UNHINTED_LANGUAGE = 'en';

/**
 * A Whisper model per spoken language behind one engine (WHISPER_MODELS): each chunk goes to the
 * model of its language hint, `*` taking every language without a model of its own. English keeps
 * tiny.en (LibriVox WER 0.056, the fastest), Romanian and the rest go to multilingual base. Each
 * model has its own resident worker, started with the stage, so one process's memory holds one
 * model and a slow language never queues behind another's chunks.
 */
export class ModelPerLanguageEngine implements TranscriptionEngine {
  readonly name: string;
  private readonly engines: FasterWhisperEngine[];

  /**
   * @param routes language (ISO 639-1) or `*` → its engine; one engine may serve several languages.
   * @param unhinted the language assumed for chunks without a hint (WHISPER_LANGUAGE).
   */
  constructor(
    private readonly routes: ReadonlyMap<string, FasterWhisperEngine>,
    private readonly unhinted: string | undefined,
  ) {
    this.engines = [...new Set(routes.values())];
    if (this.engines.length === 0) throw new Error('no Whisper model configured (WHISPER_MODELS is empty)');
    this.name = this.engines[0]!.name;
  }

  /** Every route, as WHISPER_MODELS writes it: `en=tiny.en,*=base`. */
  get model(): string {
    return [...this.routes].map(([language, engine]) => `${language}=${engine.model}`).join(',');
  }

  /** The engine a chunk in `language` goes to (its hint, else the unhinted language). */
  engineFor(language: string | null | undefined): FasterWhisperEngine | undefined {
    const spoken = language ?? this.unhinted ?? UNHINTED_LANGUAGE;
    return this.routes.get(spoken) ?? this.routes.get('*');
  }

  supportsLanguage(language: string): boolean {
    return this.engineFor(language)?.supportsLanguage(language) ?? false;
  }

  /** Any model's worker runs the same voice encoder: the first one that has it. */
  get speakerEncoder(): SpeakerEncoder | undefined {
    return this.engines.find((engine) => engine.speakerEncoder)?.speakerEncoder;
  }

  /** Told by the first multilingual model (base in the embedded default). */
  async identifyLanguage(
    pcm: Buffer,
    candidates: readonly string[],
    options?: IdentifyOptions,
  ): Promise<LanguageEvidence> {
    const identifier = this.engines.find((engine) => engine.multilingualModel);
    if (!identifier)
      throw new Error(
        `no multilingual Whisper model among ${this.model}: languages cannot be told apart (add one: WHISPER_MODELS=en=tiny.en,*=base)`,
      );
    return identifier.identifyLanguage(pcm, candidates, options);
  }

  async start(): Promise<void> {
    await Promise.all(this.engines.map((engine) => engine.start()));
  }

  async run(inputs: readonly AudioInput[]): Promise<Transcript[]> {
    const byEngine = new Map<FasterWhisperEngine, number[]>();
    inputs.forEach((input, index) => {
      const engine = this.engineFor(input.langHint);
      if (!engine) throw new Error(`no Whisper model for language '${input.langHint}'`);
      byEngine.set(engine, [...(byEngine.get(engine) ?? []), index]);
    });
    const transcripts: Transcript[] = new Array(inputs.length);
    // The models' workers are separate processes: their chunks are transcribed side by side.
    await Promise.all(
      [...byEngine].map(async ([engine, indexes]) => {
        const answers = await engine.run(indexes.map((index) => inputs[index]!));
        indexes.forEach((index, i) => {
          transcripts[index] = { ...answers[i]!, model: engine.model };
        });
      }),
    );
    return transcripts;
  }

  async close(): Promise<void> {
    await Promise.all(this.engines.map((engine) => engine.close()));
  }
}
