import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RetryableError } from '../../runtime/errors.js';
import { type AudioInput, EMPTY_TRANSCRIPT, type Transcript, type TranscriptionEngine } from './engine.js';

/** pocketsphinx works in 10 ms frames. */
const FRAME_MS = 10;
/** Tokens that are not words: silence, noise, sentence marks. */
const FILLER = /^(<s>|<\/s>|<sil>|\[[A-Z_]+\]|\+\+.*\+\+)$/;

/**
 * Offline English recognition with CMU pocketsphinx (Debian `pocketsphinx` + `pocketsphinx-en-us`).
 * Each stage batch is one `pocketsphinx_batch` run over all its chunks, so the model is loaded
 * once per batch rather than once per chunk (about 1.5 s on the development machine).
 *
 * Confidence: pocketsphinx_batch reports log scores, not posteriors. We map the language-model
 * score per word to [0, 1] (a logistic around the typical value); it ranks transcripts, it is not a
 * calibrated probability.
 */
export class PocketsphinxEngine implements TranscriptionEngine {
  readonly name = 'pocketsphinx';
  readonly model: string;

  constructor(private readonly options: { modelDir: string; command?: string; timeoutMs?: number }) {
    for (const file of ['en-us', 'en-us.lm.bin', 'cmudict-en-us.dict']) {
      if (!existsSync(join(options.modelDir, file))) {
        throw new Error(
          `pocketsphinx model not found: ${join(options.modelDir, file)} is missing (Debian: apt-get install pocketsphinx-en-us, or set POCKETSPHINX_MODEL_DIR)`,
        );
      }
    }
    this.model = 'cmusphinx-en-us';
  }

  transcribe(pcm: Buffer, sampleRate: number, langHint?: string | null): Promise<Transcript> {
    return this.transcribeBatch([{ pcm, sampleRate, langHint }]).then((all) => all[0]!);
  }

  async transcribeBatch(inputs: readonly AudioInput[]): Promise<Transcript[]> {
    for (const input of inputs) {
      if (input.sampleRate !== 16_000)
        throw new Error(`pocketsphinx needs 16 kHz audio, got ${input.sampleRate} Hz`);
    }
    // Chunks too short for a word (under 100 ms) are silence to pocketsphinx; skip the process.
    const audible = inputs
      .map((input, i) => ({ input, id: `u${i}` }))
      .filter((u) => u.input.pcm.length >= 3200);
    const transcripts = inputs.map(() => EMPTY_TRANSCRIPT('en'));
    if (audible.length === 0) return transcripts;
    const dir = await mkdtemp(join(tmpdir(), 'pocketsphinx-'));
    try {
      await Promise.all(audible.map((u) => writeFile(join(dir, `${u.id}.raw`), u.input.pcm)));
      await writeFile(join(dir, 'ctl'), `${audible.map((u) => u.id).join('\n')}\n`);
      const segments = await this.run(dir);
      for (const u of audible) {
        const parsed = segments.get(u.id);
        if (parsed) transcripts[Number(u.id.slice(1))] = parsed;
      }
      return transcripts;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private run(dir: string): Promise<Map<string, Transcript>> {
    const model = this.options.modelDir;
    const args = [
      ['-ctl', join(dir, 'ctl')],
      ['-cepdir', dir],
      ['-cepext', '.raw'],
      ['-adcin', 'yes'],
      ['-adchdr', '0'],
      ['-samprate', '16000'],
      ['-hmm', join(model, 'en-us')],
      ['-lm', join(model, 'en-us.lm.bin')],
      ['-dict', join(model, 'cmudict-en-us.dict')],
      ['-hypseg', join(dir, 'hypseg')],
      ['-logfn', join(dir, 'log')],
    ].flat();
    return new Promise((resolve, reject) => {
      execFile(
        this.options.command ?? 'pocketsphinx_batch',
        args,
        { timeout: this.options.timeoutMs ?? 300_000 },
        async (error) => {
          if (error) {
            const code = (error as NodeJS.ErrnoException).code;
            // Not installed is a deployment error; anything else (killed, crashed) is worth a retry.
            if (code === 'ENOENT') {
              return reject(
                new Error('pocketsphinx_batch is not installed (Debian: apt-get install pocketsphinx)'),
              );
            }
            return reject(
              new RetryableError(`pocketsphinx_batch failed: ${error.message}`, { cause: error }),
            );
          }
          try {
            resolve(parseHypseg(await readFile(join(dir, 'hypseg'), 'utf8')));
          } catch (readError) {
            reject(new RetryableError(`pocketsphinx_batch wrote no output: ${(readError as Error).message}`));
          }
        },
      );
    });
  }

  async close(): Promise<void> {}
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
