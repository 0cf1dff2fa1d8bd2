import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AudioInput, EMPTY_TRANSCRIPT, type Transcript, type TranscriptionEngine } from './engine.js';
import { ResidentRecognizer } from './resident-recognizer.js';

/** pocketsphinx works in 10 ms frames. */
const FRAME_MS = 10;
/** Tokens that are not words: silence, noise, sentence marks. */
const FILLER = /^(<s>|<\/s>|<sil>|\[[A-Z_]+\]|\+\+.*\+\+)$/;

/**
 * Offline English recognition with CMU pocketsphinx (Debian `pocketsphinx` + `pocketsphinx-en-us`),
 * as a managed subprocess that stays up with its model loaded (see ResidentRecognizer) and is
 * started again when it dies.
 *
 * Confidence: pocketsphinx_batch reports log scores, not posteriors. We map the language-model
 * score per word to [0, 1] (a logistic around the typical value); it ranks transcripts, it is not a
 * calibrated probability.
 */
export class PocketsphinxEngine implements TranscriptionEngine {
  readonly name = 'pocketsphinx';
  readonly model = 'cmusphinx-en-us';
  private recognizer: Promise<ResidentRecognizer> | undefined;

  constructor(private readonly options: { modelDir: string; command?: string; timeoutMs?: number }) {
    const command = options.command ?? 'pocketsphinx_batch';
    if (spawnSync('sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`${command} is not installed (Debian: apt-get install pocketsphinx)`);
    }
    for (const file of ['en-us', 'en-us.lm.bin', 'cmudict-en-us.dict']) {
      if (!existsSync(join(options.modelDir, file))) {
        throw new Error(
          `pocketsphinx model not found: ${join(options.modelDir, file)} is missing (Debian: apt-get install pocketsphinx-en-us, or set POCKETSPHINX_MODEL_DIR)`,
        );
      }
    }
  }

  /** The Debian model is US English only. */
  supportsLanguage(language: string): boolean {
    return language === 'en';
  }

  async run(inputs: readonly AudioInput[]): Promise<Transcript[]> {
    for (const input of inputs) {
      if (input.sampleRate !== 16_000)
        throw new Error(`pocketsphinx needs 16 kHz audio, got ${input.sampleRate} Hz`);
    }
    const recognizer = await this.running();
    // All queued at once: the process decodes them in order while we wait.
    return Promise.all(
      inputs.map(async (input) => {
        // Under 100 ms there is no word to find; pocketsphinx would only complain.
        if (input.pcm.length < 3200) return EMPTY_TRANSCRIPT('en');
        const line = await recognizer.recognize(input.pcm);
        return parseHypseg(line).values().next().value ?? EMPTY_TRANSCRIPT('en');
      }),
    );
  }

  /**
   * Starts the resident process now rather than on the first chunk, so a live stream's first
   * result does not also wait for the model to load (about a second), and a broken installation
   * fails the service at start.
   */
  async start(): Promise<void> {
    await this.running();
  }

  /** The resident process, started on first use and again after it died. */
  private async running(): Promise<ResidentRecognizer> {
    const current = await this.recognizer?.catch(() => undefined);
    if (current?.alive) return current;
    const model = this.options.modelDir;
    this.recognizer = ResidentRecognizer.start({
      command: this.options.command ?? 'pocketsphinx_batch',
      args: [
        ...['-adcin', 'yes', '-adchdr', '0', '-samprate', '16000'],
        // Silence frames kept: with them removed (the default) word times count speech only, so a
        // segment after a pause was stamped earlier than it was said.
        ...['-remove_silence', 'no'],
        ...[
          '-hmm',
          join(model, 'en-us'),
          '-lm',
          join(model, 'en-us.lm.bin'),
          '-dict',
          join(model, 'cmudict-en-us.dict'),
        ],
      ],
      timeoutMs: this.options.timeoutMs ?? 120_000,
    });
    return this.recognizer;
  }

  async close(): Promise<void> {
    const current = await this.recognizer?.catch(() => undefined);
    await current?.close();
  }
}

/**
 * Parses `-hypseg` lines: `<id> S <scale> T <total> A <acoustic> L <lm> (<frame> <ascr> <lscr> <word>)* <endframe>`.
 * Alternative pronunciations (`word(2)`) are reported as the word.
 */
export function parseHypseg(text: string): Map<string, Transcript> {
  const transcripts = new Map<string, Transcript>();
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 9) continue;
    const id = tokens[0]!;
    const entries = tokens.slice(9);
    const words: Array<{ start: number; word: string; lm: number }> = [];
    const ends: number[] = [];
    for (let i = 0; i + 3 < entries.length; i += 4) {
      words.push({ start: Number(entries[i]), lm: Number(entries[i + 2]), word: entries[i + 3]! });
    }
    for (let i = 0; i < words.length; i++)
      ends.push(i + 1 < words.length ? words[i + 1]!.start : Number(entries.at(-1)));
    const segments = words
      .map((w, i) => ({ ...w, end: ends[i]! }))
      .filter((w) => !FILLER.test(w.word))
      .map((w) => ({
        startMs: w.start * FRAME_MS,
        endMs: w.end * FRAME_MS,
        text: w.word.replace(/\(\d+\)$/, ''),
        lm: w.lm,
      }));
    const meanLm = segments.length ? segments.reduce((sum, s) => sum + s.lm, 0) / segments.length : 0;
    transcripts.set(id, {
      text: segments.map((s) => s.text).join(' '),
      segments: segments.map(({ lm: _lm, ...segment }) => segment),
      language: 'en',
      confidence: segments.length ? 1 / (1 + Math.exp(-(meanLm + 400) / 100)) : 0,
    });
  }
  return transcripts;
}
