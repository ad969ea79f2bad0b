/**
 * `gantry-files://<container id>/<path>`: a file inside a container of the
 * connected daemon (local or on an SSH host), served by
 * ContainerFileSystem. The authority is the container's full ID (hex, so a
 * valid lower-case authority); the path is the absolute path inside it.
 *
 * `gantry-files://volume/<name>/<path>`: a file inside a volume (its data
 * directory is the root; docs/volumes.md). `volume` is not hex, so it never
 * names a container, and a volume name has no `/`.
 *
 * `gantry-files://layer-<index>-<image id hex>/<path>`: a file of an image's
 * tree up to one layer (read-only; docs/layers.md).
 */
import * as vscode from 'vscode';
import type { FileTargetRef } from '../../runtime/client';

export const CONTAINER_FILES_SCHEME = 'gantry-files';

export function containerFileUri(containerId: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CONTAINER_FILES_SCHEME, authority: containerId, path: path.startsWith('/') ? path : `/${path}` });
}

const VOLUME_AUTHORITY = 'volume';

export function volumeFileUri(volume: string, path: string): vscode.Uri {
  const inside = path.startsWith('/') ? path : `/${path}`;
  return vscode.Uri.from({
    scheme: CONTAINER_FILES_SCHEME,
    authority: VOLUME_AUTHORITY,
    path: `/${volume}${inside === '/' ? '' : inside}`,
  });
}

export interface ContainerFileRef {
  /** The container's ID; '' for a volume's file; the authority of a layer URI. */
  readonly containerId: string;
  /** Whose files, as the files service takes it. */
  readonly target: FileTargetRef;
  readonly path: string;
  /** Set for a layer URI: the image ID (`sha256:…`) and the layer (0 = bottom). */
  readonly layer?: { readonly image: string; readonly index: number };
}

const LAYER_AUTHORITY = /^layer-(\d+)-([0-9a-f]{64})$/;

/** A file of an image's tree up to layer `index`; `imageId` is the config digest (`sha256:…`). */
export function layerFileUri(imageId: string, index: number, path: string): vscode.Uri {
  const hex = imageId.replace(/^sha256:/, '');
  return vscode.Uri.from({
    scheme: CONTAINER_FILES_SCHEME,
    authority: `layer-${index}-${hex}`,
    path: path.startsWith('/') ? path : `/${path}`,
  });
}

/** FileNotFound for a URI that is not one of ours (VS Code turns it into a plain error). */
export function parseContainerFileUri(uri: vscode.Uri): ContainerFileRef {
  if (uri.scheme !== CONTAINER_FILES_SCHEME || !uri.authority) throw vscode.FileSystemError.FileNotFound(uri);
  if (uri.authority === VOLUME_AUTHORITY) {
    const [, volume = '', ...rest] = uri.path.split('/');
    if (!volume) throw vscode.FileSystemError.FileNotFound(uri);
    return { containerId: '', target: { volume }, path: `/${rest.join('/')}` };
  }
  const layerMatch = LAYER_AUTHORITY.exec(uri.authority);
  if (layerMatch) {
    const layer = { image: `sha256:${layerMatch[2]}`, index: Number(layerMatch[1]) };
    return { containerId: uri.authority, target: { layer }, path: uri.path || '/', layer };
  }
  return { containerId: uri.authority, target: { container: uri.authority }, path: uri.path || '/' };
}
