import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/config.js';
import { type RunningGateway, startGatewayService } from '../../gateway/service.js';
import { gatewayEnv, refusedUpgrade } from '../support/gateway.js';
import { pipelineStack } from '../support/pipeline.js';

const API_KEY = 'secret-api-key-0123456789abcdef';
const WRONG_KEY = 'wrong-api-key-0123456789abcdef0';

let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

/** GET with the path sent as written: fetch would resolve `..` before sending it. */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('limits and auth', () => {
  it('never logs a secret, refuses alike whether a stream exists, and serves no file outside its folders', async () => {
    const { stack } = await pipelineStack('auth-paths', { ...gatewayEnv(), GATEWAY_API_KEYS: API_KEY });
    // Everything the gateway logs, at debug level, kept to search for secrets.
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    gateway = await startGatewayService({
      config: stack.config,
      logger: pino({ level: 'debug' }, sink),
      metrics: new Registry(),
    });
    const { url } = gateway;
    const port = Number(new URL(url).port);
    const auth = { authorization: `Bearer ${API_KEY}` };

    // A stream that exists and one that does not: without a key, the same 401 for both.
    const text = await fetch(`${url}/v1/streams/known/texts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ texts: ['I am so happy'] }),
    });
    expect(text.status).toBe(202);
    const refusals = await Promise.all(
      ['/v1/streams/known', '/v1/streams/unknown', `/v1/jobs/${crypto.randomUUID()}`].map(async (path) => {
        const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${WRONG_KEY}` } });
        return { status: response.status, body: await response.text() };
      }),
    );
    expect(new Set(refusals.map((refusal) => JSON.stringify(refusal))).size).toBe(1);
    expect(refusals[0]!.status).toBe(401);
    const ws = await refusedUpgrade(url, `streams=known&access_token=${WRONG_KEY}`);
    expect(ws.status).toBe(401);
    expect(ws.body).not.toMatch(/known/);

    // Path traversal, plain and encoded, on the dashboard's and the vendor folder's routes and a job's download.
    for (const path of [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/vendor/uplot/../../package.json',
      '/vendor/uplot/%2e%2e%2f%2e%2e%2fpackage.json',
      '/vendor/uplot/uPlot.cjs.js',
      '/v1/jobs/..%2f..%2f..%2fetc%2fpasswd/results.csv',
    ]) {
      const response = await rawGet(port, path);
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
      expect(response.body, path).not.toMatch(/root:|"dependencies"|module\.exports/);
    }

    // Keys presented right and wrong, in the header and the query, on good and failing requests.
    await fetch(`${url}/v1/predict?access_token=${API_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text": 1}',
    });
    await fetch(`${url}/v1/predict?access_token=${WRONG_KEY}`, { method: 'POST' });
    await fetch(`${url}/v1/predict`, { method: 'POST', headers: { authorization: `Bearer ${WRONG_KEY}` } });
    await gateway.stop();
    gateway = undefined;
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(0);
    const storageKey = /AccountKey=([^;]+)/.exec(stack.config.blob.connectionString ?? '')?.[1];
    for (const secret of [API_KEY, WRONG_KEY, storageKey].filter(Boolean) as string[]) {
      expect(log.includes(secret), 'a secret in the log').toBe(false);
    }
  });

  it('listens on loopback only without keys, and refuses stream URLs into its own network, redirects included', async () => {
    // The secure default, read from the same configuration loader the gateway uses.
    expect(loadConfig({}).gateway.host).toBe('127.0.0.1');
    expect(loadConfig({ GATEWAY_API_KEYS: API_KEY }).gateway.host).toBe('0.0.0.0');
    expect(loadConfig({ GATEWAY_HOST: '0.0.0.0' }).gateway.host).toBe('0.0.0.0');

    const { stack } = await pipelineStack('url-guard', gatewayEnv());
    gateway = await startGatewayService({
      config: stack.config,
      logger: stack.logger,
      metrics: new Registry(),
    });
    const start = (url: string) =>
      fetch(`${gateway!.url}/v1/streams`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url }),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { message: string },
      }));
    // (Redirect hops are checked one by one: test/unit/url-guard.test.ts, with a resolver of its own.)
    const refusals: Array<[string, RegExp]> = [
      ['http://127.0.0.1:9/a.mp3', /refused: 127\.0\.0\.1 is 127\.0\.0\.1, a loopback address/],
      ['http://localhost:9/a.mp3', /refused: localhost is .*a loopback address/],
      ['http://[::1]:9/a.mp3', /a loopback address/],
      ['http://[::ffff:127.0.0.1]:9/a.mp3', /a loopback address/],
      [
        'http://169.254.169.254/latest/meta-data/',
        /link-local address \(where cloud metadata services answer\)/,
      ],
      ['rtmp://10.0.0.7/live/key', /10\.0\.0\.7, a private or reserved address/],
    ];
    for (const [url, reason] of refusals) {
      const answer = await start(url);
      expect(answer.status, url).toBe(400);
      expect(answer.body.message, url).toMatch(reason);
      expect(answer.body.message).toContain('GATEWAY_STREAM_URL_ALLOW');
    }
    // A URL with no host is a clear 400 too, never a 500.
    const hostless = await start('http://');
    expect(hostless.status).toBe(400);
    expect(hostless.body.message).toMatch(/not a valid URL/);
  });
});
