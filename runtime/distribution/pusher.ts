/**
 * Pusher over the registry HTTP API (distribution-spec v1.1 "push"):
 *
 *   exists         HEAD  /v2/<path>/blobs/<digest>
 *   mount          POST  /v2/<path>/blobs/uploads/?mount=<digest>&from=<other path>   201 = mounted
 *   start upload   POST  /v2/<path>/blobs/uploads/                                      202 + Location
 *   monolithic     PUT   <location>?digest=<digest>   (whole blob as the body)
 *   streamed       PATCH <location>  Content-Range: <start>-<end>  (the rest of the blob, streamed
 *                                                     from the store; tests set smaller chunks), then
 *                  PUT   <location>?digest=<digest>   (empty body)
 *   upload status  GET   <location>                  204 + Range: 0-<last byte>  (resume point)
 *   manifest       PUT   /v2/<path>/manifests/<tag|digest>
 *
 * Auth is the pull path's (RegistryClient.request): the scope asked for is
 * `repository:<path>:pull,push`, plus `repository:<from>:pull` for a mount.
 * Every request body can be sent again by an auth round trip: small ones
 * are in memory (a manifest, a small blob), a PATCH body re-reads its range
 * from the store on each pass. PATCH and POST are never retried blindly —
 * after a cut connection the upload's status says where to continue. One
 * streamed PATCH per blob, as Docker sends it, instead of one request per
 * 8 MiB chunk read whole before it is sent: against distribution 2.8 that
 * took ~2× the time of containerd's push (docs/performance.md, "Transfer").
 */
import { STATUS_CODES } from 'node:http';
import type { Ctx } from '../context';
import { GantryError, isGantryError, kindOf } from '../errdefs/errdefs';
import type { Descriptor } from '../oci/descriptor';
import type { CredentialLookup, Reference, RegistryAuth } from './distribution';
import { pullScope } from './auth';
import { discardBody, readSmallBody, statusError } from './errors';
import { apiHost } from './hosts';
import { backoffDelay, sleep } from './retry';
import type { RegistryClient } from './registry';
import type { HttpRequest, HttpResponse } from './transport';

/**
 * Reads `length` bytes of the blob starting at `offset`. Calls never overlap
 * (the pusher starts one after the previous one settled); a call that goes
 * back (a resume, an auth round trip) may reopen the blob.
 */
export type ChunkReader = (offset: number, length: number) => Promise<Buffer>;

export interface UploadOptions {
  /**
   * Blobs up to this size go in one PUT (read whole: default 16 MiB); larger
   * ones in PATCH requests of at most this size (default: the rest of the
   * blob in one request, streamed).
   */
  readonly chunkSize?: number;
  /** Bytes sent so far (at the end of each PATCH: acknowledged by the registry). */
  readonly onProgress?: (offset: number) => void;
}

export type UploadResult = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'pushed' };

export interface Pusher {
  /** Whether the repository already has the blob (HEAD). */
  exists(ctx: Ctx, ref: Reference, desc: Descriptor): Promise<boolean>;
  /**
   * Makes the blob present in `ref`'s repository: mounted from one of
   * `mountFrom` (other repository paths of the same registry) when the
   * registry allows it, else uploaded from `read`.
   */
  upload(
    ctx: Ctx,
    ref: Reference,
    desc: Descriptor,
    read: ChunkReader,
    mountFrom: readonly string[],
    opts?: UploadOptions,
  ): Promise<UploadResult>;
  /** PUT a manifest or index under `tagOrDigest`. */
  putManifest(ctx: Ctx, ref: Reference, tagOrDigest: string, desc: Descriptor, body: Buffer): Promise<void>;
}

/** Blobs up to this size are read whole and sent in one PUT. */
export const MONOLITHIC_MAX = 16 * 1024 * 1024;
/** A streamed body is read from the store in pieces of this size. */
const PIECE_SIZE = 1024 * 1024;
/** Attempts without the registry acknowledging one new byte before an upload gives up. */
const MAX_STALLED_ATTEMPTS = 5;

export function pushScope(path: string): string {
  return `repository:${path}:pull,push`;
}

export class RegistryPusher implements Pusher {
  private readonly creds = new Map<string, Promise<RegistryAuth | undefined>>();

  constructor(
    private readonly client: RegistryClient,
    private readonly lookup?: CredentialLookup,
  ) {}

  async exists(ctx: Ctx, ref: Reference, desc: Descriptor): Promise<boolean> {
    const res = await this.call(ctx, ref, [], { method: 'HEAD', url: await this.url(ctx, ref, `blobs/${desc.digest}`) });
    await discardBody(res.body);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw this.failure(ref, res.statusCode, undefined, `checking blob ${desc.digest}`);
  }

  async upload(
    ctx: Ctx,
    ref: Reference,
    desc: Descriptor,
    read: ChunkReader,
    mountFrom: readonly string[],
    opts: UploadOptions = {},
  ): Promise<UploadResult> {
    let location: string | undefined;
    for (const from of mountFrom) {
      if (from === ref.path) continue;
      const url = await this.url(ctx, ref, `blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`);
      const res = await this.call(ctx, ref, [pullScope(from)], { method: 'POST', url, headers: { 'content-length': '0' } });
      if (res.statusCode === 201) {
        await discardBody(res.body);
        return { kind: 'mounted', from };
      }
      if (res.statusCode === 202) {
        // Mount refused (no access to `from`, or the blob is not there): the registry opened an upload instead.
        await discardBody(res.body);
        location = this.location(ref, res, url);
        break;
      }
      // Some registries answer a mount they do not support with an error: fall back to uploading.
      if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 404 || res.statusCode === 405) {
        await discardBody(res.body);
        continue;
      }
      throw this.failure(ref, res.statusCode, await readSmallBody(res.body), `mounting blob ${desc.digest} from ${from}`);
    }
    location ??= await this.startUpload(ctx, ref, desc);
    if (desc.size <= (opts.chunkSize ?? MONOLITHIC_MAX)) await this.monolithic(ctx, ref, desc, location, await read(0, desc.size));
    else await this.chunked(ctx, ref, desc, location, read, opts.chunkSize ?? Infinity, opts.onProgress);
    opts.onProgress?.(desc.size);
    return { kind: 'pushed' };
  }

  async putManifest(ctx: Ctx, ref: Reference, tagOrDigest: string, desc: Descriptor, body: Buffer): Promise<void> {
    const url = await this.url(ctx, ref, `manifests/${tagOrDigest}`);
    const res = await this.call(ctx, ref, [], { method: 'PUT', url, headers: { 'content-type': desc.mediaType }, body });
    if (res.statusCode === 201 || res.statusCode === 200 || res.statusCode === 202) {
      await discardBody(res.body);
      return;
    }
    throw this.failure(ref, res.statusCode, await readSmallBody(res.body), `pushing manifest ${desc.digest} as ${tagOrDigest}`);
  }

  private async startUpload(ctx: Ctx, ref: Reference, desc: Descriptor): Promise<string> {
    const url = await this.url(ctx, ref, 'blobs/uploads/');
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.call(ctx, ref, [], { method: 'POST', url, headers: { 'content-length': '0' } });
      } catch (e) {
        // Starting a session has no side effect worth keeping: a new POST is safe.
        if (attempt >= MAX_STALLED_ATTEMPTS || !retryable(e)) throw e;
        await sleep(ctx, backoffDelay(attempt));
        continue;
      }
      if (res.statusCode === 202) {
        await discardBody(res.body);
        return this.location(ref, res, url);
      }
      throw this.failure(ref, res.statusCode, await readSmallBody(res.body), `starting the upload of blob ${desc.digest}`);
    }
  }

  private async monolithic(ctx: Ctx, ref: Reference, desc: Descriptor, location: string, bytes: Buffer): Promise<void> {
    const res = await this.call(ctx, ref, [], {
      method: 'PUT',
      url: withDigest(location, desc.digest),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      body: bytes,
    });
    await this.finished(ref, desc, res);
  }

  /**
   * PATCH the rest of the blob (or `chunkSize` bytes of it at a time),
   * streamed from the store. A request that fails without an answer (a
   * cut connection) is followed by GET <location>, whose Range says how much
   * the registry kept; the upload continues from there. A registry that
   * declares the session unusable instead (400/404) gets a new session,
   * from byte 0.
   */
  private async chunked(
    ctx: Ctx,
    ref: Reference,
    desc: Descriptor,
    location: string,
    read: ChunkReader,
    chunkSize: number,
    onProgress: ((offset: number) => void) | undefined,
  ): Promise<void> {
    let offset = 0;
    let stalled = 0;
    // A pass of an auth round trip may start while undici still holds the last one: reads queue.
    let reading: Promise<unknown> = Promise.resolve();
    const serialRead = (o: number, n: number): Promise<Buffer> => {
      const next = reading.then(
        () => read(o, n),
        () => read(o, n),
      );
      reading = next.catch(() => undefined);
      return next;
    };
    while (offset < desc.size) {
      const start = offset;
      const length = Math.min(chunkSize, desc.size - start);
      const body: AsyncIterable<Buffer> = {
        async *[Symbol.asyncIterator]() {
          for (let o = start; o < start + length;) {
            const piece = await serialRead(o, Math.min(PIECE_SIZE, start + length - o));
            yield piece;
            o += piece.length;
            if (o < start + length) onProgress?.(o);
          }
        },
      };
      try {
        const res = await this.call(ctx, ref, [], {
          method: 'PATCH',
          url: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(length),
            'content-range': `${start}-${start + length - 1}`,
          },
          body,
        });
        if (res.statusCode !== 202) {
          throw this.failure(ref, res.statusCode, await readSmallBody(res.body), `uploading blob ${desc.digest} at byte ${start}`);
        }
        await discardBody(res.body);
        location = this.location(ref, res, location);
        offset = start + length;
        stalled = 0;
        onProgress?.(offset);
      } catch (e) {
        // 416: the registry kept a different amount than we thought (it was still writing a cut chunk).
        if (ctx.signal.aborted || !(retryable(e) || kindOf(e) === 'OutOfRange')) throw e;
        const before = offset;
        await sleep(ctx, backoffDelay(stalled));
        let status: { location: string; offset: number };
        try {
          status = await this.status(ctx, ref, desc, location);
        } catch (statusError) {
          // The session is gone or unusable (distribution 2.8 refuses a session whose stored size moved
          // under a cut request: "blob upload invalid"): start over in a new one.
          const kind = kindOf(statusError);
          if (kind !== 'InvalidArgument' && kind !== 'NotFound') throw statusError;
          status = { location: await this.startUpload(ctx, ref, desc), offset: 0 };
        }
        location = status.location;
        offset = status.offset;
        stalled = offset > before ? 0 : stalled + 1;
        if (stalled >= MAX_STALLED_ATTEMPTS) throw e;
      }
    }
    const res = await this.call(ctx, ref, [], {
      method: 'PUT',
      url: withDigest(location, desc.digest),
      headers: { 'content-length': '0' },
    });
    await this.finished(ref, desc, res);
  }

  /** Where an upload stands: GET <location> answers 204 with `Range: 0-<last>` (absent when nothing was kept). */
  private async status(ctx: Ctx, ref: Reference, desc: Descriptor, location: string): Promise<{ location: string; offset: number }> {
    const res = await this.call(ctx, ref, [], { method: 'GET', url: location });
    if (res.statusCode !== 204 && res.statusCode !== 200) {
      throw this.failure(ref, res.statusCode, await readSmallBody(res.body), `asking where the upload of blob ${desc.digest} stands`);
    }
    await discardBody(res.body);
    const range = header(res, 'range');
    const m = range ? /^(?:bytes=)?0-(\d+)$/.exec(range.trim()) : null;
    return { location: this.location(ref, res, location), offset: m ? Number(m[1]) + 1 : 0 };
  }

  private async finished(ref: Reference, desc: Descriptor, res: HttpResponse): Promise<void> {
    if (res.statusCode === 201 || res.statusCode === 204) {
      const got = header(res, 'docker-content-digest');
      await discardBody(res.body);
      if (got && got !== desc.digest) {
        throw new GantryError('DataLoss', `registry stored blob ${desc.digest} as ${got}: ${ref.name}`);
      }
      return;
    }
    throw this.failure(ref, res.statusCode, await readSmallBody(res.body), `uploading blob ${desc.digest}`);
  }

  /** The next upload URL from a response's Location (relative ones resolve against the request). */
  private location(ref: Reference, res: HttpResponse, requestUrl: string): string {
    const loc = header(res, 'location');
    if (!loc) throw new GantryError('Unavailable', `registry ${ref.domain} answered an upload request without a Location: ${ref.name}`);
    return new URL(loc, requestUrl).toString();
  }

  private failure(ref: Reference, status: number, body: Buffer | undefined, doing: string): GantryError {
    const subject = `${doing} to ${ref.name}`;
    if (status === 401 || status === 403) {
      const err = statusError(status, subject, body, status === 401 ? 'authentication required' : 'access denied');
      err.message = `push access denied to ${ref.name} (registry ${ref.domain}, scope ${pushScope(ref.path)}): ${err.message}`;
      return err;
    }
    return statusError(status, subject, body, `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trim());
  }

  private async url(ctx: Ctx, ref: Reference, rest: string): Promise<string> {
    const base = await this.client.transport.endpoint(ctx, apiHost(ref.domain));
    return `${base}/v2/${ref.path}/${rest}`;
  }

  private async call(ctx: Ctx, ref: Reference, extraScopes: readonly string[], req: HttpRequest): Promise<HttpResponse> {
    const creds = await this.credentials(ref.domain);
    return this.client.request(ctx, apiHost(ref.domain), [pushScope(ref.path), ...extraScopes], creds, req);
  }

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

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A request that got no answer (the connection broke): ask where the upload stands and go on. */
function retryable(e: unknown): boolean {
  return !isGantryError(e) || kindOf(e) === 'Unavailable';
}
