/**
 * The streaming server's one-time tokens: an Exec, Attach or PortForward
 * call leaves its checked request here under an unguessable token; the URL
 * it answers carries the token, and the first request to that URL takes it
 * (a second gets 404), as the kubelet's request cache does. A token not used
 * within its lifetime (the kubelet's one minute) is gone too.
 */
import { randomBytes } from 'node:crypto';

/** The kubelet's streaming request cache keeps a request for one minute. */
export const TOKEN_LIFETIME_MS = 60_000;

/** Bounds the cache: a caller that asks for URLs and never uses them cannot grow it without end. */
const MAX_TOKENS = 1000;

interface Entry<T> {
  readonly value: T;
  readonly expires: number;
}

export class TokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly lifetimeMs = TOKEN_LIFETIME_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Stores `value` under a new token (32 random bytes, URL-safe base64). */
  put(value: T): string {
    this.sweep();
    // The oldest token goes first when the cache is full (a Map iterates in insertion order).
    while (this.entries.size >= MAX_TOKENS) this.entries.delete(this.entries.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    this.entries.set(token, { value, expires: this.now() + this.lifetimeMs });
    return token;
  }

  /** The value of `token` once: it is removed whether or not it had expired. */
  take(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return entry.expires > this.now() ? entry.value : undefined;
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expires <= now) this.entries.delete(token);
  }
}
