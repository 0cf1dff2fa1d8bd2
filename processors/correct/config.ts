import type { EnvReader } from '../../runtime/config/index.js';

export const CORRECT_ENGINES = ['hunspell', 'llm', 'none'] as const;

/** The correct stage's engine (see processors/correct). */
export interface CorrectConfig {
  engine: (typeof CORRECT_ENGINES)[number];
  /** hunspell: languages whose dictionaries are loaded; texts in other languages pass unchanged. */
  languages: string[];
  llm: {
    baseUrl: string | undefined;
    model: string | undefined;
    apiKey: string | undefined;
    concurrency: number;
    timeoutMs: number;
    maxRetries: number;
    maxChangeRatio: number;
  };
}

/** The correct stage's settings (CORRECT_*), validated by the one loader (cli/config.ts). */
export function readCorrectConfig(read: EnvReader): CorrectConfig {
  const engine = read.oneOf('CORRECT_ENGINE', CORRECT_ENGINES, 'hunspell');
  const languages = read.languages('CORRECT_LANGUAGES', 'en,ro');
  const why = 'when CORRECT_ENGINE=llm';
  const llm = {
    baseUrl: read.url('CORRECT_LLM_BASE_URL')?.toString(),
    model: read.optionalString('CORRECT_LLM_MODEL'),
    apiKey: read.optionalString('CORRECT_LLM_API_KEY'),
    concurrency: read.int('CORRECT_LLM_CONCURRENCY', 16, { min: 1, max: 1000 }),
    timeoutMs: read.int('CORRECT_LLM_TIMEOUT_MS', 30_000, { min: 100 }),
    maxRetries: read.int('CORRECT_LLM_MAX_RETRIES', 4, { min: 0, max: 100 }),
    maxChangeRatio: read.int('CORRECT_LLM_MAX_CHANGE_PERCENT', 30, { min: 0, max: 100 }) / 100,
  };
  if (engine === 'llm') {
    if (!llm.baseUrl) read.requiredString('CORRECT_LLM_BASE_URL', why);
    read.requiredString('CORRECT_LLM_MODEL', why);
  }
  return { engine, languages, llm };
}
