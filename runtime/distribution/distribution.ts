/**
 * Distribution: talking to OCI registries (distribution-spec v1.1).
 *
 * Terms
 * - A *reference* names an image in a registry: `domain/path[:tag][@digest]`,
 *   normalised as Docker does (`busybox` → `docker.io/library/busybox:latest`).
 * - *Resolving* a reference asks the registry which manifest (or index) it
 *   points at and yields that manifest's descriptor (digest, media type, size).
 * - *Fetching* reads a manifest or blob by digest. Bytes are not verified
 *   here: the content store verifies everything it ingests. The fetcher only
 *   enforces sizes it can know up front (MAX_MANIFEST_BYTES, Content-Length
 *   against the descriptor).
 *
 * Transport rules
 * - HTTPS with the system CAs plus `<certsDir>/<host:port>/ca.crt` (Docker's
 *   certs.d layout; default /etc/gantry/certs.d). Plain HTTP only for loopback
 *   registries and hosts listed as insecure (daemon flag --insecure-registry).
 * - Retries with exponential backoff on 5xx, 429 (honouring Retry-After) and
 *   connection resets, for idempotent requests only; never on 4xx other than 429.
 * - Keep-alive connections are reused; one client per daemon.
 * - Mirrors (registryHosts.ts): pulls try the configured hosts in order and
 *   fall through to the next on any failure; pushes, catalog, tags and
 *   deletes go to the registry itself.
 * - Auth: anonymous first; on a 401 challenge Basic or Bearer (token GET with
 *   scope/service, or OAuth2 POST with a refresh token), tokens cached per
 *   (host, scope) until expiry.
 *
 * Errors (errdefs kinds): NotFound (unknown manifest/blob/tag/repository),
 * Unauthenticated (credentials missing or refused), PermissionDenied,
 * InvalidArgument (malformed reference, unsupported media type, oversized
 * manifest), Unavailable (registry unreachable after retries, TLS failure),
 * Cancelled (ctx aborted).
 */
import type { Readable } from 'node:stream';
import type { Ctx } from '../context';
import type { Descriptor } from '../oci/descriptor';
import type { PageOptions } from './catalog';
import type { Pusher } from './pusher';

export type { ChunkReader, Pusher, UploadOptions, UploadResult } from './pusher';
export type { PageOptions } from './catalog';

export interface Reference {
  /** Registry host[:port], e.g. "docker.io", "127.0.0.1:5000". */
  readonly domain: string;
  /** Repository path without the domain, e.g. "library/busybox". */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
  /** domain/path — the repository name. */
  readonly name: string;
  /** The full normalised string: name[:tag][@digest]. */
  toString(): string;
}

/** Credentials for one registry, as Docker's AuthConfig carries them. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (Docker's "identitytoken"). */
  identityToken?: string;
  /** A bearer token to use as-is. */
  registryToken?: string;
}

export interface BlobStream {
  /** The body, starting at the requested offset. */
  readonly body: Readable;
  /** Offset the body starts at (0 when the registry ignored the Range request). */
  readonly offset: number;
  /** Total blob size when known. */
  readonly size?: number;
}

export interface Fetcher {
  /** Tag or digest → the top-level manifest/index descriptor. HEAD first, GET when HEAD gives no digest. */
  resolve(ctx: Ctx, ref: Reference): Promise<Descriptor>;
  /** GET a manifest or index by digest; refuses bodies over MAX_MANIFEST_BYTES. */
  fetchManifest(ctx: Ctx, ref: Reference, desc: Descriptor): Promise<Buffer>;
  /**
   * GET a blob, from `offset` onward (HTTP Range) so an interrupted download
   * resumes. Follows redirects (to storage backends; the Authorization header
   * is not forwarded to another host). The returned stream may still fail
   * mid-way; the caller resumes with a new offset.
   */
  fetchBlob(ctx: Ctx, ref: Reference, desc: Descriptor, offset?: number): Promise<BlobStream>;
}

/** Looks up credentials for a registry host (undefined = anonymous). */
export type CredentialLookup = (host: string) => RegistryAuth | undefined | Promise<RegistryAuth | undefined>;

/**
 * The daemon's long-lived registry client: one connection pool, one TLS
 * configuration, one token cache (keyed by host, scope and credential identity,
 * so one caller's token never serves another's credentials).
 */
export interface Registry {
  /** A Fetcher that authenticates with `credentials`; cheap, one per pull. */
  fetcher(credentials?: CredentialLookup, options?: FetcherOptions): Fetcher;
  /** A Pusher that authenticates with `credentials` (scope pull,push); one per push. */
  pusher(credentials?: CredentialLookup): Pusher;
  /** Checks credentials against `host` (GET /v2/ through the auth flow); for `gantry login`. */
  login(ctx: Ctx, host: string, auth: RegistryAuth): Promise<void>;
  /** Repository paths of registry `host` from its catalog, every page (catalog.ts). */
  catalog(ctx: Ctx, host: string, creds: RegistryAuth | undefined, opts?: PageOptions): Promise<string[]>;
  /** The tags of repository `repo`, every page (tags.ts). */
  tags(ctx: Ctx, repo: Reference, creds: RegistryAuth | undefined, opts?: PageOptions): Promise<string[]>;
  /** Deletes the manifest tag `ref` points at (every tag on it goes too); resolves with its digest (tags.ts). */
  deleteTag(ctx: Ctx, ref: Reference, creds: RegistryAuth | undefined): Promise<string>;
  /** Closes pooled connections. Idempotent. */
  close(): Promise<void>;
}

export interface RegistryOptions {
  /** Directory with per-host CA files: `<certsDir>/<host[:port]>/ca.crt`. */
  certsDir?: string;
  /** Hosts ("host:port") that may be reached over plain HTTP. Loopback always may. */
  insecureRegistries?: readonly string[];
  /** Retries for idempotent requests (default 5). */
  maxRetries?: number;
  /** User-Agent header. */
  userAgent?: string;
  /** The registry config directory: `<dir>/<host>/hosts.toml` mirrors and endpoints (registryHosts.ts). */
  registryConfigDir?: string;
  /** Docker's registry-mirrors, tried first for docker.io. */
  registryMirrors?: readonly string[];
  /** Credentials for mirror hosts (the daemon user's Docker config); a caller's credentials never go to a mirror. */
  mirrorCredentials?: CredentialLookup;
}

export interface FetcherOptions {
  /** false: the registry itself only, never a mirror (resolving before a delete). Default true. */
  readonly mirrors?: boolean;
}
