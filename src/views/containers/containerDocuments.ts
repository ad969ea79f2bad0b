/**
 * Container documents on the `gantry:` scheme, named by ID (stable) and
 * name (what the tab shows):
 *   gantry:/container/<id>/<name>.json   inspect, read-only JSON (this file)
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
import type { RuntimeConnection } from '../../client/connection';
import { type InspectContainerResponse } from '../../../runtime/client';
import { healthName, statusName } from '../../../runtime/containers/status';

const CONTAINER_PREFIX = '/container/';
export type ContainerDocumentKind = 'inspect' | 'logs' | 'stats';
const SUFFIX: Record<ContainerDocumentKind, string> = { inspect: '.json', logs: '.log', stats: '.stats' };

export interface ContainerDocumentRef {
  readonly id: string;
  readonly name: string;
  readonly kind: ContainerDocumentKind;
}

export function containerDocumentUri(id: string, name: string, kind: ContainerDocumentKind): vscode.Uri {
  return vscode.Uri.from({ scheme: 'gantry', path: `${CONTAINER_PREFIX}${id}/${name}${SUFFIX[kind]}` });
}

export function parseContainerDocumentUri(uri: vscode.Uri): ContainerDocumentRef | undefined {
  if (uri.scheme !== 'gantry' || !uri.path.startsWith(CONTAINER_PREFIX)) return undefined;
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

export class ContainerInspectDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly connection: RuntimeConnection) {
    this.subscription = connection.onDidReceiveEvent((event) => {
      if (!event.topic.startsWith('/containers/') || event.topic === '/containers/destroy') return;
      for (const document of vscode.workspace.textDocuments) {
        const ref = parseContainerDocumentUri(document.uri);
        if (ref?.kind === 'inspect' && ref.id === event.id) this.changeEmitter.fire(document.uri);
      }
    });
  }

  static matches(uri: vscode.Uri): boolean {
    return parseContainerDocumentUri(uri)?.kind === 'inspect';
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const ref = parseContainerDocumentUri(uri);
    if (ref?.kind !== 'inspect') throw new Error(`not a container inspect document: ${uri.toString()}`);
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    try {
      const details = await this.connection.requireClient().containers.inspect(ref.id, { signal: abort.signal });
      return JSON.stringify(inspectDocument(details), null, 2) + '\n';
    } finally {
      cancel.dispose();
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
