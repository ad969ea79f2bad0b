/**
 * Where blobs came from, per registry: the content label
 * `gantry.io/distribution.source.<registry>` holds the repositories of that
 * registry known to have the blob (comma-separated), like containerd's
 * `containerd.io/distribution.source.<registry>` labels. A pull records the
 * repository it read from, a push the one it wrote to; a later push to
 * another repository of the same registry asks it to mount the blob from one
 * of them instead of uploading it (docs/transfer.md).
 */
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import { isNotFound } from '../errdefs/errdefs';

const PREFIX = 'gantry.io/distribution.source.';
/** Enough candidates for a mount; the label must stay small. */
const MAX_SOURCES = 8;

/** The repositories of `registry` known to have the blob, most recent first. */
export async function sourcesOf(ctx: Ctx, content: Store, digest: string, registry: string): Promise<string[]> {
  try {
    const info = await content.info(ctx, digest);
    const v = info.labels[PREFIX + registry];
    return v ? v.split(',').filter(Boolean) : [];
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

/**
 * Records that `registry`/`repository` has each of `digests`. Best effort:
 * a label that cannot be written only costs a future upload, never the
 * pull or push that found out.
 */
export async function recordSource(
  ctx: Ctx,
  content: Store,
  registry: string,
  repository: string,
  digests: Iterable<string>,
): Promise<void> {
  // All at once: each label is its own durable write (two fsyncs), and done one after the other they
  // kept a push's caller waiting ~0.2 s on a busy disk after the last blob was in (docs/performance.md).
  await Promise.all(
    [...new Set(digests)].map(async (digest) => {
      try {
        const info = await content.info(ctx, digest);
        const key = PREFIX + registry;
        const known = (info.labels[key] ?? '').split(',').filter((r) => r && r !== repository);
        const value = [repository, ...known].slice(0, MAX_SOURCES).join(',');
        if (info.labels[key] === value) return;
        await content.setLabels(ctx, digest, { ...info.labels, [key]: value });
      } catch {
        // See above: a hint, not a record.
      }
    }),
  );
}
