/**
 * `commit` and `import`: the image documents of a new one-layer-on-top
 * image (newImage.ts stores and records them).
 *
 * - commit: the base image's config (kept whole, unknown fields included),
 *   its layers plus the container's changes, `config` replaced by the
 *   container's as Docker commits it with the `--change` edits, `author`,
 *   and a history entry (created_by: the container's command; comment: -m).
 * - import: a config for the host's (or --platform's) platform with only
 *   the `--change` edits, one layer, and the history entry Docker writes
 *   ("Imported from -" or the URL, unless -m).
 */
import type { Ctx } from '../context';
import { MediaTypes, type Platform } from '../oci/descriptor';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../oci/manifest';
import { applyConfigChanges } from '../options';
import type { Image } from './images';
import { createImage, type NewImageDeps } from './newImage';
import type { ImageDetails } from './service';

/** Untagged results are recorded as `<repository>@<digest>` (listed as `<none>`), as load does. */
export const COMMITTED_REPOSITORY = 'localhost/committed';
export const IMPORTED_REPOSITORY = 'localhost/imported';

export interface CommitSpec {
  readonly base: ImageDetails;
  /** The container's config as Docker commits it (containers/commitConfig.ts). */
  readonly runConfig: ContainerConfig;
  /** The container's changes as an uncompressed layer tar. */
  readonly layer: AsyncIterable<Buffer>;
  /** The container's command, for the history entry. */
  readonly createdBy: string;
  readonly reference: string;
  readonly comment: string;
  readonly author: string;
  readonly changes: readonly string[];
}

export async function commitImage(ctx: Ctx, deps: NewImageDeps, spec: CommitSpec): Promise<Image> {
  // Checked before the layer is read: a bad instruction costs nothing.
  const runConfig = applyConfigChanges(spec.runConfig, spec.changes);
  const created = new Date().toISOString();
  const base = JSON.parse(spec.base.configJson) as ImageConfig;
  const entry: HistoryEntry = { created, created_by: spec.createdBy };
  if (spec.author) entry.author = spec.author;
  if (spec.comment) entry.comment = spec.comment;
  const config: ImageConfig = {
    ...base,
    created,
    config: runConfig,
    history: [...(base.history ?? []), entry],
  };
  if (spec.author) config.author = spec.author;
  else delete config.author;
  return createImage(ctx, deps, {
    baseLayers: spec.base.manifest.layers,
    docker: spec.base.image.manifest.mediaType === MediaTypes.dockerManifest,
    config,
    layer: spec.layer,
    reference: spec.reference,
    untaggedRepository: COMMITTED_REPOSITORY,
  });
}

export interface ImportSpec {
  readonly layer: AsyncIterable<Buffer>;
  readonly platform: Platform;
  /** Where the tar came from ("-" or a URL), for the default comment. */
  readonly source: string;
  readonly reference: string;
  readonly message: string;
  readonly changes: readonly string[];
}

export async function importImage(ctx: Ctx, deps: NewImageDeps, spec: ImportSpec): Promise<Image> {
  const runConfig = applyConfigChanges<ContainerConfig>({}, spec.changes);
  const created = new Date().toISOString();
  const config: ImageConfig = {
    created,
    architecture: spec.platform.architecture,
    os: spec.platform.os,
    ...(spec.platform.variant ? { variant: spec.platform.variant } : {}),
    config: runConfig,
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created, comment: spec.message || `Imported from ${spec.source}` }],
  };
  return createImage(ctx, deps, {
    baseLayers: [],
    docker: false,
    config,
    layer: spec.layer,
    reference: spec.reference,
    untaggedRepository: IMPORTED_REPOSITORY,
  });
}
