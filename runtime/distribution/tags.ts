/**
 * A repository's tags, and deleting one (distribution-spec "content
 * discovery" and "content management"):
 *
 *   list    GET    /v2/<name>/tags/list?n=N        every page (catalog.ts)
 *   delete  HEAD   /v2/<name>/manifests/<tag>      → Docker-Content-Digest
 *           DELETE /v2/<name>/manifests/<digest>   202 Accepted
 *
 * Registries delete manifests, not tags: every tag pointing at the digest
 * goes with it. A registry without deletes enabled answers 405 UNSUPPORTED,
 * reported as Unimplemented with a message saying so.
 */
import type { Ctx } from '../context';
import { GantryError, invalidArgument } from '../errdefs/errdefs';
import type { Reference, RegistryAuth } from './distribution';
import { pullScope } from './auth';
import { readPages, stringList, type PageOptions } from './catalog';
import { discardBody, readSmallBody, registryErrorText, statusError } from './errors';
import { apiHost } from './hosts';
import type { RegistryClient } from './registry';

/** The tags of `repo` (its tag and digest are ignored), in the registry's order. */
export async function listTags(
  client: RegistryClient,
  ctx: Ctx,
  repo: Reference,
  creds: RegistryAuth | undefined,
  opts: PageOptions = {},
): Promise<string[]> {
  const subject = `tags of ${repo.name}`;
  const pages = await readPages(client, ctx, repo.domain, `/v2/${repo.path}/tags/list`, [pullScope(repo.path)], creds, opts, subject);
  return pages.flatMap((page) => stringList(page, 'tags', subject));
}

/** Deletes the manifest `ref`'s tag points at; resolves with its digest. */
export async function deleteTag(client: RegistryClient, ctx: Ctx, ref: Reference, creds: RegistryAuth | undefined): Promise<string> {
  if (!ref.tag || ref.digest) throw invalidArgument(`delete a tag: ${ref.toString()} names no tag (or names a digest)`);
  const { digest } = await client.fetcher(() => creds, { mirrors: false }).resolve(ctx, ref);
  const host = apiHost(ref.domain);
  const base = await client.transport.endpoint(ctx, host);
  const scopes = [`repository:${ref.path}:pull,delete`];
  const url = `${base}/v2/${ref.path}/manifests/${digest}`;
  const res = await client.request(ctx, host, scopes, creds, { method: 'DELETE', url });
  if (res.statusCode === 202 || res.statusCode === 200) {
    await discardBody(res.body);
    return digest;
  }
  const body = await readSmallBody(res.body);
  if (res.statusCode === 405) {
    const words = registryErrorText(body) ?? 'the operation is unsupported';
    throw new GantryError(
      'Unimplemented',
      `registry ${ref.domain} does not allow deleting images (${words}); ` +
        `a distribution registry allows it with REGISTRY_STORAGE_DELETE_ENABLED=true: ${ref.toString()}`,
    );
  }
  throw statusError(res.statusCode, `delete ${ref.toString()} (${digest})`, body);
}
