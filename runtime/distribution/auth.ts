/**
 * Registry authentication: what Authorization header a request carries.
 *
 * Flow (Docker's and containerd's):
 *   1. A host we know nothing about gets no header. Its 401 carries
 *      WWW-Authenticate challenges; we remember them per host, so later
 *      requests authenticate up front instead of collecting a 401 each.
 *   2. Basic: `Basic base64(user:pass)` when credentials have both.
 *   3. Bearer: a token from the challenge's realm —
 *        GET  realm?service=S&scope=… (Basic credentials when present, else anonymous), or
 *        POST realm grant_type=refresh_token (when an identity token is set; OAuth2).
 *      The answer's `token` or `access_token` is cached for `expires_in`
 *      (default 60 s) minus a margin, keyed by host, realm, service, scope
 *      set and credential identity — one caller's token never serves another.
 *   4. registryToken is sent as a Bearer token as-is, from the first request.
 *   5. A 401 for a request that carried a cached token drops that token and
 *      retries once with a fresh one; a second 401 is Unauthenticated.
 *
 * A Bearer realm on plain http: for a registry that speaks HTTPS is refused
 * (it would receive the credentials in the clear) unless the user named the
 * registry with --insecure-registry.
 *
 * Errors: Unauthenticated when the token server refuses the credentials or
 * returns no token, or its realm would downgrade to HTTP;
 * Unavailable/Cancelled from the transport.
 */
import { createHash } from 'node:crypto';
import type { Ctx } from '../context';
import { GantryError, isCancelled } from '../errdefs/errdefs';
import type { RegistryAuth } from './distribution';
import { Challenge, parseChallenges } from './challenge';
import { readSmallBody, registryErrorText, statusError } from './errors';
import type { Transport } from './transport';

const DEFAULT_TOKEN_SECONDS = 60;
/** Renew this long before expiry (at most a quarter of the lifetime), so a token never dies in flight. */
const EXPIRY_MARGIN_MS = 10_000;
const MAX_TOKEN_BODY = 1024 * 1024;
const CLIENT_ID = 'gantry';

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export interface AuthorizerOptions {
  /** Clock, for tests. */
  readonly now?: () => number;
}

export class Authorizer {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  private readonly now: () => number;

  constructor(
    private readonly transport: Transport,
    opts: AuthorizerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The header for a request to `host` before any 401, from what is known so far (may fetch a token). */
  async header(ctx: Ctx, host: string, scopes: readonly string[], creds: RegistryAuth | undefined): Promise<string | undefined> {
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const challenge = this.challenges.get(host);
    return challenge ? this.headerFor(ctx, host, challenge, scopes, creds) : undefined;
  }

  /**
   * After a 401: remembers the challenge, drops the token that was `sent`, and
   * returns the header to retry with — or undefined when there is nothing new
   * to try (no usable challenge, no credentials for Basic, the same header).
   */
  async challenged(
    ctx: Ctx,
    host: string,
    scopes: readonly string[],
    creds: RegistryAuth | undefined,
    wwwAuthenticate: string | string[] | undefined,
    sent: string | undefined,
  ): Promise<string | undefined> {
    const all = parseChallenges(wwwAuthenticate);
    const challenge = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (!challenge) return undefined;
    this.challenges.set(host, challenge);
    if (sent?.startsWith('Bearer ')) this.forget(sent.slice('Bearer '.length));
    const next = await this.header(ctx, host, scopes, creds);
    return next === sent ? undefined : next;
  }

  private async headerFor(
    ctx: Ctx,
    host: string,
    challenge: Challenge,
    scopes: readonly string[],
    creds: RegistryAuth | undefined,
  ): Promise<string | undefined> {
    if (challenge.scheme === 'basic') {
      if (creds?.username === undefined || creds.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const scopeSet = [...new Set(scopes)].sort();
    const { realm = '', service = '' } = challenge.params;
    const key = [host, realm, service, scopeSet.join(' '), credentialId(creds)].join('\n');
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(ctx, host, challenge, scopeSet, creds);
      this.inflight.set(key, pending);
      const p = pending;
      p.then(
        (t) => this.remember(key, t),
        () => undefined,
      ).finally(() => this.inflight.get(key) === p && this.inflight.delete(key));
    }
    try {
      return `Bearer ${(await pending).token}`;
    } catch (e) {
      // The fetch ran on another caller's ctx; its cancellation is not ours.
      if (isCancelled(e) && !ctx.signal.aborted) {
        if (this.inflight.get(key) === pending) this.inflight.delete(key);
        return this.headerFor(ctx, host, challenge, scopes, creds);
      }
      throw e;
    }
  }

  /** Caches a token, dropping expired ones so a long-lived daemon's cache does not only grow. */
  private remember(key: string, token: CachedToken): void {
    const now = this.now();
    for (const [k, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(k);
    this.tokens.set(key, token);
  }

  private forget(token: string): void {
    for (const [key, t] of this.tokens) if (t.token === token) this.tokens.delete(key);
  }

  private async fetchToken(
    ctx: Ctx,
    host: string,
    challenge: Challenge,
    scopes: readonly string[],
    creds: RegistryAuth | undefined,
  ): Promise<CachedToken> {
    const { realm, service } = challenge.params;
    let url: URL;
    try {
      url = new URL(realm ?? '');
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new GantryError(
        'Unauthenticated',
        `registry ${host} sent a Bearer challenge without a usable realm (${JSON.stringify(realm)})`,
      );
    }
    // The token request carries the user's password: never over a weaker
    // channel than the registry's own.
    if (url.protocol === 'http:' && !this.transport.mayDowngrade(host) && (await this.transport.endpoint(ctx, host)).startsWith('https:')) {
      throw new GantryError(
        'Unauthenticated',
        `registry ${host} speaks HTTPS but sent a token realm on plain HTTP (${url.origin}); refusing to send credentials there ` +
          `(start gantryd with --insecure-registry ${host} to allow it)`,
      );
    }
    const started = this.now();
    const res = creds?.identityToken
      ? await this.transport.send(ctx, host, {
          method: 'POST',
          url: url.toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: creds.identityToken,
            client_id: CLIENT_ID,
            ...(service ? { service } : {}),
            ...(scopes.length ? { scope: scopes.join(' ') } : {}),
          }).toString(),
        })
      : await this.transport.send(ctx, host, { method: 'GET', url: tokenUrl(url, service, scopes, creds), headers: basicHeader(creds) });

    const body = await readSmallBody(res.body, MAX_TOKEN_BODY);
    const subject = `token for ${host} from ${url.origin}${url.pathname}`;
    if (res.statusCode === 401 || res.statusCode === 403) {
      const why = registryErrorText(body) ?? oauthError(body) ?? 'credentials refused';
      throw new GantryError('Unauthenticated', `${why}: ${subject}`);
    }
    if (res.statusCode !== 200) throw statusError(res.statusCode, subject, body);
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.toString());
    } catch {
      throw new GantryError('Unauthenticated', `token server answered with malformed JSON: ${subject}`);
    }
    const token = typeof doc.token === 'string' && doc.token ? doc.token : doc.access_token;
    if (typeof token !== 'string' || !token) throw new GantryError('Unauthenticated', `token server returned no token: ${subject}`);
    // Docker treats anything under 60 s as 60 s.
    const seconds = typeof doc.expires_in === 'number' && doc.expires_in > DEFAULT_TOKEN_SECONDS ? doc.expires_in : DEFAULT_TOKEN_SECONDS;
    const lifetime = seconds * 1000;
    return { token, expiresAt: started + lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 4) };
  }
}

function tokenUrl(realm: URL, service: string | undefined, scopes: readonly string[], creds: RegistryAuth | undefined): string {
  const url = new URL(realm);
  if (service) url.searchParams.set('service', service);
  for (const s of scopes) url.searchParams.append('scope', s);
  if (creds?.username) url.searchParams.set('account', creds.username);
  return url.toString();
}

function basicHeader(creds: RegistryAuth | undefined): Record<string, string> {
  if (creds?.username === undefined || creds.password === undefined) return {};
  return { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` };
}

function oauthError(body: Buffer): string | undefined {
  try {
    const doc = JSON.parse(body.toString()) as { error?: unknown; error_description?: unknown };
    const parts = [doc.error, doc.error_description].filter((p): p is string => typeof p === 'string' && !!p);
    return parts.length ? parts.join(': ') : undefined;
  } catch {
    return undefined;
  }
}

/** A stable, non-reversible name for a set of credentials (cache keys must not hold secrets). */
export function credentialId(creds: RegistryAuth | undefined): string {
  if (!creds || (!creds.username && !creds.password && !creds.identityToken && !creds.registryToken)) return 'anonymous';
  return createHash('sha256')
    .update(JSON.stringify([creds.username ?? '', creds.password ?? '', creds.identityToken ?? '', creds.registryToken ?? '']))
    .digest('hex')
    .slice(0, 32);
}

/** The pull scope for a repository path, as the token spec spells it. */
export function pullScope(path: string): string {
  return `repository:${path}:pull`;
}
