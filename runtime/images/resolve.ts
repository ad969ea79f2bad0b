/**
 * What a reference offers, asked of its registry without pulling: the
 * platforms of an index (manifest list), so a client can let the user pick
 * one before a pull. Nothing is stored; the index bytes are verified against
 * the resolved digest by the fetcher like any manifest.
 */
import type { Ctx } from '../context';
import type { CredentialLookup, Registry } from '../distribution/distribution';
import { parseReference } from '../distribution/reference';
import { isIndex, type Descriptor, type Platform } from '../oci/descriptor';
import { parseIndex } from '../oci/manifest';
import { formatPlatform, hostPlatform, selectManifest } from './platform';

export interface OfferedPlatforms {
  readonly target: Descriptor;
  /** In the index's order; attestation manifests (`unknown/unknown`) left out. Empty for a single image. */
  readonly platforms: readonly Platform[];
  /** What a pull without --platform would choose ("" when the index has nothing for this host). */
  readonly defaultPlatform: string;
}

export async function offeredPlatforms(
  ctx: Ctx,
  registry: Registry,
  reference: string,
  credentials?: CredentialLookup,
): Promise<OfferedPlatforms> {
  const ref = parseReference(reference);
  const fetcher = registry.fetcher(credentials);
  const target = await fetcher.resolve(ctx, ref);
  if (!isIndex(target.mediaType)) return { target, platforms: [], defaultPlatform: '' };
  const index = parseIndex(await fetcher.fetchManifest(ctx, ref, target), target.mediaType, `index ${target.digest}`);
  const manifests = index.manifests.filter((m) => m.platform && m.platform.os !== 'unknown');
  const chosen = selectManifest(manifests, hostPlatform());
  return {
    target,
    platforms: manifests.map((m) => m.platform!),
    defaultPlatform: chosen?.platform ? formatPlatform(chosen.platform) : '',
  };
}
