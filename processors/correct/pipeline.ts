import type { Registry } from 'prom-client';
import type { Logger } from '../../runtime/logger.js';
import type { CorrectConfig } from './config.js';
import { type CorrectionEngine, NoCorrectionEngine } from './engine.js';
import { HunspellCorrectionEngine } from './hunspell-engine.js';
import { LlmCorrectionEngine } from './llm-engine.js';

/** The configured correction engine; every choice is a case (TypeScript checks none is missed). */
export async function createCorrectionEngine(
  config: CorrectConfig,
  logger: Logger,
  metrics?: Registry,
): Promise<CorrectionEngine> {
  const choice = config.engine;
  switch (choice) {
    case 'none':
      return new NoCorrectionEngine();
    case 'llm':
      return new LlmCorrectionEngine({
        ...config.llm,
        baseUrl: config.llm.baseUrl!,
        model: config.llm.model!,
        logger,
        ...(metrics ? { metrics } : {}),
      });
    case 'hunspell':
      return HunspellCorrectionEngine.load(config.languages, logger);
    default: {
      const unknown: never = choice;
      throw new Error(`unknown correction engine ${unknown as string}`);
    }
  }
}
