import type { Logger } from '../../runtime/logger.js';
import { findAsrRuntime } from './asr-runtime.js';
import type { TranscribeConfig } from './config.js';
import type { TranscriptionEngine } from './engine.js';
import { FasterWhisperEngine } from './faster-whisper-engine.js';
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
      const engine = new FasterWhisperEngine({
        python: runtime.python,
        model: whisper.model ?? runtime.defaultModel,
        modelName: whisper.model ?? runtime.defaultModelName,
        device: config.executionProvider,
        computeType: whisper.computeType,
        threads: whisper.threads,
        beamSize: whisper.beamSize,
        language: whisper.language,
        downloadDir: whisper.downloadDir,
        allowDownload: whisper.allowDownload,
        timeoutMs: whisper.timeoutMs,
        logger,
      });
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

async function startPocketsphinx(config: TranscribeConfig): Promise<TranscriptionEngine> {
  const engine = new PocketsphinxEngine({ modelDir: config.pocketsphinxModelDir });
  await engine.start();
  return engine;
}
