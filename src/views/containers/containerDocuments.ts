/**
 * Container documents on the `gantry:` scheme, named by ID (stable) and
 * name (what the tab shows):
 *   gantry:/container/<id>/<name>.json   inspect, read-only JSON (containerInspectKind
 *                                        here, read by ../inspectDocuments.ts)
 *   gantry:/container/<id>/<name>.log    logs, following (containerLogs.ts)
 *   gantry:/container/<id>/<name>.stats  CPU and memory, live (containerStats.ts)
 *
 * The inspect document is `containers.inspect(<id>)` with the enums spelled
 * as Docker spells them ("running", "healthy") and the OCI runtime spec
 * parsed under `spec`. An open one is read again when the daemon reports a
 * change of its container (start, die, pause, health_status …), so it shows
 * the current state; after `destroy` it keeps its last content.
 */
import * as vscode from 'vscode';
import { GANTRY_SCHEME } from '../gantryDocuments';
import type { InspectKind } from '../inspectDocuments';
import { type InspectContainerResponse } from '../../../runtime/client';
import { healthName, statusName } from '../../../runtime/presentation';

const CONTAINER_PREFIX = '/container/';
export type ContainerDocumentKind = 'inspect' | 'logs' | 'stats';
const SUFFIX: Record<ContainerDocumentKind, string> = { inspect: '.json', logs: '.log', stats: '.stats' };

export interface ContainerDocumentRef {
  readonly id: string;
  readonly name: string;
  readonly kind: ContainerDocumentKind;
}

/** `name` is the tab's title: a `/` in it (a pod's container, "team/web/app"; a CRI record name) becomes `_`, as a path segment cannot hold one. */
export function containerDocumentUri(id: string, name: string, kind: ContainerDocumentKind): vscode.Uri {
  return vscode.Uri.from({ scheme: GANTRY_SCHEME, path: `${CONTAINER_PREFIX}${id}/${name.replaceAll('/', '_')}${SUFFIX[kind]}` });
}

export function parseContainerDocumentUri(uri: vscode.Uri): ContainerDocumentRef | undefined {
  if (uri.scheme !== GANTRY_SCHEME || !uri.path.startsWith(CONTAINER_PREFIX)) return undefined;
  const [id, file, ...rest] = uri.path.slice(CONTAINER_PREFIX.length).split('/');
  if (!id || !file || rest.length) return undefined;
  for (const kind of ['inspect', 'logs', 'stats'] as const) {
    if (file.endsWith(SUFFIX[kind])) return { id, name: file.slice(0, -SUFFIX[kind].length), kind };
  }
  return undefined;
}

/** The inspect response as a person reads it: enum names, the spec parsed. */
export function inspectDocument(details: InspectContainerResponse): unknown {
  const c = details.container;
  let spec: unknown;
  try {
    spec = details.specJson ? JSON.parse(details.specJson) : undefined;
  } catch {
    spec = details.specJson; // not JSON: show it as the daemon sent it
  }
  return {
    ...details,
    container: c && { ...c, status: statusName(c.status), health: healthName(c.health) },
    health: details.health && { ...details.health, status: healthName(details.health.status) },
    spec,
    specJson: undefined,
  };
}

/** Container inspect documents, keyed by ID; re-read on any event of the container but its removal (the document keeps its last content). */
export const containerInspectKind: InspectKind<string> = {
  keyOf: (uri) => {
    const ref = parseContainerDocumentUri(uri);
    return ref?.kind === 'inspect' ? ref.id : undefined;
  },
  changedBy: (event, id) => event.topic.startsWith('/containers/') && event.topic !== '/containers/destroy' && event.id === id,
  read: async (client, id, signal) => inspectDocument(await client.containers.inspect(id, { signal })),
};
