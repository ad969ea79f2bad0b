/**
 * Fetcher over the registry HTTP API (distribution-spec v1.1 "pull"):
 *
 *   resolve        HEAD /v2/<path>/manifests/<tag|digest>   (GET when HEAD says too little)
 *   fetchManifest  GET  /v2/<path>/manifests/<digest>       (bounded, length-checked)
 *   fetchBlob      GET  /v2/<path>/blobs/<digest>           (Range, redirects, streamed)
 *
 * Each goes to the registry's hosts in order (mirrors first, registryHosts.ts),
 * falling through to the next host when one fails or lacks the content.
 *
 * Digests of fetched bytes are not verified here: the content store does it
 * on ingest. Sizes are, because they are known before the bytes arrive.
 */
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import type { Ctx } from '../context';
import { errorOf, failedPrecondition, GantryError, invalidArgument, isCancelled, isGantryError, isNotFound } from '../errdefs/errdefs';
import { Descriptor, isDigest, isIndex, isManifest, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, MediaTypes } from '../oci/descriptor';
import type { BlobStream, CredentialLookup, Fetcher, Reference, RegistryAuth } from './distribution';
import { pullScope } from './auth';
import { abandon, discardBody, readSmallBody, statusError } from './errors';
import { apiHost } from './hosts';
import { cancelled } from './retry';
import type { RegistryClient } from './registry';
import type { HostCapability, RegistryEndpoint } from './registryHosts';
import type { HttpResponse } from './transport';

const dataLoss = errorOf('DataLoss');
const outOfRange = errorOf('OutOfRange');
const MAX_BLOB_REDIRECTS = 5;
// Types some registries put on manifests they do not label; the body decides then.
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);
const ALL: ReadonlySet<HostCapability> = new Set(['pull', 'resolve', 'push']);

export class RegistryFetcher implements Fetcher {
  private readonly creds = new Map<string, Promise<RegistryAuth | undefined>>();
  private readonly hostLists = new Map<string, Promise<RegistryEndpoint[]>>();
  private readonly preferred = new Map<string, RegistryEndpoint>();

  constructor(
    private readonly client: RegistryClient,
    private readonly lookup?: CredentialLookup,
    private readonly useMirrors = true,
  ) {}

  async resolve(ctx: Ctx, ref: Reference): Promise<Descriptor> {
    const target = ref.digest ?? ref.tag;
    if (!target) throw invalidArgument(`reference ${ref.toString()} has neither tag nor digest`);
    // Naming a tag's digest is a trusted act (a mirror may be stale or hostile): it needs
    // "resolve". A digest proves itself, so any host that may pull can answer for it.
    const needs: HostCapability[] = ref.digest ? ['pull'] : ['pull', 'resolve'];
    return this.onHosts(ctx, ref, needs, (ep) => this.resolveOn(ctx, ref, ep, target));
  }

  private async resolveOn(ctx: Ctx, ref: Reference, ep: RegistryEndpoint, target: string): Promise<Descriptor> {
    const path = `manifests/${target}`;
    const head = await this.call(ctx, ref, ep, 'HEAD', path, { accept: MANIFEST_ACCEPT });
    await discardBody(head.body);
    if (head.statusCode === 200) {
      const digest = header(head, 'docker-content-digest');
      const mediaType = contentType(head);
      const size = contentLength(head);
      // A zero length is a registry that does not fill it in on HEAD, not an empty manifest.
      if (digest && isDigest(digest) && size && !GENERIC_TYPES.has(mediaType)) {
        return checked(ref, { mediaType, digest, size });
      }
    }
    // HEAD said too little, or failed: a GET gives the digest by hashing, or the registry's error body.
    const res = await this.call(ctx, ref, ep, 'GET', path, { accept: MANIFEST_ACCEPT });
    if (res.statusCode !== 200) throw await failure(res, ref.toString(), 'manifest unknown');
    const body = await readBounded(ctx, res, MAX_MANIFEST_BYTES, 0, ref.toString());
    const algorithm = ref.digest?.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
    return checked(ref, { mediaType: mediaTypeOf(res, body), digest, size: body.length });
  }

  async fetchManifest(ctx: Ctx, ref: Reference, desc: Descriptor): Promise<Buffer> {
    const subject = `${ref.name}@${desc.digest}`;
    if (!isDigest(desc.digest)) throw invalidArgument(`invalid digest "${desc.digest}" for ${ref.name}`);
    if (desc.size > MAX_MANIFEST_BYTES) throw tooLarge(subject, desc.size);
    const accept = MANIFEST_ACCEPT.split(', ').includes(desc.mediaType) ? MANIFEST_ACCEPT : `${desc.mediaType}, ${MANIFEST_ACCEPT}`;
    return this.onHosts(ctx, ref, ['pull'], async (ep) => {
      const res = await this.call(ctx, ref, ep, 'GET', `manifests/${desc.digest}`, { accept });
      if (res.statusCode !== 200) throw await failure(res, subject, 'manifest unknown');
      return readBounded(ctx, res, MAX_MANIFEST_BYTES, desc.size, subject);
    });
  }

  async fetchBlob(ctx: Ctx, ref: Reference, desc: Descriptor, offset = 0): Promise<BlobStream> {
    const subject = `${ref.name}@${desc.digest}`;
    if (!isDigest(desc.digest)) throw invalidArgument(`invalid digest "${desc.digest}" for ${ref.name}`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalidArgument(`invalid offset ${offset} for ${subject}`);
    if (desc.size > 0 && offset > desc.size) throw outOfRange(`offset ${offset} is past the end of ${subject} (${desc.size} bytes)`);
    // Nothing left to read: no request, and no 416 from registries that refuse empty ranges.
    if (desc.size > 0 && offset === desc.size) return { body: Readable.from([]), offset, size: desc.size };

    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    return this.onHosts(ctx, ref, ['pull'], (ep) => this.blobOn(ctx, ref, ep, desc, offset, headers, subject));
  }

  private async blobOn(
    ctx: Ctx,
    ref: Reference,
    ep: RegistryEndpoint,
    desc: Descriptor,
    offset: number,
    headers: Record<string, string>,
    subject: string,
  ): Promise<BlobStream> {
    const res = await this.call(ctx, ref, ep, 'GET', `blobs/${desc.digest}`, headers, MAX_BLOB_REDIRECTS);
    if (res.statusCode === 206) {
      const range = parseContentRange(header(res, 'content-range'));
      if (!range || range.start !== offset) {
        await discardBody(res.body);
        throw new GantryError(
          'Unavailable',
          `registry answered bytes=${offset}- with Content-Range ${JSON.stringify(header(res, 'content-range'))}: ${subject}`,
        );
      }
      const size = range.total ?? (desc.size || undefined);
      await checkSize(res, size, desc.size, subject);
      return { body: res.body, offset, size };
    }
    if (res.statusCode === 200) {
      const size = contentLength(res) ?? (desc.size || undefined);
      await checkSize(res, size, desc.size, subject);
      return { body: res.body, offset: 0, size };
    }
    throw await failure(res, subject, 'blob unknown');
  }

  /**
   * Runs `attempt` on each host of `ref`'s registry that has the capabilities
   * `needs`, in order, until one succeeds (containerd's semantics: any failure
   * moves on to the next host). The host that last answered is tried first
   * for the rest of this fetcher's life, so a pull does not knock at a mirror
   * that lacked its manifest once per blob. All failing: the first error that
   * is not "not found" (the more telling one), else the first not found.
   */
  private async onHosts<T>(ctx: Ctx, ref: Reference, needs: HostCapability[], attempt: (ep: RegistryEndpoint) => Promise<T>): Promise<T> {
    const all = await this.endpoints(ref.domain);
    const preferred = this.preferred.get(ref.domain);
    const order = preferred && all.includes(preferred) ? [preferred, ...all.filter((e) => e !== preferred)] : all;
    const hosts = order.filter((e) => needs.every((c) => e.capabilities.has(c)));
    if (hosts.length === 0) {
      throw failedPrecondition(
        `no host configured for ${ref.domain} may ${needs.join(' and ')} (capabilities in its hosts.toml): ${ref.toString()}`,
      );
    }
    let first: unknown;
    let firstNotFound: unknown;
    for (const ep of hosts) {
      try {
        const out = await attempt(ep);
        this.preferred.set(ref.domain, ep);
        return out;
      } catch (e) {
        if (isCancelled(e) || ctx.signal.aborted || hosts.length === 1) throw e;
        if (isNotFound(e)) firstNotFound ??= e;
        else first ??= e;
        this.client.logger?.info('registry host failed, trying the next', {
          ref: ref.toString(),
          host: ep.host,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
    throw first ?? firstNotFound;
  }

  private endpoints(domain: string): Promise<RegistryEndpoint[]> {
    let p = this.hostLists.get(domain);
    if (!p) {
      const upstream: RegistryEndpoint = { host: apiHost(domain), apiRoot: '/v2', capabilities: ALL, headers: {}, mirror: false };
      p = this.useMirrors && this.client.hosts.configured ? this.client.hosts.endpoints(domain) : Promise.resolve([upstream]);
      this.hostLists.set(domain, p);
      p.catch(() => this.hostLists.delete(domain));
    }
    return p;
  }

  private async call(
    ctx: Ctx,
    ref: Reference,
    ep: RegistryEndpoint,
    method: 'GET' | 'HEAD',
    path: string,
    headers: Record<string, string>,
    redirects = 0,
  ): Promise<HttpResponse> {
    const client = this.client.clientFor(ep);
    const base = ep.origin ?? (await client.transport.endpoint(ctx, ep.host));
    // The caller's credentials are for the registry it named; a mirror gets the daemon's own for that host.
    const creds = ep.mirror ? await this.client.mirrorCredentials(ep.host) : await this.credentials(ref.domain);
    const ns = ep.mirror ? `?ns=${encodeURIComponent(ref.domain)}` : '';
    const url = `${base}${ep.apiRoot}/${ref.path}/${path}${ns}`;
    return client.request(ctx, ep.host, [pullScope(ref.path)], creds, { method, url, headers: { ...ep.headers, ...headers } }, redirects);
  }

  /** Looks credentials up once per domain for this fetcher's life; a failed lookup is retried next time. */
  private credentials(domain: string): Promise<RegistryAuth | undefined> {
    if (!this.lookup) return Promise.resolve(undefined);
    let p = this.creds.get(domain);
    if (!p) {
      const lookup = this.lookup;
      p = (async () => lookup(domain))();
      this.creds.set(domain, p);
      p.catch(() => this.creds.delete(domain));
    }
    return p;
  }
}

function checked(ref: Reference, desc: Descriptor): Descriptor {
  if (!isIndex(desc.mediaType) && !isManifest(desc.mediaType)) {
    throw invalidArgument(`unsupported media type ${desc.mediaType || '(none)'}: ${ref.toString()}`);
  }
  if (ref.digest && desc.digest !== ref.digest) {
    throw dataLoss(`registry resolved ${ref.toString()} to a different manifest ${desc.digest}`);
  }
  return desc;
}

async function failure(res: HttpResponse, subject: string, notFound: string): Promise<GantryError> {
  const body = await readSmallBody(res.body);
  const fallback = res.statusCode === 404 ? notFound : `HTTP ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}`.trim();
  return statusError(res.statusCode, subject, body, fallback);
}

/**
 * Reads a manifest body of at most `limit` bytes and, when `expected` > 0,
 * exactly `expected` bytes. Content-Length is checked first; the count is
 * checked while reading, because Content-Length can lie or be absent.
 */
async function readBounded(ctx: Ctx, res: HttpResponse, limit: number, expected: number, subject: string): Promise<Buffer> {
  const declared = contentLength(res);
  const fail = (e: GantryError) => {
    abandon(res.body);
    return e;
  };
  if (declared !== undefined && declared > limit) throw fail(tooLarge(subject, declared));
  if (declared !== undefined && expected > 0 && declared !== expected) throw fail(sizeMismatch(subject, declared, expected));
  const max = expected > 0 ? Math.min(limit, expected) : limit;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > max) throw fail(size > limit ? tooLarge(subject, size) : sizeMismatch(subject, size, expected));
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (isGantryError(e)) throw e;
    if (ctx.signal.aborted) throw cancelled(`reading ${subject} cancelled`, e);
    // Manifests are small: the caller may simply ask again.
    throw new GantryError('Unavailable', `connection lost while reading ${subject}: ${(e as Error).message}`, { cause: e });
  }
  if (expected > 0 && size !== expected) throw sizeMismatch(subject, size, expected);
  return Buffer.concat(chunks, size);
}

async function checkSize(res: HttpResponse, size: number | undefined, expected: number, subject: string): Promise<void> {
  if (size === undefined || expected <= 0 || size === expected) return;
  abandon(res.body);
  throw sizeMismatch(subject, size, expected);
}

function tooLarge(subject: string, size: number): GantryError {
  return invalidArgument(
    `manifest is larger than the ${MAX_MANIFEST_BYTES}-byte limit (${size}${size > MAX_MANIFEST_BYTES ? '' : '+'} bytes): ${subject}`,
  );
}

function sizeMismatch(subject: string, got: number, want: number): GantryError {
  return dataLoss(`registry sent ${got > want ? 'more than ' : ''}${got} bytes, the descriptor says ${want}: ${subject}`);
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function contentType(res: HttpResponse): string {
  return (header(res, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
}

function contentLength(res: HttpResponse): number | undefined {
  const v = header(res, 'content-length');
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The media type from Content-Type, or from the body when the registry labelled it generically. */
function mediaTypeOf(res: HttpResponse, body: Buffer): string {
  const type = contentType(res);
  if (!GENERIC_TYPES.has(type)) return type;
  try {
    const doc = JSON.parse(body.toString()) as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
    if (typeof doc.mediaType === 'string') return doc.mediaType;
    // image-spec makes mediaType optional; an unlabelled OCI document is known by its shape.
    if (Array.isArray(doc.manifests)) return MediaTypes.ociIndex;
    if (doc.config && Array.isArray(doc.layers)) return MediaTypes.ociManifest;
  } catch {
    // Not JSON: reported as the unsupported type it was labelled with.
  }
  return type;
}

function parseContentRange(v: string | undefined): { start: number; total?: number } | undefined {
  const m = v && /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}
