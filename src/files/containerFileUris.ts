/**
 * `gantry-files://<container id>/<path>`: a file inside a container of the
 * connected daemon (local or on an SSH host), served by
 * ContainerFileSystem. The authority is the container's full ID (hex, so a
 * valid lower-case authority); the path is the absolute path inside it.
 */
import * as vscode from 'vscode';

export const CONTAINER_FILES_SCHEME = 'gantry-files';

export function containerFileUri(containerId: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CONTAINER_FILES_SCHEME, authority: containerId, path: path.startsWith('/') ? path : `/${path}` });
}

export interface ContainerFileRef {
  readonly containerId: string;
  readonly path: string;
}

/** FileNotFound for a URI that is not one of ours (VS Code turns it into a plain error). */
export function parseContainerFileUri(uri: vscode.Uri): ContainerFileRef {
  if (uri.scheme !== CONTAINER_FILES_SCHEME || !uri.authority) throw vscode.FileSystemError.FileNotFound(uri);
  return { containerId: uri.authority, path: uri.path || '/' };
}
