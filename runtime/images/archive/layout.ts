/** Names shared by save and load: the layout files and annotations (archive.ts describes the layouts). */
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
