/**
 * Browsing a registry (distribution-spec "content discovery"):
 *
 *   catalog   GET /v2/_catalog?n=N            scope registry:catalog:*
 *   tags      GET /v2/<name>/tags/list?n=N    scope repository:<name>:pull
 *
 * Both answer one page at a time; the next page is named by a `Link:
 * <url>; rel="next"` header, followed until there is none. The link must
 * stay on the registry's own origin (it is requested with our credentials),
 * and at most MAX_PAGES pages are read, so a registry that links in a
 * circle cannot keep us forever. Tags and deletes live in tags.ts.
 */
import type { Ctx } from '../context';
import { GantryError } from '../errdefs/errdefs';
import type { RegistryAuth } from './distribution';
import { readSmallBody, statusError } from './errors';
import { apiHost, normalizeHost } from './hosts';
import type { RegistryClient } from './registry';

/** More pages than this is a registry that links in a circle. */
export const MAX_PAGES = 10_000;
/** A page is a small JSON document; one larger than this is refused. */
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

export interface PageOptions {
  /** Entries asked per page (`n=`); undefined = the registry's default. */
  readonly pageSize?: number;
}

/** Every repository path of registry `host` ("library/busybox"), in the registry's order. */
export async function listCatalog(
  client: RegistryClient,
  ctx: Ctx,
  host: string,
  creds: RegistryAuth | undefined,
  opts: PageOptions = {},
): Promise<string[]> {
  const domain = normalizeHost(host);
  const pages = await readPages(client, ctx, domain, '/v2/_catalog', ['registry:catalog:*'], creds, opts, `catalog of ${domain}`);
  return pages.flatMap((page) => stringList(page, 'repositories', `catalog of ${domain}`));
}

/**
 * GETs `path` and every page its `Link: rel="next"` headers name; each page's
 * parsed JSON, in order. A status other than 200 fails with the registry's
 * words (errors.ts maps 401/403/404/405 to their kinds).
 */
export async function readPages(
  client: RegistryClient,
  ctx: Ctx,
  domain: string,
  path: string,
  scopes: readonly string[],
  creds: RegistryAuth | undefined,
  opts: PageOptions,
  subject: string,
): Promise<unknown[]> {
  const host = apiHost(domain);
  const base = await client.transport.endpoint(ctx, host);
  const first = new URL(`${base}${path}`);
  if (opts.pageSize && opts.pageSize > 0) first.searchParams.set('n', String(opts.pageSize));
  const pages: unknown[] = [];
  let url: URL | undefined = first;
  while (url) {
    if (pages.length >= MAX_PAGES) throw new GantryError('OutOfRange', `${subject}: more than ${MAX_PAGES} pages`);
    const res = await client.request(ctx, host, scopes, creds, {
      method: 'GET',
      url: url.toString(),
      headers: { accept: 'application/json' },
    });
    const body = await readSmallBody(res.body, MAX_PAGE_BYTES + 1);
    if (res.statusCode !== 200) throw statusError(res.statusCode, subject, body);
    if (body.length > MAX_PAGE_BYTES) throw new GantryError('OutOfRange', `${subject}: a page larger than ${MAX_PAGE_BYTES} bytes`);
    try {
      pages.push(JSON.parse(body.toString('utf8')));
    } catch {
      throw new GantryError('DataLoss', `${subject}: the registry answered with something that is not JSON`);
    }
    url = nextPage(res.headers.link, url, subject);
  }
  return pages;
}

/**
 * The `rel="next"` target of a Link header, resolved against the page that
 * carried it; undefined when there is none. A link to another origin fails.
 */
export function nextPage(link: string | string[] | undefined, current: URL, subject: string): URL | undefined {
  const values = Array.isArray(link) ? link : link ? [link] : [];
  for (const value of values) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
      if (!m || !/(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2])) continue;
      const next = new URL(m[1], current);
      if (next.origin !== current.origin) {
        throw new GantryError('FailedPrecondition', `${subject}: the registry linked the next page to another origin (${next.origin})`);
      }
      return next;
    }
  }
  return undefined;
}

/** `doc[field]` as a list of strings (null or absent = empty, as registries answer an empty repository). */
export function stringList(doc: unknown, field: string, subject: string): string[] {
  const value = doc && typeof doc === 'object' ? (doc as Record<string, unknown>)[field] : undefined;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new GantryError('DataLoss', `${subject}: "${field}" is not a list of names`);
  }
  return value as string[];
}
