/**
 * Retries for registry requests: exponential backoff with jitter, Retry-After,
 * and which failures are worth another try.
 *
 * Only failures that say nothing about the request itself are retried: 5xx
 * (except 501/505, which will not change), 429, and connection-level errors
 * that happen before response headers arrive (reset, refused, closed socket,
 * connect timeout). Once headers are in, the caller owns the body; a body that
 * breaks mid-way is the caller's to resume (fetchBlob's offset).
 *
 * Cancellation wins over everything: an aborted ctx stops the loop at once,
 * including during a backoff sleep, with a Cancelled error.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Ctx } from '../context';
import { errorOf } from '../errdefs/errdefs';

export interface BackoffOptions {
  /** Retries after the first attempt (default 5). */
  readonly maxRetries: number;
  /** First delay before jitter (default 200 ms); doubles per retry. */
  readonly baseMs: number;
  /** Cap on the computed delay (default 5 s). */
  readonly maxMs: number;
  /** A Retry-After longer than this is not waited for: the response is returned as is (default 30 s). */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { maxRetries: 5, baseMs: 200, maxMs: 5_000, maxRetryAfterMs: 30_000 };

export const cancelled = errorOf('Cancelled');

/**
 * Delay before retry number `attempt` (0-based): "equal jitter", i.e. half of
 * the capped exponential plus a random share of the other half, so clients
 * that failed together do not come back together yet never retry at once.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** attempt);
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or malformed. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP dates have a day or month name; Date.parse alone would take "-1" as a year.
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

// Failures of the connection, not of the request. ENOTFOUND is missing on
// purpose: a name that does not resolve will not start resolving in a second.
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isRetryableNetworkError(e: unknown): boolean {
  const code = errorCode(e) ?? errorCode((e as { cause?: unknown } | undefined)?.cause);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** Sleeps `ms`, or rejects with Cancelled as soon as ctx is aborted. */
export async function sleep(ctx: Ctx, ms: number): Promise<void> {
  try {
    await sleepFor(ms, undefined, { signal: ctx.signal });
  } catch (e) {
    throw cancelled('cancelled while waiting to retry', e);
  }
}

export function throwIfCancelled(ctx: Ctx, cause?: unknown): void {
  if (ctx.signal.aborted) throw cancelled('cancelled', cause ?? ctx.signal.reason);
}

export interface RetryHooks<T> {
  /**
   * Whether a result must be retried: a delay in ms (honouring Retry-After)
   * or undefined to return it. Called only while retries remain.
   */
  judge?(result: T, attempt: number): number | undefined;
  /** Releases a result that is being retried (drain its body). */
  discard?(result: T): Promise<void>;
  /** Told about each retry, for logging. */
  onRetry?(attempt: number, delayMs: number, reason: unknown): void;
}

/**
 * Runs `fn` until it returns an acceptable result, throws a non-retryable
 * error, or retries run out (then the last result is returned, or the last
 * error thrown). Errors thrown while ctx is aborted become Cancelled.
 */
export async function retry<T>(ctx: Ctx, opts: BackoffOptions, fn: (attempt: number) => Promise<T>, hooks: RetryHooks<T> = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    throwIfCancelled(ctx);
    let result: T;
    try {
      result = await fn(attempt);
    } catch (e) {
      throwIfCancelled(ctx, e);
      if (attempt >= opts.maxRetries || !isRetryableNetworkError(e)) throw e;
      const delay = backoffDelay(attempt, opts);
      hooks.onRetry?.(attempt + 1, delay, e);
      await sleep(ctx, delay);
      continue;
    }
    const delay = attempt < opts.maxRetries ? hooks.judge?.(result, attempt) : undefined;
    if (delay === undefined) return result;
    await hooks.discard?.(result);
    hooks.onRetry?.(attempt + 1, delay, result);
    await sleep(ctx, delay);
  }
}

interface HttpLike {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** judge() for HTTP responses: retry 5xx/429 after Retry-After or the backoff delay. */
export function httpJudge(opts: BackoffOptions): (res: HttpLike, attempt: number) => number | undefined {
  return (res, attempt) => {
    if (!isRetryableStatus(res.statusCode)) return undefined;
    const after = parseRetryAfter(res.headers['retry-after']);
    if (after !== undefined) return after <= opts.maxRetryAfterMs ? after : undefined;
    return backoffDelay(attempt, opts);
  };
}
