/**
 * Romanian speech offline: the project's 36 Romanian sentences (eval/speech-ro/sentences.json, each
 * written to carry one emotion or none) spoken by espeak-ng's Romanian voice, one recording each,
 * transcribed by Whisper base (multilingual, int8, one thread) with the language known, under each
 * decoding choice: greedy (base's plain figure), beam 5, beam 5 with a Romanian initial prompt (what
 * ships, processors/transcribe/language-decoding.ts), and what ships followed by the correct
 * stage's Romanian dictionary (what the pipeline passes on). Per choice: WER (mean of the
 * sentences' and over all words), real-time factor, and how many sentences the Romanian classifier
 * gives their intended emotion, against the written sentences. Also each worker's peak memory
 * (tiny.en and base, one process each). `--per-sentence` prints every sentence's WER.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../cli/config.js';
import { createEmotionEngine, resolveRegistryModels } from '../processors/classify/pipeline.js';
import { createCorrectionEngine } from '../processors/correct/pipeline.js';
import { findAsrRuntime } from '../processors/transcribe/asr-runtime.js';
import type { Decoding } from '../processors/transcribe/asr-worker.js';
import { transcribeOne } from '../processors/transcribe/engine.js';
import { localWhisperEngine } from '../processors/transcribe/faster-whisper-engine.js';
import { LANGUAGE_DECODING } from '../processors/transcribe/language-decoding.js';
import { createLogger } from '../runtime/logger.js';
import { packageRoot } from '../runtime/package-root.js';
import { words as referenceWords, spokenPcm, wordErrorRate } from '../test/support/audio.js';
import { peakMemoryMiB } from './process-cpu.js';
import { format, printTable } from './table.js';

const SAMPLE_RATE = 16_000;

interface Sentence {
  text: string;
  emotion: string;
}

export function romanianSentences(): Sentence[] {
  const file = join(packageRoot(), 'eval', 'speech-ro', 'sentences.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { sentences: Sentence[] }).sentences;
}

export async function main(json: boolean): Promise<void> {
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const config = loadConfig();
  const runtime = findAsrRuntime(config.transcribe.asrRuntimeDir);
  if ('missing' in runtime) throw new Error(runtime.missing);
  const base = runtime.models?.base;
  if (!base) throw new Error('Whisper base is not installed (deploy/local/install-asr.sh installs it)');
  const sentences = romanianSentences();
  const audio = sentences.map((sentence) => spokenPcm(sentence.text, 'ro'));
  const audioSeconds = audio.reduce((sum, pcm) => sum + pcm.length / 2 / SAMPLE_RATE, 0);

  const choices: Array<{ name: string; decoding: Decoding }> = [
    { name: 'greedy (plain base)', decoding: { beamSize: 1 } },
    { name: 'beam 5', decoding: { beamSize: 5 } },
    { name: 'beam 5 + Romanian prompt (shipped)', decoding: LANGUAGE_DECODING.ro! },
    { name: "shipped + Whisper's VAD in the chunk", decoding: { ...LANGUAGE_DECODING.ro!, vadFilter: true } },
  ];
  const engineWith = (model: string, modelName: string, decoding: Decoding) =>
    localWhisperEngine({ python: runtime.python, model, modelName, decoding: { ro: decoding }, logger });

  const classify = await createEmotionEngine(await resolveRegistryModels(config, logger), logger);
  const correct = await createCorrectionEngine({ ...config.correct, engine: 'hunspell' }, logger);
  const emotionsOf = async (texts: string[]) =>
    (await classify.run(texts, { lang: 'ro' })).map((score) => score.topLabel);
  const intended = (labels: string[]) => labels.filter((label, i) => label === sentences[i]!.emotion).length;
  const written = intended(await emotionsOf(sentences.map((s) => s.text)));

  const rows: Array<{ choice: string; meanWer: number; corpusWer: number; rtf: number; emotions: number }> =
    [];
  const perSentence = new Map<string, number[]>();
  let baseMemory = Number.NaN;
  const werOf = (name: string, texts: string[]) => {
    const wers = texts.map((text, i) => wordErrorRate(sentences[i]!.text, text));
    perSentence.set(name, wers);
    const words = sentences.map((s) => referenceWords(s.text).length);
    const edits = wers.reduce((sum, wer, i) => sum + wer * words[i]!, 0);
    return {
      meanWer: wers.reduce((a, b) => a + b, 0) / wers.length,
      corpusWer: edits / words.reduce((a, b) => a + b, 0),
    };
  };
  let shipped: string[] = [];
  for (const choice of choices) {
    const engine = engineWith(base, 'base', choice.decoding);
    await engine.start();
    // One warm-up chunk: the first request pays for the model's first allocations.
    await transcribeOne(engine, audio[0]!, SAMPLE_RATE, 'ro');
    const startedAt = performance.now();
    const texts: string[] = [];
    for (const pcm of audio) texts.push((await transcribeOne(engine, pcm, SAMPLE_RATE, 'ro')).text);
    const rtf = (performance.now() - startedAt) / 1000 / audioSeconds;
    baseMemory = peakMemoryMiB(await engine.workerPid());
    await engine.close();
    rows.push({
      choice: choice.name,
      ...werOf(choice.name, texts),
      rtf,
      emotions: intended(await emotionsOf(texts)),
    });
    if (choice.decoding === LANGUAGE_DECODING.ro) shipped = texts;
  }
  // A long recording sent whole (the CLI's chunks can reach 15 s, a file with few pauses more):
  // every sentence in one request, Whisper's 30 s windows, the previous window's text as the next
  // one's prompt or not. WER over all words, against every sentence together.
  const whole = Buffer.concat(audio);
  const long: Array<{ name: string; wer: number; rtf: number }> = [];
  for (const condition of [false, true]) {
    const engine = engineWith(base, 'base', { ...LANGUAGE_DECODING.ro!, conditionOnPreviousText: condition });
    await engine.start();
    const startedAt = performance.now();
    const text = (await transcribeOne(engine, whole, SAMPLE_RATE, 'ro')).text;
    long.push({
      name: `one ${format(audioSeconds, 0)} s recording, condition_on_previous_text ${condition}`,
      wer: wordErrorRate(sentences.map((s) => s.text).join(' '), text),
      rtf: (performance.now() - startedAt) / 1000 / audioSeconds,
    });
    await engine.close();
  }
  const corrected = (await correct.run(shipped, { lang: 'ro' })).map((result) => result.text);
  const pipelineName = 'shipped + Romanian dictionary (correct stage)';
  rows.push({
    choice: pipelineName,
    ...werOf(pipelineName, corrected),
    rtf: Number.NaN,
    emotions: intended(await emotionsOf(corrected)),
  });
  const tiny = engineWith(runtime.defaultModel, runtime.defaultModelName, {});
  await tiny.start();
  await transcribeOne(tiny, audio[0]!, SAMPLE_RATE, 'en');
  const tinyMemory = peakMemoryMiB(await tiny.workerPid());
  await tiny.close();
  await classify.close();
  await correct.close();

  printTable(
    `Romanian speech: ${sentences.length} sentences, espeak-ng -v ro (${format(audioSeconds, 0)} s of audio), Whisper base int8 on 1 thread, language known`,
    [
      ['decoding', 'mean WER', 'WER (all words)', 'RTF', `intended emotion (written: ${written})`],
      ...rows.map((row): [string, ...string[]] => [
        row.choice,
        format(row.meanWer, 3),
        format(row.corpusWer, 3),
        Number.isNaN(row.rtf) ? '-' : format(row.rtf, 2),
        `${row.emotions} of ${sentences.length}`,
      ]),
    ],
  );
  printTable('the same sentences as one long recording (shipped decoding)', [
    ['request', 'WER (all words)', 'RTF'],
    ...long.map((row): [string, ...string[]] => [row.name, format(row.wer, 3), format(row.rtf, 2)]),
  ]);
  printTable('worker peak memory (one process per model)', [
    ['model', 'MiB'],
    ['tiny.en', format(tinyMemory, 0)],
    ['base', format(baseMemory, 0)],
  ]);
  if (process.argv.includes('--per-sentence')) {
    printTable('WER per sentence', [
      ['sentence', ...rows.map((row) => row.choice)],
      ...sentences.map((sentence, i): [string, ...string[]] => [
        sentence.text,
        ...rows.map((row) => format(perSentence.get(row.choice)![i]!, 2)),
      ]),
    ]);
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        sentences: sentences.length,
        audioSeconds,
        writtenIntended: written,
        choices: rows,
        longRecording: long,
        perSentence: Object.fromEntries(perSentence),
        peakMemoryMiB: { 'tiny.en': tinyMemory, base: baseMemory },
      })}\n`,
    );
  }
}
