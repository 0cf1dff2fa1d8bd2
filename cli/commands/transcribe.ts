import type { Command } from 'commander';
import {
  formatTranscript,
  TRANSCRIPT_FORMATS,
  type TranscriptFormat,
} from '../../gateway/transcripts/transcript-formats.js';
import { createEmotionEngine, resolveRegistryModels } from '../../processors/classify/pipeline.js';
import { TRANSCRIBE_ENGINES } from '../../processors/transcribe/config.js';
import { createTranscriptionEngine } from '../../processors/transcribe/pipeline.js';
import { describeDecision } from '../../processors/transcribe/stream-language.js';
import { vadModelOf } from '../../producers/audio/speech-chunker.js';
import { createLogger } from '../../runtime/logger.js';
import { loadConfig } from '../config.js';
import { choice, integer, languageOption } from '../options.js';
import { transcribeFile } from '../transcribe-file.js';

export function registerTranscribeCommand(program: Command): void {
  program
    .command('transcribe')
    .description(
      'transcribe a recording or stream without Kafka: decoder, chunker and engine in this process',
    )
    .argument('<input>', 'an audio or video file, a media URL, or a page yt-dlp knows')
    .option(
      '--format <format>',
      `output format: ${TRANSCRIPT_FORMATS.join(', ')}`,
      choice(TRANSCRIPT_FORMATS),
      'txt',
    )
    .option(
      '--engine <engine>',
      `speech engine: ${TRANSCRIBE_ENGINES.join(', ')}`,
      choice(TRANSCRIBE_ENGINES),
    )
    .option(
      '--language <lang>',
      'spoken language (ISO 639-1), or auto (the default): decided from the first speech among TRANSCRIBE_LANGUAGES',
      (value: string) => (value === 'auto' ? 'auto' : languageOption(value)),
    )
    .option('--emotions', "add each segment's top emotion and core scores")
    .option(
      '--no-speakers',
      'do not tell speakers apart (by default each line says who spoke, S1, S2, … where the voice encoder is installed)',
    )
    .option(
      '--chunk-ms <ms>',
      'longest chunk without a pause; longer gives Whisper more context (live streams use AUDIO_CHUNK_MS)',
      integer,
      15_000,
    )
    .action(
      async (
        input: string,
        options: {
          format: TranscriptFormat;
          engine?: (typeof TRANSCRIBE_ENGINES)[number];
          language?: string;
          emotions?: boolean;
          speakers: boolean;
          chunkMs: number;
        },
      ) => {
        const config = loadConfig();
        const logger = createLogger({ level: config.logLevel, name: 'transcribe' });
        const engine = await createTranscriptionEngine(
          { ...config.transcribe, engine: options.engine ?? config.transcribe.engine },
          logger,
        );
        let lastReport = 0;
        let transcript: Awaited<ReturnType<typeof transcribeFile>>;
        try {
          transcript = await transcribeFile({
            input,
            engine,
            chunkMs: options.chunkMs,
            vadModel: vadModelOf(config),
            language: options.language === 'auto' ? undefined : options.language,
            languages: config.transcribe.languageDecision,
            ...(options.speakers && config.transcribe.speakers.enabled
              ? { speakers: config.transcribe.speakers }
              : {}),
            onLanguage: (decision) => process.stderr.write(`transcribe: ${describeDecision(decision)}\n`),
            onProgress: (audioMs) => {
              if (Date.now() - lastReport < 2000) return;
              lastReport = Date.now();
              process.stderr.write(`transcribe: ${(audioMs / 1000).toFixed(0)} s of audio decoded\n`);
            },
          });
        } finally {
          await engine.close();
        }
        if (options.emotions && transcript.lines.length > 0) {
          const classifier = await createEmotionEngine(await resolveRegistryModels(config, logger), logger);
          try {
            const scores = await classifier.run(
              transcript.lines.map((line) => line.text),
              transcript.language === 'und' ? {} : { lang: transcript.language },
            );
            transcript.lines.forEach((line, i) => {
              line.topLabel = scores[i]!.topLabel;
              line.core = scores[i]!.core;
            });
          } finally {
            await classifier.close();
          }
        }
        const header = {
          text: transcript.lines.map((line) => line.text).join(' '),
          language: transcript.language,
          engine: engine.name,
          model: transcript.model ?? engine.model,
        };
        for (const piece of formatTranscript(options.format, transcript.lines, header))
          process.stdout.write(piece);
      },
    );
}
