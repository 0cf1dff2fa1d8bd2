import { Counter, type Registry } from 'prom-client';
import { mapConcurrent } from '../../runtime/concurrency.js';
import { RetryableError } from '../../runtime/errors.js';
import { HttpStatusError, postJson } from '../../runtime/http/json-client.js';
import type { Logger } from '../../runtime/logger.js';
import type { CorrectionContext, CorrectionEngine, CorrectionResult } from './engine.js';
import { diffWords } from './word-diff.js';
import { editDistance, foldWord } from './words.js';

export interface LlmCorrectorOptions {
  /** Base URL of an OpenAI-compatible API, e.g. http://vllm:8000/v1 or https://x.openai.azure.com/openai/v1. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Requests in flight at once. */
  concurrency: number;
  timeoutMs: number;
  maxRetries: number;
  /** Largest share of words an answer may change before it is rejected as a rewrite. */
  maxChangeRatio: number;
  logger: Logger;
  metrics?: Registry;
}

interface ChatCompletion {
  choices?: Array<{ message?: { content?: string | null } }>;
}

const LANGUAGE_NAMES: Record<string, string> = { en: 'English', ro: 'Romanian' };

function systemPrompt(lang: string | null): string {
  const language = lang ? (LANGUAGE_NAMES[lang] ?? `the language with ISO code '${lang}'`) : 'its language';
  return (
    `You correct spelling, diacritics and obvious typos in ${language} text. ` +
    'Keep the wording, meaning, tone, slang, emoji, URLs, @mentions and punctuation style. ' +
    'Do not translate, explain, answer or add anything. ' +
    'Reply with the corrected text only; if nothing needs correcting, reply with the text unchanged.'
  );
}

/**
 * Correction by any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, Azure OpenAI, ...).
 * Bounded concurrency; each request has a timeout and is retried with backoff on 408/429/5xx and
 * network errors; when retries run out the batch fails with RetryableError and the stage pauses.
 * An answer that changes more than `maxChangeRatio` of the words is a rewrite, not a correction:
 * the original is kept and the rejection counted.
 */
export class LlmCorrectionEngine implements CorrectionEngine {
  readonly name = 'llm';
  private readonly url: string;
  private readonly outcomes: Counter<'outcome'> | undefined;
  private readonly retries: Counter<'reason'> | undefined;

  constructor(private readonly options: LlmCorrectorOptions) {
    this.url = `${options.baseUrl.replace(/\/$/, '')}/chat/completions`;
    if (options.metrics) {
      this.outcomes = new Counter({
        name: 'correct_llm_texts_total',
        help: 'Texts sent to the LLM corrector, by outcome (corrected, unchanged, rejected_rewrite, refused).',
        labelNames: ['outcome'],
        registers: [options.metrics],
      });
      this.retries = new Counter({
        name: 'correct_llm_retries_total',
        help: 'Retried LLM requests, by reason.',
        labelNames: ['reason'],
        registers: [options.metrics],
      });
    }
  }

  async run(texts: readonly string[], { lang }: CorrectionContext): Promise<CorrectionResult[]> {
    return mapConcurrent(texts, this.options.concurrency, (text) => this.correctOne(text, lang));
  }

  private async correctOne(text: string, lang: string | null): Promise<CorrectionResult> {
    if (text.trim() === '') return { text, edits: [] };
    let answer: string;
    try {
      const completion = await postJson<ChatCompletion>(
        this.url,
        {
          model: this.options.model,
          temperature: 0,
          messages: [
            { role: 'system', content: systemPrompt(lang) },
            { role: 'user', content: text },
          ],
        },
        {
          headers: this.options.apiKey
            ? // Bearer for OpenAI-style servers, api-key for Azure OpenAI; each ignores the other.
              { authorization: `Bearer ${this.options.apiKey}`, 'api-key': this.options.apiKey }
            : {},
          timeoutMs: this.options.timeoutMs,
          maxRetries: this.options.maxRetries,
          onRetry: (reason, attempt, waitMs) => {
            this.retries?.inc({ reason: reason.startsWith('HTTP') ? reason : 'network' });
            this.options.logger.warn({ reason, attempt, waitMs }, 'LLM corrector: retrying');
          },
        },
      );
      const content = completion.choices?.[0]?.message?.content;
      if (typeof content !== 'string')
        throw new HttpStatusError(200, 'answer has no choices[0].message.content', this.url);
      answer = cleanAnswer(content);
    } catch (error) {
      // A 4xx about this text (content filter, too long) will not change on retry: keep the original.
      if (error instanceof HttpStatusError && error.status !== 401 && error.status !== 403) {
        this.outcomes?.inc({ outcome: 'refused' });
        this.options.logger.warn({ err: error }, 'LLM corrector refused a text; keeping the original');
        return { text, edits: [] };
      }
      if (error instanceof HttpStatusError) {
        // Credentials are wrong for every text alike: pause the stage rather than dead-letter the batch.
        throw new RetryableError(
          `LLM endpoint refused the credentials (HTTP ${error.status}); check CORRECT_LLM_API_KEY`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    if (answer === text) {
      this.outcomes?.inc({ outcome: 'unchanged' });
      return { text, edits: [] };
    }
    const changeRatio = changedShare(text, answer);
    if (answer === '' || changeRatio > this.options.maxChangeRatio) {
      this.outcomes?.inc({ outcome: 'rejected_rewrite' });
      this.options.logger.info(
        { changeRatio: Number(changeRatio.toFixed(2)), limit: this.options.maxChangeRatio },
        'LLM answer changes too much; keeping the original',
      );
      return { text, edits: [] };
    }
    this.outcomes?.inc({ outcome: 'corrected' });
    return { text: answer, edits: diffWords(text, answer).edits };
  }

  async close(): Promise<void> {}
}

const MAX_CHARS_COMPARED = 2000;

/**
 * How much of the text an answer changed, 0..1: character edits between the two once case,
 * diacritics and apostrophes are folded away (restoring `mașina` changes nothing; a rewrite
 * changes nearly everything). Long texts are compared word by word instead.
 */
export function changedShare(original: string, answer: string): number {
  const a = foldWord(original);
  const b = foldWord(answer);
  if (a.length > MAX_CHARS_COMPARED || b.length > MAX_CHARS_COMPARED)
    return diffWords(original, answer).changeRatio;
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 0 : editDistance(a, b) / longest;
}

/** Models like to wrap the answer in quotes or a code fence; the text inside is the answer. */
function cleanAnswer(content: string): string {
  let answer = content.trim();
  const fenced = /^```[a-z]*\n([\s\S]*?)\n```$/.exec(answer);
  if (fenced) answer = fenced[1]!.trim();
  if (answer.length >= 2 && /^["“].*["”]$/s.test(answer)) answer = answer.slice(1, -1).trim();
  return answer;
}
