import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { CORE_EMOTIONS } from '../../processors/classify/labels.js';
import { AvroDecoder } from '../../runtime/serde/avro-serde.js';
import { avroSchemas, type EmotionResult, type Feedback } from '../../schemas/index.js';
import {
  gatewayEnv,
  LiveClient,
  postJson,
  refusedUpgrade,
  startGateway,
  startTextStages,
} from '../support/gateway.js';
import { pipelineStack, TestServices } from '../support/pipeline.js';
import { counterValue } from '../support/stage.js';
import { readTopic } from '../support/topics.js';

const services = new TestServices();
afterEach(() => services.stopAll());

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function csvUpload(csv: string, fields: Record<string, string> = {}, fileName = 'reviews.csv'): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([csv], { type: 'text/csv' }), fileName);
  return form;
}

const JOYFUL = [
  'I love this so much, best day ever!',
  'Thank you, this made me so happy!',
  'What a wonderful and delightful gift, I am thrilled',
];
const ANGRY = [
  'This is outrageous, I am furious with you',
  'I hate this, it makes me so angry',
  'Stop lying, you idiot, I am so mad',
];

describe('gateway', () => {
  it('predicts one text and a batch in-process, and answers bad requests with 4xx and a reason', async () => {
    const { stack } = await pipelineStack('gw-predict', gatewayEnv());
    const { url } = await startGateway(services, stack);

    const one = await postJson(`${url}/v1/predict`, { text: 'I am so happy and grateful for my friends!' });
    expect(one.status).toBe(200);
    expect(one.json.topLabel).toBe('joy');
    expect(Object.keys(one.json.core as object).sort()).toEqual([...CORE_EMOTIONS]);
    expect(Object.keys(one.json.fine as object)).toHaveLength(28);
    expect(one.json.model).toMatchObject({ engine: 'onnx' });

    const batch = await postJson(`${url}/v1/predict`, {
      texts: ['I hate you, this is infuriating and I am furious', 'Sunt foarte fericită astăzi!'],
    });
    expect(batch.status).toBe(200);
    const results = batch.json.results as Array<{ topLabel: string; language: string }>;
    expect(results.map((r) => r.language)).toEqual(['en', 'ro']);
    expect(results[0]!.topLabel).toBe('anger');
    const hinted = await postJson(`${url}/v1/predict`, { text: 'Sunt foarte fericita', language: 'ro' });
    expect(hinted.json.language).toBe('ro');

    const bad: Array<[string, RequestInit, number, RegExp]> = [
      ['missing text', { body: '{}' }, 400, /either "text".*or "texts"/],
      ['both', { body: JSON.stringify({ text: 'a', texts: ['b'] }) }, 400, /not both/],
      [
        'empty text',
        { body: JSON.stringify({ text: '' }) },
        400,
        /text must NOT have fewer than 1 characters/,
      ],
      ['unknown field', { body: JSON.stringify({ txt: 'hi' }) }, 400, /must NOT have additional properties/],
      [
        'too many',
        { body: JSON.stringify({ texts: new Array(257).fill('x') }) },
        400,
        /must NOT have more than 256 items/,
      ],
      [
        'bad language',
        { body: JSON.stringify({ text: 'hi', language: 'english' }) },
        400,
        /language must match pattern/,
      ],
      ['not JSON', { body: '{"text": ' }, 400, /JSON/],
      ['10 MB', { body: JSON.stringify({ text: 'a'.repeat(10 * 1024 * 1024) }) }, 413, /body is too large/i],
      [
        'text/plain',
        { body: 'hello', headers: { 'Content-Type': 'text/plain' } },
        415,
        /Unsupported Media Type: text\/plain; send application\/json/i,
      ],
    ];
    for (const [what, init, status, reason] of bad) {
      const response = await fetch(`${url}/v1/predict`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        ...init,
      });
      const body = (await response.json()) as { message: string; error: string; statusCode: number };
      expect([what, response.status], body.message).toEqual([what, status]);
      expect(body.message, what).toMatch(reason);
      // One error body for all: the status code and its status text, Fastify's own errors too.
      expect({ statusCode: body.statusCode, error: body.error }, what).toEqual({
        statusCode: status,
        error: STATUS_CODES[status],
      });
    }
    // Still serving after all of that.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('documents the API in OpenAPI at /docs and serves health, readiness, metrics and the dashboard', async () => {
    const { stack } = await pipelineStack('gw-docs', gatewayEnv());
    const { url } = await startGateway(services, stack);
    const document = (await (await fetch(`${url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, object>;
    };
    expect(document.openapi).toMatch(/^3\./);
    // The example the document offers for predict is one the API takes.
    const media = (
      document.paths['/v1/predict'] as {
        post: {
          requestBody: {
            content: Record<
              string,
              {
                example?: unknown;
                examples?: Record<string, { value: unknown }>;
                schema: { examples?: unknown[] };
              }
            >;
          };
        };
      }
    ).post.requestBody.content['application/json']!;
    const example =
      media.example ??
      (media.examples ? Object.values(media.examples)[0]?.value : media.schema.examples?.[0]);
    expect(example).toBeDefined();
    const tried = await postJson(`${url}/v1/predict`, example);
    expect(tried.status).toBe(200);
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/v1/audio',
        '/v1/streams',
        '/v1/streams/{streamId}',
        '/v1/feedback',
        '/v1/feedback/csv',
        '/v1/feedback/{id}',
        '/v1/jobs/csv',
        '/v1/jobs/{id}',
        '/v1/jobs/{id}/results.csv',
        '/v1/live',
        '/v1/predict',
        '/v1/streams/{streamId}/texts',
        '/v1/streams/{streamId}/transcript',
        // The prototype's, kept as deprecated aliases.
        '/health',
        '/predict',
        '/upload-csv',
        '/download-csv',
      ].sort(),
    );
    // The new routes and fields of issue 19 are documented.
    const paths = document.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    expect(Object.keys(paths['/v1/streams']!).sort()).toEqual(['get', 'post']);
    expect(JSON.stringify(paths['/v1/feedback']!.post)).toContain('matched');
    expect(JSON.stringify(paths['/v1/jobs/{id}/results.csv']!.get)).toContain('language_fallback');
    expect(await (await fetch(`${url}/docs`, { redirect: 'follow' })).text()).toContain('swagger');
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({
      status: 'ready',
      checks: { kafka: true, registry: true, model: true },
    });
    await postJson(`${url}/v1/predict`, { text: 'hello there' });
    // Two predictions so far: the document's example and this one.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /gateway_http_requests_total\{method="POST",route="\/v1\/predict",status="200"[^}]*\} 2/,
    );
    expect(metrics).toContain('gateway_live_clients');
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    expect((await fetch(`${url}/vendor/uplot/uPlot.esm.js`)).status).toBe(200);
    // Only the two uPlot files are served from its package, and nothing outside the web root.
    expect((await fetch(`${url}/vendor/uplot/uPlot.d.ts`)).status).toBe(404);
    expect((await fetch(`${url}/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it("answers the prototype's endpoints as deprecated aliases that name their successors", async () => {
    const { stack } = await pipelineStack('gw-aliases', gatewayEnv());
    await startTextStages(services, stack);
    const { url } = await startGateway(services, stack);
    const deprecated = (response: Response, successor: string) => {
      expect(response.headers.get('deprecation')).toBe('true');
      expect(response.headers.get('link')).toBe(`<${successor}>; rel="successor-version"`);
    };

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    deprecated(health, '/healthz');

    const predicted = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: JOYFUL[0] }),
    });
    expect(predicted.status).toBe(200);
    deprecated(predicted, '/v1/predict');
    const scores = (await predicted.json()) as { topLabel: string; core: Record<string, number> };
    expect(Object.keys(scores.core).sort()).toEqual([...CORE_EMOTIONS].sort());
    expect(scores.topLabel).toBe('joy');
    const empty = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: '' }),
    });
    expect(empty.status).toBe(400);

    const csv = `text\r\n${[...JOYFUL, ...ANGRY].map((t) => `"${t}"`).join('\r\n')}\r\n`;
    const uploaded = await fetch(`${url}/upload-csv`, { method: 'POST', body: csvUpload(csv) });
    expect(uploaded.status).toBe(202);
    deprecated(uploaded, '/v1/jobs/csv');
    const { jobId } = (await uploaded.json()) as { jobId: string };
    const deadline = Date.now() + 60_000;
    let downloaded: Response;
    for (;;) {
      downloaded = await fetch(`${url}/download-csv?job_id=${jobId}`);
      if (downloaded.status === 200 || Date.now() > deadline) break;
      expect(downloaded.status).toBe(409);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(downloaded.status).toBe(200);
    deprecated(downloaded, `/v1/jobs/${jobId}/results.csv`);
    expect((await downloaded.text()).trim().split('\r\n')).toHaveLength(JOYFUL.length + ANGRY.length + 1);
    const notMultipart = await fetch(`${url}/upload-csv`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"file":"x.csv"}',
    });
    expect(notMultipart.status).toBe(415);

    // The OpenAPI document marks them deprecated.
    const document = (await (await fetch(`${url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { deprecated?: boolean }>>;
    };
    expect(document.paths['/predict']!.post!.deprecated).toBe(true);
    expect(document.paths['/upload-csv']!.post!.deprecated).toBe(true);
  });

  it('runs a CSV job from upload to downloaded results: its ids, every column, the file order, cells a spreadsheet would run escaped', async () => {
    const { stack, topics } = await pipelineStack('gw-csv', gatewayEnv());
    await startTextStages(services, stack);
    const { url } = await startGateway(services, stack);

    const texts: string[] = [];
    for (let i = 0; i < 294; i++) texts.push(`${[...JOYFUL, ...ANGRY][i % 6]} (review ${i})`);
    const formulas = [
      '=HYPERLINK("http://evil.example","click")',
      '+1 555 0100 call me, so happy',
      '@SUM(A1:A9)',
      '-2 stars, awful and disgusting',
      '\tTab first, then =1+1',
      'Plain, with "quotes", and a\nnew line',
    ];
    texts.push(...formulas);
    // A reviewer's columns (gold, stars) and the file's own ids (issue 19): all come back.
    const gold = (i: number) => (i % 6 < 3 ? 'joy' : 'anger');
    const csv = `id,text,gold,stars\r\n${texts.map((t, i) => `r${i},"${t.replace(/"/g, '""')}",${gold(i)},${(i % 7) - 3}`).join('\r\n')}\r\nr300,,joy,1\r\n`;

    const accepted = await fetch(`${url}/v1/jobs/csv`, {
      method: 'POST',
      body: csvUpload(csv, { textColumn: 'text' }),
    });
    expect(accepted.status).toBe(202);
    const job = (await accepted.json()) as { jobId: string; state: string };
    expect(accepted.headers.get('location')).toBe(`/v1/jobs/${job.jobId}`);
    const early = await fetch(`${url}/v1/jobs/${job.jobId}/results.csv`);
    expect(early.status).toBe(409);
    expect(((await early.json()) as { message: string }).message).toMatch(/partial=true/);

    const done = await waitFor('the job to finish', async () => {
      const status = (await (await fetch(`${url}/v1/jobs/${job.jobId}`)).json()) as Record<string, unknown>;
      return status.state === 'done' ? status : undefined;
    });
    expect(done).toMatchObject({
      rowsIn: 300,
      resultsOut: 300,
      rowsSkipped: 1,
      fileName: 'reviews.csv',
      error: null,
    });
    // Line 303: the quoted new line in one row takes a line of the file.
    expect(done.skippedRows).toEqual([{ line: 303, reason: 'empty text' }]);

    const download = await fetch(`${url}/v1/jobs/${job.jobId}/results.csv`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toContain('text/csv');
    const body = await download.text();
    expect(body.split('\r\n')[0]).toBe(
      `id,text,gold,stars,result_id,row,language,top_label,labels,${CORE_EMOTIONS.join(',')},polarity,intensity,model,language_fallback,skipped`,
    );
    const all = parse(body, { columns: true }) as Array<Record<string, string>>;
    // Every row of the file, in its order, the skipped one too (with why).
    expect(all.map((r) => r.id)).toEqual(Array.from({ length: 301 }, (_, i) => `r${i}`));
    expect(all[300]).toMatchObject({
      text: '',
      gold: 'joy',
      stars: '1',
      result_id: '',
      skipped: 'empty text',
    });
    const rows = all.slice(0, 300);
    expect(rows.map((r) => r.row)).toEqual(rows.map((_, i) => String(i)));
    rows.forEach((r, i) => {
      expect(r.gold).toBe(gold(i));
      expect(r.stars).toBe(String((i % 7) - 3));
      expect(r.skipped).toBe('');
      expect(r.result_id).toBe(`r${i}@${r.model!.replace('@', ':')}`);
    });
    const byRow = new Map(rows.map((r) => [Number(r.row), r]));
    for (let i = 0; i < 294; i++) expect(byRow.get(i)?.text).toBe(texts[i]);
    expect(formulas.map((_, k) => byRow.get(294 + k)?.text)).toEqual([
      `'=HYPERLINK("http://evil.example","click")`,
      `'+1 555 0100 call me, so happy`,
      `'@SUM(A1:A9)`,
      `'-2 stars, awful and disgusting`,
      `'\tTab first, then =1+1`,
      'Plain, with "quotes", and a\nnew line',
    ]);
    for (const row of rows) {
      expect(CORE_EMOTIONS).toContain(row.top_label);
      // Empty cells are classes the model lacks; the top label has the highest score of the rest.
      const scores = CORE_EMOTIONS.filter((emotion) => row[emotion] !== '').map((emotion) =>
        Number(row[emotion]),
      );
      expect(scores.every((score) => score >= 0 && score <= 1)).toBe(true);
      expect(Number(row[row.top_label!])).toBe(Math.max(...scores));
      for (const label of row.labels ? row.labels.split(';') : [])
        expect(Number(row[label])).toBeGreaterThanOrEqual(0.5);
      expect(Math.abs(Number(row.polarity))).toBeLessThanOrEqual(1);
      expect(Number(row.intensity)).toBeGreaterThanOrEqual(0);
      // Which model scored the row, and whether it was another language's.
      expect(row.model).toMatch(/^emotion-stream-(en|en-encoder|ro)@/);
      expect(['true', 'false']).toContain(row.language_fallback);
    }
    // The rows the model should find easy, it does.
    const joyRows = rows.filter((r) => Number(r.row) < 294 && Number(r.row) % 6 < 3);
    expect(joyRows.filter((r) => r.top_label === 'joy').length / joyRows.length).toBeGreaterThan(0.9);
    // And the rows went through the pipeline, keyed as batch rows are.
    const decoder = new AvroDecoder<EmotionResult>(stack.registry, avroSchemas.EmotionResult);
    const results = await Promise.all(
      (await readTopic(stack.kafka, topics.emotions)).map((r) => decoder.decode(r.value)),
    );
    expect(results.filter((r) => r.jobId === job.jobId)).toHaveLength(300);

    const unknown = await fetch(`${url}/v1/jobs/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ message: 'no such job' });
    expect((await fetch(`${url}/v1/jobs/not-a-uuid`)).status).toBe(400);
    expect((await fetch(`${url}/v1/jobs/${randomUUID()}/results.csv`)).status).toBe(404);

    const badUploads: Array<[string, RequestInit, number, RegExp]> = [
      [
        'missing column',
        { body: csvUpload('title,body\r\na,b\r\n') },
        400,
        // Named as the API names it (the form field), not as the CLI does (--text-column).
        /reviews\.csv has no column 'text' \(textColumn\)/,
      ],
      ['binary', { body: csvUpload('text\r\n\u0000\u0001\u0002') }, 400, /not a CSV text file/],
      ['empty', { body: csvUpload('') }, 400, /is empty/],
      [
        'no file',
        {
          body: (() => {
            const f = new FormData();
            f.append('textColumn', 'text');
            return f;
          })(),
        },
        400,
        /no "file" part/,
      ],
      [
        'unknown field',
        { body: csvUpload('text\r\nhi\r\n', { colour: 'red' }) },
        400,
        /unknown field "colour"/,
      ],
      [
        'JSON instead',
        { body: '{"text":"hi"}', headers: { 'Content-Type': 'application/json' } },
        415,
        /multipart\/form-data/,
      ],
    ];
    for (const [what, init, status, reason] of badUploads) {
      const response = await fetch(`${url}/v1/jobs/csv`, { method: 'POST', ...init });
      const answer = (await response.json()) as { message: string };
      expect([what, response.status], answer.message).toEqual([what, status]);
      expect(answer.message, what).toMatch(reason);
    }
  });

  it('streams each WebSocket client the results of its streams and labels only, catches up with since, and takes feedback', async () => {
    const { stack, topics } = await pipelineStack('gw-live', gatewayEnv());
    await startTextStages(services, stack);
    const { url } = await startGateway(services, stack);
    const streamA = `a-${randomUUID().slice(0, 8)}`;
    const streamB = `b-${randomUUID().slice(0, 8)}`;

    const onlyA = LiveClient.connect(url, `streams=${streamA}`);
    const joyOfB = LiveClient.connect(url, `streams=${streamB}&labels=joy`);
    const everything = LiveClient.connect(url, '');
    await Promise.all([onlyA.opened, joyOfB.opened, everything.opened]);
    expect(onlyA.messages[0]).toMatchObject({ type: 'hello', streams: [streamA], labels: null });

    for (const [stream, texts] of [
      [streamA, [...JOYFUL, ...ANGRY]],
      [streamB, [...ANGRY, ...JOYFUL]],
    ] as const) {
      const sent = await postJson(`${url}/v1/streams/${stream}/texts`, { texts, language: 'en' });
      expect(sent.status).toBe(202);
      expect(sent.json.segmentIds).toHaveLength(6);
    }
    await everything.waitForResults(12);
    await onlyA.waitForResults(6);
    expect(onlyA.results.every((r) => r.streamId === streamA)).toBe(true);
    // A stream's results arrive in the order its texts were sent.
    expect(onlyA.results.map((r) => r.originalText)).toEqual([...JOYFUL, ...ANGRY]);
    const joyfulB = everything.results.filter((r) => r.streamId === streamB && r.topLabel === 'joy');
    expect(joyfulB.length).toBeGreaterThanOrEqual(2);
    await joyOfB.waitForResults(joyfulB.length);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(joyOfB.results.map((r) => r.id).sort()).toEqual(joyfulB.map((r) => r.id).sort());

    // A late client asks to start from a time and first gets what it missed.
    const late = LiveClient.connect(url, `streams=${streamA}&since=${onlyA.messages[1]!.atMs}`);
    await late.waitForResults(6, 10_000);
    expect(late.results.map((r) => r.id)).toEqual(onlyA.results.map((r) => r.id));
    for (const client of [onlyA, joyOfB, everything, late]) client.close();

    const badQuery = await refusedUpgrade(url, 'labels=happy,joy');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body).toContain('unknown label happy');
    expect((await refusedUpgrade(url, 'since=yesterday')).body).toContain('since must be');

    // Feedback on a result: onto the feedback topic, with the stream and position of the result.
    const target = onlyA.results[3]!;
    const posted = await postJson(`${url}/v1/feedback`, {
      resultId: target.id,
      verdict: 'wrong',
      label: 'sadness',
    });
    expect(posted.status).toBe(202);
    const bad = await postJson(`${url}/v1/feedback`, { resultId: target.id, verdict: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/verdict must be equal to one of the allowed values/);
    expect(
      (await postJson(`${url}/v1/feedback`, { resultId: target.id, verdict: 'wrong', label: 'happy' }))
        .status,
    ).toBe(400);
    const decoder = new AvroDecoder<Feedback>(stack.registry, avroSchemas.Feedback);
    const feedback = await Promise.all(
      (await readTopic(stack.kafka, topics.feedback)).map((r) => decoder.decode(r.value)),
    );
    expect(feedback).toEqual([
      expect.objectContaining({
        id: posted.json.id,
        resultId: target.id,
        streamId: streamA,
        seq: target.seq,
        verdict: 'wrong',
        label: 'sadness',
      }),
    ]);
  });

  it('asks for an API key on REST and WebSocket when keys are set, limits uploads and request rates', async () => {
    const key = 'test-key-0123456789abcdef';
    const { stack } = await pipelineStack('gw-auth', {
      ...gatewayEnv(),
      GATEWAY_API_KEYS: `other-key-0123456789abcdef,${key}`,
      GATEWAY_RATE_LIMIT_MAX: '8',
      GATEWAY_RATE_LIMIT_WINDOW_MS: '60000',
      GATEWAY_UPLOAD_LIMIT_BYTES: '4096',
    });
    const { url } = await startGateway(services, stack);
    const auth = { Authorization: `Bearer ${key}` };

    const anonymous = await postJson(`${url}/v1/predict`, { text: 'hello' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.message).toMatch(/API key/);
    const wrong = await postJson(
      `${url}/v1/predict`,
      { text: 'hello' },
      { Authorization: 'Bearer nope-0123456789abcdef' },
    );
    expect(wrong.status).toBe(401);
    // Whether a job exists is not told to someone without a key.
    const missingJob = await fetch(`${url}/v1/jobs/${randomUUID()}`);
    expect([missingJob.status, await missingJob.text()]).toEqual([401, anonymous.text]);
    expect((await refusedUpgrade(url, 'streams=x')).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    let allowed = 0;
    expect((await postJson(`${url}/v1/predict`, { text: 'hello' }, auth)).status).toBe(200);
    allowed += 1;
    const browser = LiveClient.connect(url, `streams=x&access_token=${key}`);
    await browser.opened;
    allowed += 1;
    browser.close();
    const tooBig = await fetch(`${url}/v1/jobs/csv`, {
      method: 'POST',
      headers: auth,
      body: csvUpload(`text\r\n${'a long row of text\r\n'.repeat(400)}`),
    });
    allowed += 1;
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { message: string }).message).toBe(
      'the upload is larger than the limit of 4096 bytes',
    );

    let limited: Response | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const response = await fetch(`${url}/v1/predict`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: '{"text":"hello"}',
      });
      if (response.status === 429) limited = response;
      else allowed += 1;
    }
    expect(limited).toBeDefined();
    expect(allowed).toBe(8);
    expect(limited!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await limited!.json()) as { message: string }).message).toMatch(/Rate limit exceeded/i);
  });

  it('closes a WebSocket client that stops reading, with a reason, instead of buffering without end', async () => {
    const { stack } = await pipelineStack('gw-slow', { ...gatewayEnv(), GATEWAY_LIVE_BUFFER_BYTES: '65536' });
    const { url, gateway, metrics } = await startGateway(services, stack);
    const slow = LiveClient.connect(url, 'streams=flood');
    const reader = LiveClient.connect(url, 'streams=other');
    await Promise.all([slow.opened, reader.opened]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The client stops reading from its TCP socket: the kernel buffers fill, then the server's.
    (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const result = (seq: number, streamId: string): EmotionResult => ({
      id: `flood:${seq}@m:1`,
      segmentId: `flood:${seq}`,
      streamId,
      seq,
      text: 'x'.repeat(2000),
      originalText: 'x'.repeat(2000),
      language: 'en',
      languageFallback: false,
      core: { anger: 0.1, disgust: 0.1, fear: 0.1, joy: 0.1, neutral: 0.4, sadness: 0.1, surprise: 0.1 },
      distribution: null,
      labels: ['neutral'],
      sentiment: null,
      fine: null,
      topLabel: 'neutral',
      model: { name: 'm', version: '1', engine: 'test' },
      startMs: null,
      endMs: null,
      jobId: null,
      speaker: null,
      trace: [],
    });
    let published = 0;
    while (gateway.hub.clientCount > 1 && published < 100_000) {
      gateway.hub.publish(result(published, 'flood'), Date.now());
      published += 1;
      if (published % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(gateway.hub.clientCount).toBe(1);
    expect(await counterValue(metrics, 'gateway_live_slow_clients_closed_total')).toBe(1);
    expect(await counterValue(metrics, 'gateway_live_messages_dropped_total')).toBeGreaterThanOrEqual(1);
    // Memory stayed bounded: the client was cut off after about its limit plus what the kernel holds.
    expect(published * 2100).toBeLessThan(64 * 1024 * 1024);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/too slow: over 65536 bytes unread; reconnect with since=\d+/);
    // The other client is unaffected.
    gateway.hub.publish(result(published, 'other'), Date.now());
    await reader.waitForResults(1, 5000);
    reader.close();
  });

  it('with tracing off, passes the W3C trace context of a request through every stage unchanged', async () => {
    // No OTEL_EXPORTER_OTLP_ENDPOINT: no spans are made, but a caller's trace can still be followed
    // by its id in every record (test/integration/tracing.test.ts covers the spans themselves).
    const { stack, topics } = await pipelineStack('gw-trace', gatewayEnv());
    await startTextStages(services, stack);
    const { url } = await startGateway(services, stack);
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const sent = await fetch(`${url}/v1/streams/traced/texts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: incoming, tracestate: 'vendor=abc' },
      body: JSON.stringify({ texts: ['I am so happy today!', 'This is awful.'], language: 'en' }),
    });
    expect(sent.status).toBe(202);
    // A request without one sends none.
    await fetch(`${url}/v1/streams/untraced/texts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ texts: ['Fine.'], language: 'en' }),
    });
    let emotions: Awaited<ReturnType<typeof readTopic>> = [];
    for (const deadline = Date.now() + 60_000; emotions.length < 3 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      emotions = await readTopic(stack.kafka, topics.emotions);
    }
    const hops = [topics.segmentsRaw, topics.segmentsCorrected, topics.segmentsTranslated];
    const traced = async (topic: string) =>
      (await readTopic(stack.kafka, topic)).filter((r) => r.key === 'traced').map((r) => r.headers);
    const records = [
      ...(await Promise.all(hops.map(traced))).flat(),
      ...emotions.filter((r) => r.key === 'traced').map((r) => r.headers),
    ];
    expect(records).toHaveLength(2 * 4);
    for (const headers of records) {
      expect(headers.traceparent).toBe(incoming);
      expect(headers.tracestate).toBe('vendor=abc');
    }
    expect(emotions.find((r) => r.key === 'untraced')!.headers.traceparent).toBeUndefined();
  });
});
