import { postJson } from '../../runtime/http/json-client.js';
import type { Logger } from '../../runtime/logger.js';
import { chunkTexts, type TranslationContext, type TranslationEngine } from './engine.js';

export interface AzureTranslatorOptions {
  /** https://api.cognitive.microsofttranslator.com, or a resource's custom endpoint ending in /translator/text/v3.0. */
  endpoint: string;
  /** Subscription key; without it, a Microsoft Entra token from DefaultAzureCredential is used. */
  key: string | undefined;
  region: string | undefined;
  /** Needed with Entra tokens on the global endpoint (the resource's ARM id). */
  resourceId: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  logger: Logger;
  /** For tests and custom credential chains; defaults to DefaultAzureCredential. */
  getToken?: () => Promise<string>;
}

interface TranslateResponseItem {
  translations: Array<{ text: string; to: string }>;
}

// Translator v3 limits per request: 1,000 elements and 50,000 characters.
const MAX_ITEMS = 1000;
const MAX_CHARS = 45_000;
const SCOPE = 'https://cognitiveservices.azure.com/.default';

/** Azure AI Translator, REST API v3 (`POST /translate?api-version=3.0&from=..&to=..`). */
export class AzureTranslatorEngine implements TranslationEngine {
  readonly name = 'azure';
  private tokenSource: (() => Promise<string>) | undefined;

  constructor(private readonly options: AzureTranslatorOptions) {
    this.tokenSource = options.getToken;
  }

  supports(from: string, to: string): boolean {
    return from !== to;
  }

  async run(texts: readonly string[], { from, to }: TranslationContext): Promise<string[]> {
    const url = `${this.options.endpoint}/translate?api-version=3.0&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const results: string[] = [];
    for (const chunk of chunkTexts(texts, MAX_ITEMS, MAX_CHARS)) {
      const answer = await postJson<TranslateResponseItem[]>(
        url,
        chunk.map((text) => ({ Text: text })),
        {
          headers: await this.headers(),
          timeoutMs: this.options.timeoutMs,
          maxRetries: this.options.maxRetries,
          onRetry: (reason, attempt) =>
            this.options.logger.warn({ reason, attempt }, 'Azure Translator: retrying'),
        },
      );
      if (!Array.isArray(answer) || answer.length !== chunk.length) {
        throw new Error(
          `Azure Translator answered ${Array.isArray(answer) ? answer.length : 'no'} items for ${chunk.length} texts`,
        );
      }
      for (const item of answer) results.push(item.translations?.[0]?.text ?? '');
    }
    return results;
  }

  private async headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    if (this.options.region) headers['Ocp-Apim-Subscription-Region'] = this.options.region;
    if (this.options.key) {
      headers['Ocp-Apim-Subscription-Key'] = this.options.key;
      return headers;
    }
    if (!this.tokenSource) {
      const { DefaultAzureCredential } = await import('@azure/identity');
      const credential = new DefaultAzureCredential();
      this.tokenSource = async () => {
        const token = await credential.getToken(SCOPE);
        if (!token) throw new Error('DefaultAzureCredential returned no token for Azure AI Translator');
        return token.token;
      };
    }
    headers.Authorization = `Bearer ${await this.tokenSource()}`;
    if (this.options.resourceId) headers['Ocp-Apim-ResourceId'] = this.options.resourceId;
    return headers;
  }

  async close(): Promise<void> {}
}
