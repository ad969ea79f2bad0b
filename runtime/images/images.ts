/**
 * Images: named pointers into the content store.
 *
 * An *image record* maps a name (a normalised reference such as
 * `docker.io/library/busybox:latest`, or `repo@sha256:…` for an untagged
 * image) to a *target* descriptor — the index or manifest that was pulled —
 * plus what a listing needs without touching content: the platform chosen,
 * the config digest (the image ID Docker users know), the manifest, the
 * summed size and the config's creation time. Records are written once per
 * pull, tag or removal, atomically, so a list is a read of memory.
 *
 * Rules
 * - Names are unique; creating an existing name fails with AlreadyExists,
 *   `put` replaces.
 * - Removing a record never deletes content; the garbage collector does that
 *   once nothing references it (see gc/).
 * - When a tag moves to another image, the previous image stays as an
 *   untagged `<none>` record (`repo@digest`) unless another name still holds
 *   it — what Docker users expect — until `image prune` removes it.
 */
import type { Descriptor, Platform } from '../oci/descriptor';

export interface Image {
  readonly name: string;
  /** What was pulled: an index or a manifest. */
  readonly target: Descriptor;
  /** The platform-specific manifest inside target (equal to target for single-platform images). */
  readonly manifest: Descriptor;
  readonly platform: Platform;
  /** The config digest: Docker's "image ID". */
  readonly id: string;
  /** Sum of config and layer sizes as stored (compressed). */
  readonly size: number;
  /** The config's `created`, when it has one. */
  readonly created?: string;
  /** The unpacked root filesystem: the top layer's snapshot (named by ChainID). */
  readonly snapshot?: { readonly snapshotter: string; readonly chainId: string };
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ImageStore {
  get(name: string): Image | undefined;
  list(): Image[];
  /** Creates or replaces; returns the previous record of that name. */
  put(image: Image): Promise<Image | undefined>;
  /** NotFound when absent. */
  delete(name: string): Promise<Image>;
}

/**
 * Something outside the image store that keeps an image alive: containers
 * (daemon.ts wires it to the container store). `rmi` refuses to remove, and
 * `image prune` skips, an image a container was made from unless forced.
 */
export interface ImageUsage {
  /** Names of the users of the image with this ID (config digest); empty = unused. */
  usersOf(imageId: string): string[];
}

export const noImageUsage: ImageUsage = { usersOf: () => [] };

/** Whether a record is untagged (`<none>`): its name carries a digest and no tag. */
export function isUntagged(name: string): boolean {
  return name.includes('@');
}

/** The repository part of a record name: `docker.io/library/busybox` for `…busybox:1.36` or `…busybox@sha256:…`. */
export function repositoryOf(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** The tag of a record name, or undefined for an untagged (`repo@digest`) record. */
export function tagOf(name: string): string | undefined {
  if (isUntagged(name)) return undefined;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
}
