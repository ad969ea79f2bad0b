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
export { blobPath, parseFormat, type ArchiveFormat } from './layout';
export { saveImages } from './save';
export { loadImages, type LoadDeps } from './load';
