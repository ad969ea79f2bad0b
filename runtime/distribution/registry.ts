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
import type {
  CredentialLookup,
  Fetcher,
  FetcherOptions,
  PageOptions,
  Reference,
  Registry,
  RegistryAuth,
  RegistryOptions,
} from './distribution';
import { RegistryHosts, type RegistryEndpoint } from './registryHosts';
import { listCatalog } from './catalog';
import { deleteTag, listTags } from './tags';
import { Authorizer } from './auth';
import { discardBody, readSmallBody, statusError } from './errors';
import { RegistryFetcher } from './fetcher';
import { RegistryPusher, type Pusher } from './pusher';
import { apiHost, DEFAULT_CERTS_DIR, normalizeHost } from './hosts';
import { DEFAULT_BACKOFF } from './retry';
import { HttpRequest, HttpResponse, Transport, type TransportOptions } from './transport';

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

// A mirror that fails is left for the next host after one retry, not five.
const MIRROR_RETRIES = 1;

export class RegistryClient implements Registry {
  readonly transport: Transport;
  readonly auth: Authorizer;
  readonly hosts: RegistryHosts;
  readonly logger?: Logger;
  /** Clients of mirrors and of hosts with hosts.toml TLS settings: their own pools, TLS and token caches. */
  private readonly endpointClients = new Map<string, RegistryClient>();

  constructor(
    private readonly options: RegistryOptions,
    private readonly deps: RegistryDeps,
    transportExtra: Pick<TransportOptions, 'tls' | 'connectTimeoutMs'> = {},
  ) {
    this.transport = new Transport({
      certsDir: options.certsDir ?? DEFAULT_CERTS_DIR,
      insecureRegistries: options.insecureRegistries ?? [],
      backoff: { ...DEFAULT_BACKOFF, ...deps.backoff, maxRetries: options.maxRetries ?? DEFAULT_BACKOFF.maxRetries },
      userAgent: options.userAgent ?? `gantry/${GANTRY_VERSION}`,
      logger: deps.logger,
      ...transportExtra,
    });
    this.auth = new Authorizer(this.transport, { now: deps.now });
    this.hosts = new RegistryHosts({ configDir: options.registryConfigDir, dockerMirrors: options.registryMirrors });
    this.logger = deps.logger;
  }

  fetcher(credentials?: CredentialLookup, options: FetcherOptions = {}): Fetcher {
    return new RegistryFetcher(this, credentials, options.mirrors !== false);
  }

  /** Credentials for a mirror host: the daemon user's, never a caller's. */
  mirrorCredentials(host: string): Promise<RegistryAuth | undefined> {
    const lookup = this.options.mirrorCredentials;
    return Promise.resolve(lookup ? lookup(host) : undefined);
  }

  /** The client that talks to `ep`: this one for the registry itself as configured by flags, else a cached one of its own. */
  clientFor(ep: RegistryEndpoint): RegistryClient {
    if (!ep.mirror && !ep.tls && ep.dialTimeoutMs === undefined) return this;
    const key = JSON.stringify([ep.mirror, ep.tls ?? null, ep.dialTimeoutMs ?? null]);
    let client = this.endpointClients.get(key);
    if (!client) {
      const retries = ep.mirror ? Math.min(MIRROR_RETRIES, this.options.maxRetries ?? MIRROR_RETRIES) : this.options.maxRetries;
      client = new RegistryClient({ ...this.options, maxRetries: retries }, this.deps, {
        tls: ep.tls,
        connectTimeoutMs: ep.dialTimeoutMs,
      });
      this.endpointClients.set(key, client);
    }
    return client;
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

  async close(): Promise<void> {
    const children = [...this.endpointClients.values()];
    this.endpointClients.clear();
    await Promise.all([this.transport.close(), ...children.map((c) => c.close())]);
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
