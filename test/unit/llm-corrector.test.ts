import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LlmCorrectionEngine, type LlmCorrectorOptions } from '../../processors/correct/llm-engine.js';
import { RetryableError } from '../../runtime/errors.js';
import { silentLogger } from '../../runtime/logger.js';
import { freePort } from '../../runtime/stack/ports.js';
import { chatCompletion, HttpDouble, sendJson, userMessage } from '../support/http-double.js';
import { counterValue } from '../support/stage.js';

const doubles: HttpDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.close()));
});

async function llm(responder: ConstructorParameters<typeof HttpDouble>[0]) {
  const double = new HttpDouble(responder);
  doubles.push(double);
  const url = await double.listen();
  return { double, baseUrl: `${url}/v1` };
}

function engine(baseUrl: string, overrides: Partial<LlmCorrectorOptions> = {}) {
  const metrics = new Registry();
  const corrector = new LlmCorrectionEngine({
    baseUrl,
    model: 'llama-3.3-70b',
    apiKey: 'secret',
    concurrency: 4,
    timeoutMs: 2000,
    maxRetries: 3,
    maxChangeRatio: 0.4,
    logger: silentLogger(),
    metrics,
    ...overrides,
  });
  return { corrector, metrics };
}

/** A model that restores Romanian diacritics in the words it knows. */
const FIXES: Record<string, string> = { masina: 'mașina', si: 'și', suparat: 'supărat' };
const fix = (text: string) => text.replace(/\p{L}+/gu, (w) => FIXES[w] ?? w);

describe('LLM corrector (OpenAI chat-completions wire format)', () => {
  it('sends one chat completion per text with the model, key and a correction prompt, and returns edits', async () => {
    const { double, baseUrl } = await llm((req, res) =>
      sendJson(res, 200, chatCompletion(fix(userMessage(req)))),
    );
    const { corrector, metrics } = engine(baseUrl);
    const [result] = await corrector.run(['mi-a luat masina si sunt suparat'], { lang: 'ro' });
    expect(result).toEqual({
      text: 'mi-a luat mașina și sunt supărat',
      edits: [
        { offset: 10, original: 'masina si', replacement: 'mașina și' },
        { offset: 25, original: 'suparat', replacement: 'supărat' },
      ],
    });
    const request = double.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer secret');
    const body = request.body as {
      model: string;
      temperature: number;
      messages: Array<{ role: string; content: string }>;
    };
    expect(body.model).toBe('llama-3.3-70b');
    expect(body.temperature).toBe(0);
    expect(body.messages[0]!.content).toMatch(/Romanian/);
    expect(await counterValue(metrics, 'correct_llm_texts_total', { outcome: 'corrected' })).toBe(1);
  });

  it('survives 429 then 200: waits as Retry-After says and gets the answer', async () => {
    let calls = 0;
    const { double, baseUrl } = await llm((req, res) => {
      calls += 1;
      if (calls === 1) sendJson(res, 429, { error: { message: 'rate limited' } }, { 'retry-after': '0' });
      else sendJson(res, 200, chatCompletion(fix(userMessage(req))));
    });
    const { corrector, metrics } = engine(baseUrl);
    const [result] = await corrector.run(['masina'], { lang: 'ro' });
    expect(result!.text).toBe('mașina');
    expect(double.requests).toHaveLength(2);
    expect(await counterValue(metrics, 'correct_llm_retries_total', { reason: 'HTTP 429' })).toBe(1);
  });

  it('survives a server that does not answer in time: the request is abandoned and retried', async () => {
    let calls = 0;
    const { double, baseUrl } = await llm((req, res) => {
      calls += 1;
      if (calls === 1) return; // never answers; the client's timeout fires
      sendJson(res, 200, chatCompletion(fix(userMessage(req))));
    });
    const { corrector } = engine(baseUrl, { timeoutMs: 300 });
    const [result] = await corrector.run(['masina'], { lang: 'ro' });
    expect(result!.text).toBe('mașina');
    expect(double.requests).toHaveLength(2);
  });

  it('keeps the original when the answer is an unrelated rewrite, and counts it', async () => {
    const { baseUrl } = await llm((_req, res) =>
      sendJson(res, 200, chatCompletion('Sure! Here is a poem about cars instead of your sentence.')),
    );
    const { corrector, metrics } = engine(baseUrl);
    const text = 'mi-a luat masina si sunt suparat';
    expect(await corrector.run([text], { lang: 'ro' })).toEqual([{ text, edits: [] }]);
    expect(await counterValue(metrics, 'correct_llm_texts_total', { outcome: 'rejected_rewrite' })).toBe(1);
  });

  it('unwraps answers in quotes or code fences', async () => {
    const { baseUrl } = await llm((req, res) =>
      sendJson(res, 200, chatCompletion(`\`\`\`\n"${fix(userMessage(req))}"\n\`\`\``)),
    );
    const [result] = await engine(baseUrl).corrector.run(['masina mea'], { lang: 'ro' });
    expect(result!.text).toBe('mașina mea');
  });

  it('keeps at most `concurrency` requests in flight, and answers in input order', async () => {
    const { double, baseUrl } = await llm(async (req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      sendJson(res, 200, chatCompletion(userMessage(req).toUpperCase()));
    });
    const texts = Array.from({ length: 20 }, (_, i) => `text ${i}`);
    const results = await engine(baseUrl, { concurrency: 3, maxChangeRatio: 1 }).corrector.run(texts, {
      lang: 'en',
    });
    expect(results.map((r) => r.text)).toEqual(texts.map((t) => t.toUpperCase()));
    expect(double.maxInFlight).toBe(3);
  });

  it('throws RetryableError when the server is down, so the stage pauses instead of losing the text', async () => {
    const port = await freePort();
    const { corrector } = engine(`http://127.0.0.1:${port}/v1`, { maxRetries: 1 });
    await expect(corrector.run(['masina'], { lang: 'ro' })).rejects.toBeInstanceOf(RetryableError);
  });

  it('throws RetryableError on rejected credentials (every text would fail alike)', async () => {
    const { baseUrl } = await llm((_req, res) => sendJson(res, 401, { error: { message: 'bad key' } }));
    await expect(engine(baseUrl).corrector.run(['masina'], { lang: 'ro' })).rejects.toThrow(
      /CORRECT_LLM_API_KEY/,
    );
  });

  it('keeps the original when the server refuses one text (400), without retrying it', async () => {
    const { double, baseUrl } = await llm((_req, res) =>
      sendJson(res, 400, { error: { code: 'content_filter' } }),
    );
    const { corrector, metrics } = engine(baseUrl);
    expect(await corrector.run(['masina'], { lang: 'ro' })).toEqual([{ text: 'masina', edits: [] }]);
    expect(double.requests).toHaveLength(1);
    expect(await counterValue(metrics, 'correct_llm_texts_total', { outcome: 'refused' })).toBe(1);
  });
});
