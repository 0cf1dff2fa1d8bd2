import type { Registry } from 'prom-client';
import type { CorrectConfig } from '../../runtime/config/index.js';
import type { Logger } from '../../runtime/logger.js';
import { type CorrectionEngine, NoCorrectionEngine } from './engine.js';
import { HunspellCorrectionEngine } from './hunspell-engine.js';
import { LlmCorrectionEngine } from './llm-engine.js';

/** The configured correction engine. */
export async function createCorrectionEngine(
  config: CorrectConfig,
  logger: Logger,
  metrics?: Registry,
): Promise<CorrectionEngine> {
  if (config.engine === 'none') return new NoCorrectionEngine();
  if (config.engine === 'llm') {
    return new LlmCorrectionEngine({
      ...config.llm,
      baseUrl: config.llm.baseUrl!,
      model: config.llm.model!,
      logger,
      ...(metrics ? { metrics } : {}),
    });
  }
  return HunspellCorrectionEngine.load(config.languages, logger);
}
