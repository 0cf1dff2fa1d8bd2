import type { Logger } from '../../runtime/logger.js';
import { type AsrRuntime, findAsrRuntime } from './asr-runtime.js';
import type { TranscribeConfig } from './config.js';
import type { TranscriptionEngine } from './engine.js';
import { FasterWhisperEngine } from './faster-whisper-engine.js';
import { ModelPerLanguageEngine } from './model-per-language.js';
import { PocketsphinxEngine } from './pocketsphinx-engine.js';

/**
 * The configured speech recogniser, started (its model loaded) so a broken installation fails the
 * service at start. `auto` takes faster-whisper where its runtime is installed and says so when it
 * falls back to pocketsphinx; naming an engine that cannot start is an error, never a fallback.
 */
export async function createTranscriptionEngine(
  config: TranscribeConfig,
  logger: Logger,
): Promise<TranscriptionEngine> {
  const engine = await startEngine(config, logger);
  logger.info({ engine: engine.name, model: engine.model }, 'transcribe engine ready');
  return engine;
}

async function startEngine(config: TranscribeConfig, logger: Logger): Promise<TranscriptionEngine> {
  const choice = config.engine;
  switch (choice) {
    case 'auto':
    case 'faster-whisper': {
      const runtime = findAsrRuntime(config.asrRuntimeDir);
      if ('missing' in runtime) {
        if (choice === 'faster-whisper')
          throw new Error(`TRANSCRIBE_ENGINE=faster-whisper: ${runtime.missing}`);
        logger.warn(
          { reason: runtime.missing },
          'faster-whisper is not installed: transcribing with pocketsphinx, which hears far fewer words',
        );
        return startPocketsphinx(config);
      }
      const { whisper } = config;
      // The voice encoder runs in one worker only (the first model's): any worker could embed the
      // audio, and each would hold another copy of it.
      const engineOf = (model: string, modelName: string, voices: boolean) =>
        new FasterWhisperEngine({
          python: runtime.python,
          model,
          modelName,
          device: config.executionProvider,
          computeType: whisper.computeType,
          threads: whisper.threads,
          beamSize: whisper.beamSize,
          language: whisper.language,
          downloadDir: whisper.downloadDir,
          allowDownload: whisper.allowDownload,
          timeoutMs: whisper.timeoutMs,
          ...(voices && config.speakers.enabled && runtime.speakerModel
            ? { speakerModel: runtime.speakerModel }
            : {}),
          logger,
        });
      // One model for everything (a large multilingual one on a GPU pool), as WHISPER_MODEL says.
      const engine = whisper.model
        ? engineOf(whisper.model, whisper.model, true)
        : modelPerLanguage(whisper.models, whisper.language, runtime, engineOf);
      await engine.start();
      return engine;
    }
    case 'pocketsphinx':
      return startPocketsphinx(config);
    default: {
      const unknown: never = choice;
      throw new Error(`unknown transcription engine ${unknown as string}`);
    }
  }
}

/**
 * An engine per distinct model of WHISPER_MODELS, routed by language. A name install-asr.sh
 * installed (tiny.en, base) is its directory; anything else is a model id or a directory as
 * faster-whisper takes it. An installation from before base was shipped has tiny.en only.
 */
function modelPerLanguage(
  models: Record<string, string>,
  unhinted: string | undefined,
  runtime: AsrRuntime,
  engineOf: (model: string, modelName: string, voices: boolean) => FasterWhisperEngine,
): ModelPerLanguageEngine {
  const installed = { [runtime.defaultModelName]: runtime.defaultModel, ...runtime.models };
  const byName = new Map<string, FasterWhisperEngine>();
  const routes = new Map<string, FasterWhisperEngine>();
  for (const [language, name] of Object.entries(models)) {
    const engine = byName.get(name) ?? engineOf(installed[name] ?? name, name, byName.size === 0);
    byName.set(name, engine);
    routes.set(language, engine);
  }
  return new ModelPerLanguageEngine(routes, unhinted);
}

async function startPocketsphinx(config: TranscribeConfig): Promise<TranscriptionEngine> {
  const engine = new PocketsphinxEngine({ modelDir: config.pocketsphinxModelDir });
  await engine.start();
  return engine;
}
