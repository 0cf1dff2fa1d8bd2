import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AzureTranslatorEngine,
  type AzureTranslatorOptions,
} from '../../processors/translate/azure-translator.js';
import { chunkTexts, NoTranslationEngine } from '../../processors/translate/engine.js';
import { LibreTranslateEngine } from '../../processors/translate/libretranslate.js';
import { MarianTranslationEngine } from '../../processors/translate/marian.js';
import { TranslateHandler } from '../../processors/translate/stage.js';
import { newTextSegment } from '../../producers/segment-producer.js';
import { RetryableError } from '../../runtime/errors.js';
import { silentLogger } from '../../runtime/logger.js';
import type { InputRecord } from '../../runtime/stage/types.js';
import type { TextSegment } from '../../schemas/index.js';
import { HttpDouble, type Responder, sendJson } from '../support/http-double.js';

const doubles: HttpDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.close()));
});

async function serve(responder: ConstructorParameters<typeof HttpDouble>[0]) {
  const double = new HttpDouble(responder);
  doubles.push(double);
  return { double, url: await double.listen() };
}

const DICTIONARY: Record<string, string> = {
  'Sunt foarte fericită astăzi, mulțumesc tuturor!': 'I am very happy today, thank you all!',
  'Mi-e frică de ce urmează.': 'I am afraid of what comes next.',
};

function segment(id: string, text: string, extra: Partial<TextSegment> = {}): InputRecord<TextSegment> {
  return {
    topic: 'segments.corrected',
    partition: 0,
    offset: '0',
    key: id,
    timestamp: 0,
    headers: {},
    value: newTextSegment({ id, streamId: 's', seq: 0, origin: 'API', text, ...extra }),
  };
}

function azureEngine(url: string, overrides: Partial<AzureTranslatorOptions> = {}) {
  return new AzureTranslatorEngine({
    endpoint: url,
    key: 'k',
    region: undefined,
    resourceId: undefined,
    timeoutMs: 2000,
    maxRetries: 0,
    logger: silentLogger(),
    ...overrides,
  });
}

/** Azure Translator's answer: one `{translations: [{text, to}]}` per `{Text}` sent. */
const azureAnswer: Responder = (req, res) =>
  sendJson(
    res,
    200,
    (req.body as Array<{ Text: string }>).map((item) => ({
      translations: [{ text: DICTIONARY[item.Text] ?? '', to: 'en' }],
    })),
  );

describe('translate stage', () => {
  const english = 'I am so happy with how this turned out, thank you!';
  const romanian = 'Sunt foarte fericită astăzi, mulțumesc tuturor!';

  it('passes target-language text through and, with the none engine, leaves other languages for their own model', async () => {
    const handler = new TranslateHandler(new NoTranslationEngine(), 'out', 'en', ['en', 'ro']);
    const outcomes = await handler.process([
      segment('1', english),
      segment('2', romanian),
      segment('3', 'ok'),
    ]);
    const translations = outcomes.map((o) => ('outputs' in o ? o.outputs[0]!.value.translation : null));
    expect(translations).toEqual([
      { text: english, sourceLanguage: 'en', targetLanguage: 'en', engine: 'passthrough' },
      { text: romanian, sourceLanguage: 'ro', targetLanguage: 'ro', engine: 'none' },
      { text: 'ok', sourceLanguage: 'en', targetLanguage: 'en', engine: 'passthrough' },
    ]);
    const second = outcomes[1]!;
    expect('outputs' in second && second.outputs[0]!.value.language).toBe('ro');
  });

  it('translates the corrected text, keeping the original and the correction', async () => {
    const { url } = await serve(azureAnswer);
    const engine = azureEngine(url, { region: 'westeurope' });
    const handler = new TranslateHandler(engine, 'out', 'en', ['en', 'ro']);
    const input = segment('1', 'Sunt foarte fericita astazi, multumesc tuturor!', {
      correction: { text: romanian, engine: 'hunspell', edits: [] },
    });
    const [outcome] = await handler.process([input]);
    const value = 'outputs' in outcome! ? outcome.outputs[0]!.value : undefined;
    expect(value?.text).toBe('Sunt foarte fericita astazi, multumesc tuturor!');
    expect(value?.correction?.text).toBe(romanian);
    expect(value?.translation).toEqual({
      text: 'I am very happy today, thank you all!',
      sourceLanguage: 'ro',
      targetLanguage: 'en',
      engine: 'azure',
    });
  });
});

describe('Azure AI Translator engine (REST v3 wire format)', () => {
  it('posts [{Text}] to /translate?api-version=3.0 with the key and region headers', async () => {
    const { double, url } = await serve(azureAnswer);
    const engine = azureEngine(url, { key: 'secret-key', region: 'westeurope' });
    const texts = Object.keys(DICTIONARY);
    expect(await engine.run(texts, { from: 'ro', to: 'en' })).toEqual(Object.values(DICTIONARY));
    const request = double.requests[0]!;
    expect(request.url).toBe('/translate?api-version=3.0&from=ro&to=en');
    expect(request.headers['ocp-apim-subscription-key']).toBe('secret-key');
    expect(request.headers['ocp-apim-subscription-region']).toBe('westeurope');
    expect(request.body).toEqual(texts.map((Text) => ({ Text })));
  });

  it('uses a Microsoft Entra token when there is no key', async () => {
    const { double, url } = await serve((_req, res) =>
      sendJson(res, 200, [{ translations: [{ text: 'hello', to: 'en' }] }]),
    );
    const engine = azureEngine(url, {
      key: undefined,
      region: 'westeurope',
      resourceId: '/subscriptions/x/resourceGroups/y/providers/Microsoft.CognitiveServices/accounts/z',
      getToken: async () => 'entra-token',
    });
    expect(await engine.run(['salut'], { from: 'ro', to: 'en' })).toEqual(['hello']);
    expect(double.requests[0]!.headers.authorization).toBe('Bearer entra-token');
    expect(double.requests[0]!.headers['ocp-apim-resourceid']).toMatch(/accounts\/z$/);
  });

  it('retries 429/5xx and gives up with RetryableError when the service stays down', async () => {
    const { double, url } = await serve((_req, res) =>
      sendJson(res, 503, { error: { code: 503000 } }, { 'retry-after': '0' }),
    );
    const engine = azureEngine(url, { maxRetries: 2 });
    await expect(engine.run(['salut'], { from: 'ro', to: 'en' })).rejects.toBeInstanceOf(RetryableError);
    expect(double.requests).toHaveLength(3);
  });

  it('splits large batches within the API limits (1,000 texts, 50,000 characters)', () => {
    const chunks = chunkTexts(
      Array.from({ length: 2500 }, () => 'x'.repeat(10)),
      1000,
      45_000,
    );
    expect(chunks.map((c) => c.length)).toEqual([1000, 1000, 500]);
    expect(chunkTexts(['a'.repeat(30_000), 'b'.repeat(30_000)], 1000, 45_000)).toHaveLength(2);
  });
});

describe('LibreTranslate engine (POST /translate wire format)', () => {
  it('sends q as an array with source, target, format and api_key', async () => {
    const { double, url } = await serve((req, res) => {
      const body = req.body as { q: string[] };
      sendJson(res, 200, { translatedText: body.q.map((t) => DICTIONARY[t] ?? '') });
    });
    const engine = new LibreTranslateEngine({
      url,
      apiKey: 'lt-key',
      timeoutMs: 2000,
      maxRetries: 0,
      logger: silentLogger(),
    });
    const texts = Object.keys(DICTIONARY);
    expect(await engine.run(texts, { from: 'ro', to: 'en' })).toEqual(Object.values(DICTIONARY));
    expect(double.requests[0]!.url).toBe('/translate');
    expect(double.requests[0]!.body).toEqual({
      q: texts,
      source: 'ro',
      target: 'en',
      format: 'text',
      api_key: 'lt-key',
    });
  });
});

describe('Marian (OPUS-MT) engine', () => {
  // No OPUS-MT model can be downloaded here, so only loading is exercised: a model that cannot be
  // loaded fails the service at start, naming the language pair and where it looked.
  it('fails at load with the language pair and the location it tried', async () => {
    const missing = join(tmpdir(), 'no-such-opus-mt-ro-en');
    await expect(
      MarianTranslationEngine.load({
        models: { ro: missing },
        targetLanguage: 'en',
        allowRemote: false,
        logger: silentLogger(),
      }),
    ).rejects.toThrow(/cannot load the ro→en translation model from .*no-such-opus-mt-ro-en/);
  });
});
