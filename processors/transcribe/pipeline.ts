import type { TranscribeConfig } from '../../runtime/config/index.js';
import type { Logger } from '../../runtime/logger.js';
import type { TranscriptionEngine } from './engine.js';
import { PocketsphinxEngine } from './pocketsphinx-engine.js';

/** The configured speech recogniser, like transformers.js' pipeline(task, model). */
export async function createTranscriptionEngine(
  config: TranscribeConfig,
  logger: Logger,
): Promise<TranscriptionEngine> {
  if (config.engine === 'whisper') {
    const { WhisperEngine } = await import('./whisper-engine.js');
    const engine = await WhisperEngine.load({
      ...config.whisper,
      model: config.whisper.model!,
      device: config.executionProvider,
    });
    logger.info(
      { engine: engine.name, model: engine.model, task: config.whisper.task },
      'transcribe engine ready',
    );
    return engine;
  }
  const engine = new PocketsphinxEngine({ modelDir: config.pocketsphinxModelDir });
  await engine.start();
  logger.info({ engine: engine.name, model: engine.model }, 'transcribe engine ready');
  return engine;
}
