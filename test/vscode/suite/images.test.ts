// The Images view and its commands in a real VS Code workbench (code-server),
// against the real gantryd and the real registry that test/vscode/run.ts
// started before VS Code. run.ts passes:
//   GANTRY_TEST_SOCKET    the daemon's socket (also the workspace's gantry.socketPath)
//   GANTRY_TEST_REGISTRY  "127.0.0.1:PORT" (loopback: gantryd speaks plain HTTP to it)
//   GANTRY_TEST_IMAGES    JSON {oci, v2s2, cancel} of pushed images: {ref, manifestDigest, configDigest, layerDigests}
//
// Everything is driven through vscode.commands.executeCommand, with the
// commands' optional arguments in place of prompts. Each test checks both
// the daemon (through a client of its own) and what the view's provider
// returns (the extension's API: api.views.images).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RuntimeClient } from '../../../runtime/client/client';
import type { ImageSummary, PruneImagesResponse } from '../../../runtime/api/gen/gantry/v1/images';
import type { PullProgressSnapshot } from '../../../src/commands/images/pullProgress';
import type { RemoveImagesResult } from '../../../src/commands/images/removeImages';
import type { ImageNode, ImageTreeNode } from '../../../src/views/images/imageNodes';
import type { ImagesTreeProvider } from '../../../src/views/images/imagesTreeProvider';
import { startFaultProxy } from '../../helpers/faultProxy';
import { expectFailure } from './commandFailures';
import type { GantryApi } from '../../../src/extension';
import { waitFor as waitUntil } from '../../helpers/waitFor';
import { IMAGES_VIEW, nextEvent, ViewCalls } from './viewActivity';

interface FixtureImage {
  ref: string;
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
}

interface Entry {
  node: ImageTreeNode;
  item: vscode.TreeItem;
  label: string;
  parent?: string;
}

function env(): { socket: string; registry: string; images: Record<'oci' | 'v2s2' | 'cancel', FixtureImage> } {
  const socket = process.env.GANTRY_TEST_SOCKET;
  const registry = process.env.GANTRY_TEST_REGISTRY;
  const images = process.env.GANTRY_TEST_IMAGES;
  assert.ok(socket && registry && images, 'run through test/vscode/run.ts: GANTRY_TEST_SOCKET, _REGISTRY or _IMAGES is unset');
  return { socket, registry, images: JSON.parse(images) };
}

const labelOf = (item: vscode.TreeItem) => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));

/** Polls (test/helpers/waitFor.ts) until `check` returns a value other than undefined; fails after `ms` with `what` and the last state. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, describeLast: () => string, ms = 20_000): Promise<T> {
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

describe('Images view and commands (code-server)', function () {
  this.timeout(120_000);
  const { socket, registry, images } = env();
  const repo = `${registry}/gantry-test/busybox`;
  const config = () => vscode.workspace.getConfiguration('gantry.images');
  let api: GantryApi;
  let provider: ImagesTreeProvider;
  /** The view's list and inspect calls and last refresh reason, counted from `before` on. */
  let calls: ViewCalls;
  let client: RuntimeClient;
  let lastTree: Entry[] = [];

  /** The tree as VS Code gets it: roots, and the children of repository nodes. */
  async function tree(): Promise<Entry[]> {
    const entries: Entry[] = [];
    for (const node of await provider.getChildren()) {
      const item = provider.getTreeItem(node);
      entries.push({ node, item, label: labelOf(item) });
      // Repositories' images; an image's own children are its layers (layers.test.ts).
      if (node.kind !== 'repository') continue;
      for (const child of await provider.getChildren(node)) {
        const childItem = provider.getTreeItem(child);
        entries.push({ node: child, item: childItem, label: labelOf(childItem), parent: labelOf(item) });
      }
    }
    lastTree = entries;
    return entries;
  }
  const describeTree = () => JSON.stringify(lastTree.map((e) => (e.parent ? `${e.parent} > ${e.label}` : e.label)));

  /** The tree, once `predicate` holds for it. */
  const treeWhere = (what: string, predicate: (entries: Entry[]) => boolean, ms?: number) =>
    waitFor(
      what,
      async () => {
        const entries = await tree();
        return predicate(entries) ? entries : undefined;
      },
      describeTree,
      ms,
    );

  const imageEntry = (entries: Entry[], name: string) => entries.find((e) => e.node.kind === 'image' && e.node.image.name === name);
  const imageNode = async (name: string): Promise<ImageNode> => {
    const entry = imageEntry(await treeWhere(`an item for ${name}`, (e) => imageEntry(e, name) !== undefined), name)!;
    return entry.node as ImageNode;
  };
  const daemonNames = async () => (await client.images.list()).map((i) => i.name);

  /** Waits until no refresh is pending or running (the extension's RefreshManager.idle), then lists the tree. */
  async function idleTree(): Promise<Entry[]> {
    await api.views.idle();
    return tree();
  }

  before(async () => {
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    api = await ext.activate();
    assert.ok(api.views?.images, 'activate() returned no views.images');
    provider = api.views.images;
    calls = new ViewCalls(api, IMAGES_VIEW);
    await waitFor(
      'a connection to the test daemon',
      async () => (api.connection.state === 'connected' && api.connection.socket === socket) || undefined,
      () => JSON.stringify(api.connection),
    );
    await config().update('groupBy', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('sortBy', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('gantry.images.focus');
    client = RuntimeClient.forSocket(socket);
  });

  after(async () => {
    await vscode.commands.executeCommand('gantry.images.clearFilter');
    await config().update('groupBy', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('sortBy', undefined, vscode.ConfigurationTarget.Workspace);
    client?.close();
    calls?.dispose();
  });

  it('pulls an image with progress, and the item appears through the event stream', async () => {
    await idleTree();
    const progress: PullProgressSnapshot[] = [];
    const pulled = await vscode.commands.executeCommand<ImageSummary>('gantry.images.pull', images.oci.ref, {
      onProgress: (p: PullProgressSnapshot) => progress.push(p),
    });
    assert.ok(pulled, 'pull returned nothing');
    assert.equal(pulled.name, images.oci.ref);
    assert.equal(pulled.target?.digest, images.oci.manifestDigest);
    assert.equal(pulled.id, images.oci.configDigest);
    assert.ok(progress.length > 0, 'no progress was reported');
    const last = progress[progress.length - 1];
    assert.ok(last.total > 0 && last.downloaded === last.total, `last progress: ${JSON.stringify(last)}`);
    assert.equal(last.blobs, images.oci.layerDigests.length + 1, 'config and layers');
    assert.ok((await daemonNames()).includes(images.oci.ref));
    // No refresh command: only the daemon's /images/create event can make it show.
    await imageNode(images.oci.ref);
    assert.equal(calls.lastRefreshReason, 'event');
  });

  it('pulls the Docker schema2 tag too', async () => {
    const pulled = await vscode.commands.executeCommand<ImageSummary>('gantry.images.pull', images.v2s2.ref);
    assert.equal(pulled?.name, images.v2s2.ref);
    assert.equal(pulled?.id, images.v2s2.configDigest);
    await imageNode(images.v2s2.ref);
  });

  it("asks which platform to pull for a multi-platform image, this host's first", async () => {
    const ref = `${registry}/gantry-test/multi:latest`;
    let offered: string[] = [];
    const pulled = await vscode.commands.executeCommand<ImageSummary>('gantry.images.pull', ref, {
      pickPlatform: async (items: readonly { platform: string; description?: string }[]) => {
        offered = items.map((i) => `${i.platform}${i.description ? ` (${i.description})` : ''}`);
        return items.find((i) => i.platform === 'linux/arm64');
      },
    });
    assert.deepEqual(offered, ['linux/amd64 (this host)', 'linux/arm64']);
    assert.equal(pulled?.platform?.architecture, 'arm64');
    const dismissed = await vscode.commands.executeCommand('gantry.images.pull', ref, { pickPlatform: async () => undefined });
    assert.equal(dismissed, undefined, 'dismissing the pick cancels the pull');
  });

  it('cancelling a pull mid-download ends the command cleanly and leaves no image', async () => {
    // A proxy in front of the registry that holds the first blob: the pull is surely in flight when cancelled.
    const proxy = await startFaultProxy(Number(registry.split(':')[1]));
    try {
      const stalled = proxy.pauseBlobAfter(0);
      const ref = images.cancel.ref.replace(registry, proxy.host);
      const cancel = new vscode.CancellationTokenSource();
      const pulling = vscode.commands.executeCommand<ImageSummary | undefined>('gantry.images.pull', ref, { cancellation: cancel.token });
      const [request] = await stalled;
      cancel.cancel();
      assert.equal(await pulling, undefined, 'a cancelled pull returns undefined');
      // The daemon cancelled the download: it closed its connection to the registry.
      await proxy.clientClosed(request.conn, 15_000);
      const repository = ref.slice(0, ref.lastIndexOf(':'));
      assert.ok(!(await daemonNames()).some((n) => n.startsWith(repository)), `the daemon kept an image of ${repository}`);
      await vscode.commands.executeCommand('gantry.images.refresh');
      assert.ok(!(await tree()).some((e) => e.node.kind === 'image' && e.node.image.repository === repository));
    } finally {
      proxy.release({ reset: true });
      await proxy.close();
    }
  });

  it('a pull cancelled right after it starts ends cleanly and leaves no image', async () => {
    const cancel = new vscode.CancellationTokenSource();
    const pulling = vscode.commands.executeCommand<ImageSummary | undefined>('gantry.images.pull', images.cancel.ref, {
      cancellation: cancel.token,
    });
    cancel.cancel();
    assert.equal(await pulling, undefined);
    // The daemon must not finish the pull behind the user's back. The sentinel, a tag made
    // after the cancel: once its event is in, the daemon has served later requests and the
    // cancelled pull had not made the image by then. Its removal is awaited too, so no
    // refresh of this test's is left for the next one to count.
    const sentinel = 'docker.io/gantry-test/sentinel:after-cancel';
    const tagged = nextEvent(api, "the sentinel tag's event", (e) => e.id === sentinel && e.topic === '/images/create');
    await client.images.tag(images.oci.ref, sentinel);
    await tagged;
    assert.ok(!(await daemonNames()).includes(images.cancel.ref));
    const untagged = nextEvent(api, "the sentinel removal's event", (e) => e.id === sentinel && e.topic === '/images/delete');
    await client.images.remove(sentinel);
    await untagged;
  });

  it('lists once per refresh, coalesces bursts of events, and makes no per-item calls', async () => {
    await idleTree();
    const lists = calls.listCalls;
    const inspects = calls.inspectCalls;
    await vscode.commands.executeCommand('gantry.images.refresh');
    await tree();
    await idleTree();
    assert.equal(calls.listCalls - lists, 1, 'one list call for one manual refresh');
    assert.equal(calls.inspectCalls, inspects, 'no inspect call without a hover');

    // Three tags in a row: three events, one debounced refresh, one list call.
    const names = ['a', 'b', 'c'].map((t) => `docker.io/gantry-test/burst:${t}`);
    const before = calls.listCalls;
    const last = nextEvent(api, `the event for ${names[2]}`, (e) => e.topic.startsWith('/images/') && e.id === names[2]);
    for (const name of names) await client.images.tag(images.oci.ref, name);
    // Once the extension has the last tag's event, it has asked for every refresh it will; idle() comes after them.
    await last;
    await treeWhere('the three burst tags', (e) => names.every((n) => imageEntry(e, n)));
    await idleTree();
    assert.equal(calls.listCalls - before, 1, 'three events within the debounce window cost one list call');
    assert.equal(calls.lastRefreshReason, 'event');
    for (const name of names) await client.images.remove(name);
    await treeWhere('the burst tags gone', (e) => names.every((n) => !imageEntry(e, n)));
  });

  it('groups by repository: familiar names, tags as labels, size and age, context values and ids', async () => {
    const entries = await treeWhere('both busybox tags', (e) => Boolean(imageEntry(e, images.oci.ref) && imageEntry(e, images.v2s2.ref)));
    const group = entries.find((e) => e.node.kind === 'repository' && e.label === repo);
    assert.ok(group, `no repository node ${repo}: ${describeTree()}`);
    assert.equal(group.item.contextValue, 'imageRepository');
    const oci = imageEntry(entries, images.oci.ref)!;
    assert.equal(oci.parent, repo);
    assert.equal(oci.label, 'oci');
    assert.equal(oci.item.contextValue, 'image');
    assert.equal(oci.item.id, `image:${images.oci.ref}`);
    assert.match(String(oci.item.description), /^\d+(\.\d+)?[kM]?B · .+ ago$/);
    assert.ok(oci.item.iconPath instanceof vscode.ThemeIcon);
    assert.equal(oci.item.tooltip, undefined, 'the tooltip is resolved lazily');
  });

  it('resolves the tooltip lazily with one inspect call', async () => {
    const node = await imageNode(images.oci.ref);
    const inspects = calls.inspectCalls;
    const item = await provider.resolveTreeItem(provider.getTreeItem(node), node, new vscode.CancellationTokenSource().token);
    assert.equal(calls.inspectCalls - inspects, 1);
    const tooltip = item.tooltip as vscode.MarkdownString;
    assert.ok(tooltip instanceof vscode.MarkdownString, `tooltip: ${JSON.stringify(item.tooltip)}`);
    for (const expected of [
      images.oci.configDigest.slice(7, 19),
      images.oci.manifestDigest.slice(0, 7 + 12),
      'linux/amd64',
      '/bin/sh',
      'Created',
      'Size',
    ]) {
      assert.ok(tooltip.value.includes(expected), `tooltip lacks ${expected}:\n${tooltip.value}`);
    }
  });

  it('inspect opens a read-only JSON document of the image', async () => {
    const node = await imageNode(images.oci.ref);
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.images.inspect', node);
    assert.equal(document.uri.scheme, 'gantry');
    assert.equal(document.uri.path, `/image/${images.oci.ref}.json`);
    assert.equal(document.languageId, 'json');
    const json = JSON.parse(document.getText());
    assert.equal(json.image.name, images.oci.ref);
    assert.equal(json.image.id, images.oci.configDigest);
    assert.deepEqual(
      json.manifest.layers.map((l: { digest: string }) => l.digest),
      images.oci.layerDigests,
    );
    assert.equal(json.rawConfig.architecture, 'amd64');
    assert.equal(json.manifestJson, undefined);
    assert.deepEqual(json.config.cmd, ['/bin/sh']);
    // By name, from code.
    const again = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.images.inspect', images.v2s2.ref);
    assert.equal(JSON.parse(again.getText()).image.id, images.v2s2.configDigest);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('tags an image, refusing an invalid name', async () => {
    const node = await imageNode(images.oci.ref);
    const tagged = await vscode.commands.executeCommand<ImageSummary>('gantry.images.tag', node, 'gantry-test/tagged:v1');
    assert.equal(tagged.name, 'docker.io/gantry-test/tagged:v1');
    assert.equal(tagged.id, images.oci.configDigest);
    assert.ok((await daemonNames()).includes(tagged.name));
    const entries = await treeWhere('the new tag', (e) => imageEntry(e, tagged.name) !== undefined);
    const entry = imageEntry(entries, tagged.name)!;
    assert.equal(entry.parent, 'gantry-test/tagged');
    assert.equal(entry.label, 'v1');
    const failure = await expectFailure(api, 'gantry.images.tag', node, 'Not/Valid:tag');
    assert.match(failure.message, /invalid reference format/);
  });

  it('copies the full tag to the clipboard', async () => {
    const node = await imageNode('docker.io/gantry-test/tagged:v1');
    const copied = await vscode.commands.executeCommand<string>('gantry.images.copyFullTag', node);
    assert.equal(copied, 'docker.io/gantry-test/tagged:v1');
    assert.equal(await vscode.env.clipboard.readText(), 'docker.io/gantry-test/tagged:v1');
  });

  it('follows the groupBy and sortBy settings', async () => {
    const images_ = (entries: Entry[]) => entries.filter((e) => e.node.kind === 'image').map((e) => (e.node as ImageNode).image);
    try {
      await config().update('groupBy', 'none', vscode.ConfigurationTarget.Workspace);
      await config().update('sortBy', 'name', vscode.ConfigurationTarget.Workspace);
      let entries = await tree();
      assert.ok(
        entries.every((e) => e.node.kind === 'image' && e.parent === undefined),
        `not flat: ${describeTree()}`,
      );
      const labels = entries.map((e) => e.label);
      assert.ok(labels.includes(`${repo}:oci`) && labels.includes('gantry-test/tagged:v1'), describeTree());
      assert.deepEqual(
        labels,
        [...labels].sort((a, b) => a.localeCompare(b)),
        'sorted by name',
      );

      await config().update('sortBy', 'size', vscode.ConfigurationTarget.Workspace);
      const sizes = images_(await tree()).map((i) => i.size);
      assert.ok(new Set(sizes).size > 1, 'the fixtures differ in size');
      assert.deepEqual(
        sizes,
        [...sizes].sort((a, b) => b - a),
        'largest first',
      );
      entries = await tree();
      assert.ok(entries.findIndex((e) => e.label === `${repo}:v2s2`) < entries.findIndex((e) => e.label === `${repo}:oci`));

      await config().update('sortBy', 'created', vscode.ConfigurationTarget.Workspace);
      const times = images_(await tree()).map((i) => Date.parse(i.created));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
        'newest first',
      );

      await config().update('groupBy', 'repository', vscode.ConfigurationTarget.Workspace);
      await config().update('sortBy', 'name', vscode.ConfigurationTarget.Workspace);
      entries = await tree();
      const groups = entries.filter((e) => e.node.kind === 'repository').map((e) => e.label);
      assert.ok(groups.includes(repo) && groups.includes('gantry-test/tagged'), describeTree());
      assert.deepEqual(
        groups,
        [...groups].sort((a, b) => a.localeCompare(b)),
      );
      assert.deepEqual(
        entries.filter((e) => e.parent === repo).map((e) => e.label),
        ['oci', 'v2s2'],
      );
    } finally {
      await config().update('groupBy', undefined, vscode.ConfigurationTarget.Workspace);
      await config().update('sortBy', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('filters the view by substring, without listing again', async () => {
    await idleTree();
    const lists = calls.listCalls;
    try {
      assert.equal(await vscode.commands.executeCommand('gantry.images.filter', 'V2S2'), 'V2S2');
      let entries = await tree();
      const images_ = entries.filter((e) => e.node.kind === 'image');
      assert.deepEqual(
        images_.map((e) => (e.node as ImageNode).image.name),
        [images.v2s2.ref],
        describeTree(),
      );
      assert.equal(provider.filter, 'V2S2');

      await vscode.commands.executeCommand('gantry.images.filter', 'no-such-image');
      entries = await tree();
      assert.equal(entries.length, 1);
      assert.equal(entries[0].item.contextValue, 'imagesNoMatch');
      assert.equal(entries[0].item.command?.command, 'gantry.images.clearFilter');
    } finally {
      await vscode.commands.executeCommand('gantry.images.clearFilter');
    }
    assert.equal(provider.filter, '');
    const entries = await tree();
    assert.ok(imageEntry(entries, images.oci.ref) && imageEntry(entries, images.v2s2.ref));
    assert.equal(calls.listCalls, lists, 'filtering works on the cached list');
  });

  it('shows an untagged image as <none> and prunes it, reporting reclaimed space', async () => {
    const byDigest = `${registry}/gantry-test/cancel@${images.cancel.manifestDigest}`;
    const pulled = await vscode.commands.executeCommand<ImageSummary>('gantry.images.pull', byDigest);
    assert.equal(pulled.name, byDigest);
    assert.equal(pulled.tag, '');
    const entries = await treeWhere('the untagged image', (e) => imageEntry(e, byDigest) !== undefined);
    const entry = imageEntry(entries, byDigest)!;
    assert.equal(entry.label, '<none>');
    assert.equal(entry.parent, `${registry}/gantry-test/cancel`);
    assert.equal(entry.item.contextValue, 'danglingImage');
    assert.ok(String(entry.item.description).startsWith(images.cancel.manifestDigest.slice(7, 19)), String(entry.item.description));

    const result = await vscode.commands.executeCommand<PruneImagesResponse>('gantry.images.prune', { confirm: false });
    assert.deepEqual(result.untagged, [byDigest]);
    assert.ok(result.reclaimedBytes > 0, `reclaimed ${result.reclaimedBytes}`);
    assert.ok(!(await daemonNames()).includes(byDigest));
    await treeWhere('the pruned image gone', (e) => imageEntry(e, byDigest) === undefined);
    assert.ok((await daemonNames()).includes(images.oci.ref), 'prune kept the tagged images');
  });

  it('removes one image, then several selected at once', async () => {
    const single = 'docker.io/gantry-test/tagged:v1';
    const node = await imageNode(single);
    const one = await vscode.commands.executeCommand<RemoveImagesResult>('gantry.images.remove', node, [node], { confirm: false });
    assert.deepEqual(one.untagged, [single]);
    assert.ok(!(await daemonNames()).includes(single));
    await treeWhere(`${single} gone`, (e) => imageEntry(e, single) === undefined);

    const names = ['docker.io/gantry-test/multi:a', 'docker.io/gantry-test/multi:b'];
    for (const name of names) await vscode.commands.executeCommand('gantry.images.tag', images.v2s2.ref, name);
    const nodes = await Promise.all(names.map(imageNode));
    const many = await vscode.commands.executeCommand<RemoveImagesResult>('gantry.images.remove', nodes[0], nodes, { confirm: false });
    assert.deepEqual([...many.untagged].sort(), names);
    const left = await daemonNames();
    assert.ok(
      names.every((n) => !left.includes(n)),
      `still there: ${left}`,
    );
    assert.ok(left.includes(images.v2s2.ref), 'removing names kept the image under its other name');
    await treeWhere('the removed names gone', (e) => names.every((n) => imageEntry(e, n) === undefined));
  });

  it('shows nothing while disconnected, and lists again after reconnecting', async () => {
    const gantry = vscode.workspace.getConfiguration('gantry');
    const waitState = (state: string, sock: string) =>
      waitFor(
        `state ${state} on ${sock}`,
        async () => (api.connection.state === state && api.connection.socket === sock) || undefined,
        () => JSON.stringify(api.connection),
      );
    const nowhere = `/tmp/gantry-images-test-${process.pid}.sock`;
    try {
      await gantry.update('socketPath', nowhere, vscode.ConfigurationTarget.Global);
      await waitState('disconnected', nowhere);
      assert.deepEqual(await provider.getChildren(), []);
    } finally {
      await gantry.update('socketPath', socket, vscode.ConfigurationTarget.Global);
    }
    await waitState('connected', socket);
    await treeWhere('the images again', (e) => imageEntry(e, images.oci.ref) !== undefined);
  });
});
