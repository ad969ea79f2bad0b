// What the Containers suites share: the extension's API, a client of their
// own to the test daemon, the fixture image pulled once, the tree as VS Code
// gets it, and clean-up of every container they made (names start with
// "gtest-"). test/vscode/run.ts started the daemon and the registry, and
// pushed gantry-test/containers:latest for these suites.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RuntimeClient } from '../../../runtime/client/client';
import { ContainerStatus, type ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import type { ContainerTreeNode } from '../../../src/views/containers/containerNodes';
import type { ContainersTreeProvider } from '../../../src/views/containers/containersTreeProvider';
export type { GantryApi } from '../../../src/extension';
import type { GantryApi } from '../../../src/extension';
import { waitFor as waitUntil } from '../../helpers/waitFor';
import { CONTAINERS_VIEW, ViewCalls } from './viewActivity';

export interface Entry {
  node: ContainerTreeNode;
  item: vscode.TreeItem;
  label: string;
}

export const PREFIX = 'gtest-';
export const labelOf = (item: vscode.TreeItem) => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));
export const iconOf = (item: vscode.TreeItem): string => {
  const icon = item.iconPath;
  if (icon instanceof vscode.ThemeIcon) return icon.id;
  return typeof icon === 'string' || icon instanceof vscode.Uri ? icon.toString() : JSON.stringify(icon ?? null);
};

/** Polls (test/helpers/waitFor.ts) until `check` returns a value other than undefined; fails after `ms` with `what` and the last state. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  describeLast?: () => string,
  ms = 30_000,
): Promise<T> {
  return (
    await waitUntil(
      async () => {
        const value = await check();
        return value === undefined ? undefined : { value };
      },
      { what, timeoutMs: ms, intervalMs: 100, describe: describeLast },
    )
  ).value;
}

export class ContainersHarness {
  api!: GantryApi;
  provider!: ContainersTreeProvider;
  /** The view's list and inspect calls and last refresh reason, counted from setUp on. */
  calls!: ViewCalls;
  client!: RuntimeClient;
  readonly image: string;
  private lastTree: Entry[] = [];

  constructor() {
    const socket = process.env.GANTRY_TEST_SOCKET;
    const images = process.env.GANTRY_TEST_IMAGES;
    assert.ok(socket && images, 'run through test/vscode/run.ts: GANTRY_TEST_SOCKET or _IMAGES is unset');
    const fixture = (JSON.parse(images) as Record<string, { ref: string } | undefined>).containers;
    assert.ok(fixture, 'GANTRY_TEST_IMAGES has no "containers" image: rebuild test/vscode/run.ts');
    this.image = fixture.ref;
  }

  /** Activates the extension, waits for the connection, pulls the fixture image. */
  async setUp(): Promise<void> {
    const socket = process.env.GANTRY_TEST_SOCKET!;
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    this.api = await ext.activate();
    assert.ok(this.api.views?.containers, 'activate() returned no views.containers');
    this.provider = this.api.views.containers;
    this.calls = new ViewCalls(this.api, CONTAINERS_VIEW);
    await waitFor(
      'a connection to the test daemon',
      () => (this.api.connection.state === 'connected' && this.api.connection.socket === socket) || undefined,
      () => JSON.stringify(this.api.connection),
    );
    this.client = RuntimeClient.forSocket(socket);
    for await (const _ of this.client.images.pull({ reference: this.image })) {
      // progress is not what these suites test
    }
    await vscode.commands.executeCommand('gantry.containers.focus');
  }

  /** Removes every container the suites made, and the fixture image. */
  async tearDown(): Promise<void> {
    this.calls?.dispose();
    if (!this.client) return;
    for (const c of await this.client.containers.list(true)) {
      if (c.name.startsWith(PREFIX)) await this.client.containers.remove(c.id, true).catch(() => undefined);
    }
    await this.client.images.remove(this.image, true).catch(() => undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const t of vscode.window.terminals) t.dispose();
    this.client.close();
  }

  /** The tree as VS Code gets it. */
  async tree(): Promise<Entry[]> {
    const entries: Entry[] = [];
    for (const node of await this.provider.getChildren()) {
      const item = this.provider.getTreeItem(node);
      entries.push({ node, item, label: labelOf(item) });
    }
    this.lastTree = entries;
    return entries;
  }

  describeTree = (): string =>
    JSON.stringify(this.lastTree.map((e) => `${e.label} [${e.item.contextValue}, ${iconOf(e.item)}] ${String(e.item.description ?? '')}`));

  /** The tree's entry for container `name`, once `predicate` holds for it. */
  async entry(name: string, what: string, predicate: (e: Entry) => boolean = () => true): Promise<Entry> {
    return waitFor(`${name}: ${what}`, async () => (await this.tree()).find((e) => e.label === name && predicate(e)), this.describeTree);
  }

  async absent(name: string): Promise<void> {
    await waitFor(
      `${name} gone from the tree`,
      async () => ((await this.tree()).some((e) => e.label === name) ? undefined : true),
      this.describeTree,
    );
  }

  /** The daemon's record of `name` (undefined when it has none). */
  async daemon(name: string): Promise<ContainerSummary | undefined> {
    return (await this.client.containers.list(true)).find((c) => c.name === name);
  }

  async daemonWhere(name: string, what: string, predicate: (c: ContainerSummary) => boolean): Promise<ContainerSummary> {
    let last: ContainerSummary | undefined;
    return waitFor(
      `${name}: ${what}`,
      async () => {
        last = await this.daemon(name);
        return last && predicate(last) ? last : undefined;
      },
      () => JSON.stringify(last && { status: ContainerStatus[last.status], exitCode: last.exitCode, error: last.error }),
    );
  }

  /** Waits until no refresh is pending or running (the extension's RefreshManager.idle), then lists the tree. */
  async idleTree(): Promise<Entry[]> {
    await this.api.views.idle();
    return this.tree();
  }
}
