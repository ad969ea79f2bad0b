/**
 * Image archives: `gantry save` / `gantry load` (docs/transfer.md).
 *
 * Two layouts, both tars with every blob at `blobs/<alg>/<hex>`:
 * - `oci`: an OCI image layout — `oci-layout`, `index.json` with one entry
 *   per image name (annotations `io.containerd.image.name` = the full name,
 *   `org.opencontainers.image.ref.name` = its tag, as containerd and Docker
 *   write them).
 * - `docker` (the default): the same plus Docker's `manifest.json`
 *   (Config, RepoTags, Layers per image) and `repositories` — the layout
 *   `docker save` writes since Docker 25, which `docker load`, skopeo
 *   (`docker-archive:` and `oci-archive:`) and containerd all read.
 *
 * Load reads both, and the older docker-archive layout (`<id>/layer.tar`,
 * `<hex>.json`, symlinked layers), whole-archive gzip or zstd or plain.
 * Rules: entry names are relative and stay inside the archive (`../x` and
 * absolute names are refused); every blob goes through the content store's
 * commit, which verifies it against the digest its name or its manifest
 * claims; layers are unpacked (which checks each DiffID) before any record
 * is written. So a truncated or tampered archive leaves the image records as
 * they were; blobs it did commit are garbage the collector removes.
 */
export type ArchiveFormat = 'docker' | 'oci';

export const OCI_LAYOUT = { imageLayoutVersion: '1.0.0' };
export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';

/** Where a blob lives inside an archive. */
export function blobPath(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

export function parseFormat(s: string | undefined): ArchiveFormat {
  if (!s || s === 'docker' || s === 'docker-archive') return 'docker';
  if (s === 'oci' || s === 'oci-archive') return 'oci';
  throw new Error(`unknown archive format ${JSON.stringify(s)} (want docker or oci)`);
}

export { saveImages } from './save';
export { loadImages, type LoadDeps } from './load';
