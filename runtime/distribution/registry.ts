/**
 * The daemon's registry client (see distribution.ts for the contract):
 * one Transport (pools, TLS, retries) and one Authorizer (challenges, token
 * cache) shared by every Fetcher it hands out.
 *
 * A request goes: endpoint (scheme) → Authorization from what the host asked
 * for before → send → on 401, the challenge decides one retry → on 3xx (blobs
 * only), follow up to 5 hops, without Authorization once off the registry's
 * host (storage backends get pre-signed URLs, not our credentials). A hop
 * from HTTPS to plain HTTP on the registry's own host is refused unless the
 * host is a named --insecure-registry.
 */
import type { Ctx } from '../context';
import { GantryError } from '../errdefs/errdefs';
import type { Logger } from '../util/log';
import { GANTRY_VERSION } from '../version';
import type { CredentialLookup, Fetcher, PageOptions, Reference, Registry, RegistryAuth, RegistryOptions } from './distribution';
import { listCatalog } from './catalog';
import { deleteTag, listTags } from './tags';
import { Authorizer } from './auth';
import { discardBody, readSmallBody, statusError } from './errors';
import { RegistryFetcher } from './fetcher';
import { RegistryPusher, type Pusher } from './pusher';
import { apiHost, DEFAULT_CERTS_DIR, normalizeHost } from './hosts';
import { DEFAULT_BACKOFF } from './retry';
import { HttpRequest, HttpResponse, Transport } from './transport';

export interface RegistryDeps {
  readonly logger?: Logger;
  /** Backoff base/cap overrides (tests); maxRetries comes from RegistryOptions. */
  readonly backoff?: { baseMs?: number; maxMs?: number; maxRetryAfterMs?: number };
  /** Clock for token expiry (tests). */
  readonly now?: () => number;
}

export function createRegistry(options: RegistryOptions = {}, deps: RegistryDeps = {}): Registry {
  return new RegistryClient(options, deps);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class RegistryClient implements Registry {
  readonly transport: Transport;
  readonly auth: Authorizer;

  constructor(options: RegistryOptions, deps: RegistryDeps) {
    this.transport = new Transport({
      certsDir: options.certsDir ?? DEFAULT_CERTS_DIR,
      insecureRegistries: options.insecureRegistries ?? [],
      backoff: { ...DEFAULT_BACKOFF, ...deps.backoff, maxRetries: options.maxRetries ?? DEFAULT_BACKOFF.maxRetries },
      userAgent: options.userAgent ?? `gantry/${GANTRY_VERSION}`,
      logger: deps.logger,
    });
    this.auth = new Authorizer(this.transport, { now: deps.now });
  }

  fetcher(credentials?: CredentialLookup): Fetcher {
    return new RegistryFetcher(this, credentials);
  }

  pusher(credentials?: CredentialLookup): Pusher {
    return new RegistryPusher(this, credentials);
  }

  async login(ctx: Ctx, host: string, auth: RegistryAuth): Promise<void> {
    const domain = normalizeHost(host);
    const api = apiHost(domain);
    const base = await this.transport.endpoint(ctx, api);
    // No scope: the token only has to prove the credentials, like `docker login`.
    const res = await this.request(ctx, api, [], auth, { method: 'GET', url: `${base}/v2/` });
    if (res.statusCode === 200) {
      await discardBody(res.body);
      return;
    }
    throw statusError(
      res.statusCode,
      `login to ${domain}`,
      await readSmallBody(res.body),
      res.statusCode === 401 ? 'unauthorized: credentials refused' : undefined,
    );
  }

  catalog(ctx: Ctx, host: string, creds: RegistryAuth | undefined, opts?: PageOptions): Promise<string[]> {
    return listCatalog(this, ctx, host, creds, opts);
  }

  tags(ctx: Ctx, repo: Reference, creds: RegistryAuth | undefined, opts?: PageOptions): Promise<string[]> {
    return listTags(this, ctx, repo, creds, opts);
  }

  deleteTag(ctx: Ctx, ref: Reference, creds: RegistryAuth | undefined): Promise<string> {
    return deleteTag(this, ctx, ref, creds);
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /**
   * An authenticated request to registry `host` (an API host such as
   * "registry-1.docker.io"), following up to `maxRedirects` redirects.
   * Resolves with whatever status the last hop answered; the caller maps it.
   */
  async request(
    ctx: Ctx,
    host: string,
    scopes: readonly string[],
    creds: RegistryAuth | undefined,
    req: HttpRequest,
    maxRedirects = 0,
  ): Promise<HttpResponse> {
    let url = req.url;
    for (let hop = 0; ; hop++) {
      const onRegistry = new URL(url).host === host.toLowerCase();
      const res = onRegistry
        ? await this.authorized(ctx, host, scopes, creds, { ...req, url })
        : await this.transport.send(ctx, host, { ...req, url });
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string') return res;
      await discardBody(res.body);
      if (hop >= maxRedirects) {
        throw new GantryError('Unavailable', `registry ${host}: more than ${maxRedirects} redirects for ${req.url}`);
      }
      const next = new URL(location, url);
      // A hop on the registry's own host carries Authorization: not in the clear.
      if (
        next.protocol === 'http:' &&
        new URL(url).protocol === 'https:' &&
        next.host === host.toLowerCase() &&
        !this.transport.mayDowngrade(host)
      ) {
        throw new GantryError(
          'FailedPrecondition',
          `registry ${host} redirected ${req.url} from HTTPS to plain HTTP (${next.origin}); refusing to send credentials there ` +
            `(start gantryd with --insecure-registry ${host} to allow it)`,
        );
      }
      url = next.toString();
    }
  }

  private async authorized(
    ctx: Ctx,
    host: string,
    scopes: readonly string[],
    creds: RegistryAuth | undefined,
    req: HttpRequest,
  ): Promise<HttpResponse> {
    const header = await this.auth.header(ctx, host, scopes, creds);
    const res = await this.transport.send(ctx, host, withAuthorization(req, header));
    if (res.statusCode !== 401) return res;
    const next = await this.auth.challenged(ctx, host, scopes, creds, res.headers['www-authenticate'], header);
    if (next === undefined) return res;
    await discardBody(res.body);
    return this.transport.send(ctx, host, withAuthorization(req, next));
  }
}

function withAuthorization(req: HttpRequest, header: string | undefined): HttpRequest {
  return header ? { ...req, headers: { ...req.headers, authorization: header } } : req;
}
