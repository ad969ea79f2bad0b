// The Images view's menus beyond the basics (images.test.ts): Pull on an
// image, Pull All Tags and Remove All Tags… on a repository, Group By and
// Sort By in the view's `…` menu, the empty view's Pull Image… button, and
// what a failed pull says. Driven through vscode.commands.executeCommand with
// the nodes VS Code would pass, against the test daemon and registry that
// test/vscode/run.ts started (see images.test.ts for the environment).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RuntimeClient } from '../../../runtime/client/client';
import type { ImageSummary } from '../../../runtime/api/gen/gantry/v1/images';
import type { RemoveImagesResult } from '../../../src/commands/images/removeImages';
import type { ImageNode, ImageRepositoryNode, ImageTreeNode } from '../../../src/views/images/imageNodes';
import type { ImagesTreeProvider } from '../../../src/views/images/imagesTreeProvider';
import type { GantryApi } from '../../../src/extension';
import { expectFailure } from './commandFailures';
import { labelOf, waitFor } from './containersHarness';

interface Entry {
  node: ImageTreeNode;
  label: string;
}

describe('Images view menus (code-server)', function () {
  this.timeout(120_000);
  const socket = process.env.GANTRY_TEST_SOCKET!;
  const registry = process.env.GANTRY_TEST_REGISTRY!;
  const fixtures = JSON.parse(process.env.GANTRY_TEST_IMAGES ?? '{}') as Record<string, { ref: string; manifestDigest: string }>;
  const repo = `${registry}/gantry-test/busybox`;
  const config = () => vscode.workspace.getConfiguration('gantry.images');
  let api: GantryApi;
  let provider: ImagesTreeProvider;
  let client: RuntimeClient;
  let last: Entry[] = [];

  async function tree(): Promise<Entry[]> {
    const entries: Entry[] = [];
    for (const node of await provider.getChildren()) {
      entries.push({ node, label: labelOf(provider.getTreeItem(node)) });
      // Repositories' images; an image's own children are its layers (layers.test.ts).
      if (node.kind !== 'repository') continue;
      for (const child of await provider.getChildren(node)) entries.push({ node: child, label: labelOf(provider.getTreeItem(child)) });
    }
    last = entries;
    return entries;
  }
  const describeTree = () => JSON.stringify(last.map((e) => `${e.node.kind}:${e.label}`));
  const repositoryNode = (label: string) =>
    waitFor(
      `a repository node ${label}`,
      async () => (await tree()).find((e) => e.node.kind === 'repository' && e.label === label)?.node as ImageRepositoryNode | undefined,
      describeTree,
    );
  const imageNode = (name: string) =>
    waitFor(
      `an item for ${name}`,
      async () => (await tree()).find((e) => e.node.kind === 'image' && e.node.image.name === name)?.node as ImageNode | undefined,
      describeTree,
    );
  const daemonNames = async () => (await client.images.list()).map((i) => i.name);

  before(async () => {
    assert.ok(socket && registry && fixtures.oci && fixtures.v2s2 && fixtures.cancel, 'run through test/vscode/run.ts');
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    api = await ext.activate();
    provider = api.views.images;
    await waitFor(
      'a connection to the test daemon',
      async () => (api.connection.state === 'connected' && api.connection.socket === socket) || undefined,
      () => JSON.stringify(api.connection),
    );
    client = RuntimeClient.forSocket(socket);
    // Both tags of the busybox repository, whatever ran before.
    for (const ref of [fixtures.oci.ref, fixtures.v2s2.ref]) {
      if (!(await daemonNames()).includes(ref))
        for await (const _ of client.images.pull({ reference: ref })) {
          /* progress is not tested here */
        }
    }
  });

  after(async () => {
    for (const key of ['groupBy', 'sortBy']) {
      await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
      await config().update(key, undefined, vscode.ConfigurationTarget.Global);
    }
    client?.close();
  });

  it('Pull on an image pulls that name again, and Pull All Tags every tag of the repository, skipping <none>', async () => {
    const byDigest = `${repo}@${fixtures.v2s2.manifestDigest}`;
    for await (const _ of client.images.pull({ reference: byDigest })) {
      /* an untagged record under the same repository */
    }
    try {
      const node = await imageNode(fixtures.oci.ref);
      const one = await vscode.commands.executeCommand<ImageSummary[]>('gantry.images.pullAgain', node, [node]);
      assert.deepEqual(
        one.map((i) => i.name),
        [fixtures.oci.ref],
      );

      await imageNode(byDigest);
      const group = await repositoryNode(repo);
      assert.ok(
        group.children.some((c) => c.image.name === byDigest),
        'the repository holds the untagged image too',
      );
      const all = await vscode.commands.executeCommand<ImageSummary[]>('gantry.images.pullAllTags', group, [group]);
      assert.deepEqual(all.map((i) => i.name).sort(), [fixtures.oci.ref, fixtures.v2s2.ref].sort());
    } finally {
      // Not remove(byDigest): the daemon resolves repo@digest to any name of that digest (here, the v2s2 tag).
      await client.images.prune();
    }
  });

  it('Remove All Tags… on a repository removes every image of it', async () => {
    const names = ['docker.io/gantry-test/doomed:a', 'docker.io/gantry-test/doomed:b'];
    for (const name of names) await client.images.tag(fixtures.oci.ref, name);
    const group = await waitFor(
      'both doomed tags',
      async () => {
        const node = (await tree()).find((e) => e.node.kind === 'repository' && e.label === 'gantry-test/doomed')?.node as
          ImageRepositoryNode | undefined;
        return node && node.children.length === 2 ? node : undefined;
      },
      describeTree,
    );
    const removed = await vscode.commands.executeCommand<RemoveImagesResult>('gantry.images.removeAllTags', group, [group], {
      confirm: false,
    });
    assert.deepEqual([...removed.untagged].sort(), names);
    const left = await daemonNames();
    assert.ok(
      names.every((n) => !left.includes(n)),
      `still there: ${left}`,
    );
    assert.ok(left.includes(fixtures.oci.ref), 'the image keeps its other names');
  });

  it('removing an image a container uses says which container, not "use --force"', async () => {
    const image = fixtures.cancel.ref;
    for await (const _ of client.images.pull({ reference: image })) {
      /* an image no other name shares */
    }
    const created = await client.containers.create('gtest-image-user', { image, cmd: ['true'] });
    try {
      const failure = await expectFailure(api, 'gantry.images.remove', image, [image], { confirm: false });
      assert.equal(failure.message, `Could not remove ${image}: ${image} is used by container gtest-image-user.`);
      assert.ok((await daemonNames()).includes(image));
    } finally {
      await client.containers.remove(created.id, true).catch(() => undefined);
      await client.images.remove(image, true).catch(() => undefined);
    }
  });

  it('a pull of a tag or repository the registry lacks says so, naming the registry', async () => {
    for (const ref of [`${repo}:nope`, `${registry}/gantry-test/no-such-repository:latest`]) {
      const failure = await expectFailure(api, 'gantry.images.pull', ref);
      assert.equal(failure.message, `Could not pull ${ref}: the tag or the repository was not found on registry ${registry}.`);
    }
    assert.ok(!(await daemonNames()).includes(`${repo}:nope`));
  });

  it("Group By and Sort By (the view's … menu) set the settings, where they are set", async () => {
    await config().update('groupBy', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('gantry.images.groupByNone');
    assert.equal(config().inspect('groupBy')?.globalValue, 'none', 'written to the user settings');
    await waitFor('a flat list', async () => ((await tree()).every((e) => e.node.kind === 'image') ? true : undefined), describeTree);
    assert.ok(
      last.some((e) => e.label === `${repo}:oci`),
      describeTree(),
    );
    await vscode.commands.executeCommand('gantry.images.groupByRepository');
    await repositoryNode(repo);

    // A workspace value would override the user's: the command changes that one.
    await config().update('sortBy', 'created', vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('gantry.images.sortBySize');
    assert.equal(config().inspect('sortBy')?.workspaceValue, 'size');
    assert.equal(config().get('sortBy'), 'size');
    await vscode.commands.executeCommand('gantry.images.sortByName');
    assert.equal(config().get('sortBy'), 'name');
    const group = await repositoryNode(repo);
    const tags = group.children.map((c) => c.tag ?? '<none>');
    assert.deepEqual(
      tags,
      [...tags].sort((a, b) => a.localeCompare(b)),
      'tags by name',
    );

    // The menu entries: in the view's … menu (not a navigation button), each checked when its value is set.
    const contributes = vscode.extensions.getExtension('gantry.gantry')!.packageJSON.contributes;
    const title = contributes.menus['view/title'].filter((m: { submenu?: string }) => m.submenu?.startsWith('gantry.images.'));
    assert.deepEqual(
      title.map((m: { submenu: string }) => m.submenu),
      ['gantry.images.groupBy', 'gantry.images.sortBy'],
    );
    assert.ok(
      title.every((m: { group: string; when: string }) => !m.group.startsWith('navigation') && m.when.includes('view == gantry.images')),
    );
    const toggles = contributes.commands.filter((c: { toggled?: string }) => c.toggled?.startsWith('config.gantry.images.'));
    assert.equal(toggles.length, 5);
  });

  it('the empty Images view offers Pull Image…', () => {
    const ext = vscode.extensions.getExtension('gantry.gantry')!;
    const welcome = ext.packageJSON.contributes.viewsWelcome.find(
      (w: { view: string; when: string }) => w.view === 'gantry.images' && w.when === 'gantry.connectionState == connected',
    );
    const nls = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, 'package.nls.json'), 'utf8'));
    // VS Code may hand out the manifest localized already.
    const raw: string = welcome.contents;
    const contents: string = /^%.+%$/.test(raw) ? nls[raw.slice(1, -1)] : raw;
    assert.match(contents, /No images yet/);
    assert.match(contents, /^\[Pull Image…\]\(command:gantry\.images\.pull\)$/m, 'a button (a link alone on its line) running Pull Image…');
  });
});
