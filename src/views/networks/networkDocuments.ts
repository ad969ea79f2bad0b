/**
 * Read-only JSON documents of networks: `gantry:/network/<name>.json` shows
 * `networks.inspect(<name>)` as `gantry network inspect` prints it. An open
 * one is read again when the network's containers change (connect,
 * disconnect) or it is created again under the same name.
 */
import * as vscode from 'vscode';
import { GANTRY_SCHEME } from '../gantryDocuments';
import type { InspectKind } from '../inspectDocuments';

const NETWORK_PREFIX = '/network/';
const JSON_SUFFIX = '.json';

export function networkDocumentUri(name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: GANTRY_SCHEME, path: `${NETWORK_PREFIX}${name}${JSON_SUFFIX}` });
}

/**
 * Network inspect documents, keyed by name. A network's events carry its
 * ID; create names it in `attributes.name`, connect and disconnect in
 * `attributes.network` (their `name` is the container's).
 */
export const networkInspectKind: InspectKind<string> = {
  keyOf: (uri) => {
    if (uri.scheme !== GANTRY_SCHEME || !uri.path.startsWith(NETWORK_PREFIX) || !uri.path.endsWith(JSON_SUFFIX)) return undefined;
    return uri.path.slice(NETWORK_PREFIX.length, -JSON_SUFFIX.length);
  },
  changedBy: (event, name) =>
    (event.topic === '/networks/create' && event.attributes.name === name) ||
    ((event.topic === '/networks/connect' || event.topic === '/networks/disconnect') && event.attributes.network === name),
  read: (client, name, signal) => client.networks.inspect(name, { signal }),
};
