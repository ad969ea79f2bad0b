/**
 * Read-only JSON documents for `gantry:` URIs: `gantry:/image/<name>.json`
 * shows `images.inspect(<name>)` as the CLI's `gantry inspect` prints it
 * (the stored manifest and config parsed, under `manifest` and `rawConfig`).
 * The tab title is the last path segment, e.g. `busybox:latest.json`.
 *
 * An open document is re-read when the daemon reports that its name now
 * points at another image (/images/update) or was created again.
 */
import * as vscode from 'vscode';
import { GANTRY_SCHEME } from '../gantryDocuments';
import type { InspectKind } from '../inspectDocuments';

const IMAGE_PREFIX = '/image/';
const JSON_SUFFIX = '.json';

/** The document URI of an image record name ("docker.io/library/busybox:latest"). */
export function imageDocumentUri(name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: GANTRY_SCHEME, path: `${IMAGE_PREFIX}${name}${JSON_SUFFIX}` });
}

/** Image inspect documents, keyed by record name. */
export const imageInspectKind: InspectKind<string> = {
  keyOf: (uri) => {
    if (uri.scheme !== GANTRY_SCHEME || !uri.path.startsWith(IMAGE_PREFIX) || !uri.path.endsWith(JSON_SUFFIX)) return undefined;
    return uri.path.slice(IMAGE_PREFIX.length, -JSON_SUFFIX.length);
  },
  changedBy: (event, name) => (event.topic === '/images/update' || event.topic === '/images/create') && event.id === name,
  read: async (client, name, signal) => {
    const details = await client.images.inspect(name, { signal });
    return {
      ...details,
      manifest: JSON.parse(details.manifestJson) as unknown,
      rawConfig: JSON.parse(details.configJson) as unknown,
      manifestJson: undefined,
      configJson: undefined,
    };
  },
};
