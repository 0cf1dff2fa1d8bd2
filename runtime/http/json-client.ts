import { Backoff } from '../backoff.js';
import { RetryableError } from '../errors.js';

/** A non-2xx answer that retrying will not fix (400, 401, 404, ...). */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(
    readonly status: number,
    readonly body: string,
    url: string,
  ) {
    super(`${url} answered ${status}: ${body.slice(0, 300)}`);
  }
}

export interface JsonRequestOptions {
  headers?: Record<string, string>;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first, on 408, 429, 5xx, timeouts and connection errors. */
  maxRetries: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Called before each retry (for metrics and logs). */
  onRetry?: (reason: string, attempt: number, waitMs: number) => void;
}

const RETRY_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * POSTs JSON and returns the parsed answer, retrying what is worth retrying with exponential
 * backoff (honouring Retry-After). When retries run out it throws RetryableError, so a stage pauses
 * instead of losing the record; an answer no retry can fix throws HttpStatusError.
 */
export async function postJson<T>(url: string, body: unknown, options: JsonRequestOptions): Promise<T> {
  const backoff = new Backoff(options.retryInitialMs ?? 250, options.retryMaxMs ?? 8000);
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await response.text();
      if (response.ok) {
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new HttpStatusError(response.status, `not JSON: ${text}`, url);
        }
      }
      if (!RETRY_STATUS(response.status)) throw new HttpStatusError(response.status, text, url);
      reason = `HTTP ${response.status}`;
      retryAfterMs = retryAfter(response.headers.get('retry-after'));
    } catch (error) {
      if (error instanceof HttpStatusError) throw error;
      const name = (error as Error).name;
      reason =
        name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : describeNetworkError(error);
    }
    if (attempt >= options.maxRetries) {
      throw new RetryableError(`${url} unavailable after ${attempt + 1} attempts: ${reason}`);
    }
    const waitMs = Math.min(retryAfterMs ?? backoff.next(), options.retryMaxMs ?? 8000);
    options.onRetry?.(reason, attempt + 1, waitMs);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
