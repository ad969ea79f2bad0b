// The layer explorer in a real workbench against the real gantryd of
// test/vscode/run.ts: an image of the Images view expands into its layers
// (label `#n size`, the command that made it), a layer into what it
// added, changed and deleted as a tree with A/C/D decorations, and a file
// of the layer opens read-only in an editor. (The clicks are in the UI
// suite, test/ui/layers.ui.ts.)
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RuntimeClient } from '../../../runtime/client/client';
import type { GantryApi } from '../../../src/extension';
import type { ImageNode, ImageTreeNode } from '../../../src/views/images/imageNodes';
import type { ImageLayerNode, LayerChangeNode } from '../../../src/views/images/layerNodes';
import { LayerChangeDecorations } from '../../../src/views/images/layerTreeItems';
import { layerFileUri } from '../../../src/files/containerFileUris';
import { waitFor } from '../../helpers/waitFor';

const labelOf = (item: vscode.TreeItem) => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));

describe('Image layers (code-server)', function () {
  this.timeout(120_000);
  const socket = process.env.GANTRY_TEST_SOCKET!;
  const fixture = (JSON.parse(process.env.GANTRY_TEST_IMAGES ?? '{}') as Record<string, { ref: string; configDigest: string } | undefined>)
    .layered;
  let api: GantryApi;
  let client: RuntimeClient;

  before(async () => {
    assert.ok(fixture, 'GANTRY_TEST_IMAGES has no "layered" image: rebuild test/vscode/run.ts');
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    api = await ext.activate();
    await waitFor(() => (api.connection.state === 'connected' && api.connection.socket === socket) || undefined, {
      what: 'a connection to the test daemon',
      describe: () => JSON.stringify(api.connection),
    });
    client = RuntimeClient.forSocket(socket);
    for await (const _ of client.images.pull({ reference: fixture.ref })) {
      // progress is not under test here
    }
  });
  after(() => client?.close());

  const provider = () => api.views.images;
  const items = async (node?: ImageTreeNode) =>
    (await provider().getChildren(node)).map((n) => ({
      node: n,
      item: provider().getTreeItem(n),
      label: labelOf(provider().getTreeItem(n)),
    }));

  async function imageNode(): Promise<ImageNode> {
    return waitFor(
      async () => {
        for (const root of await items()) {
          const candidates = root.node.kind === 'repository' ? await items(root.node) : [root];
          const hit = candidates.find((c) => c.node.kind === 'image' && c.node.image.name === fixture!.ref);
          if (hit) return hit.node as ImageNode;
        }
        return undefined;
      },
      { what: `the Images view shows ${fixture!.ref}` },
    );
  }

  it('expands an image into its layers: #n and size, the command that made it, digest and diff ID in the tooltip', async () => {
    const image = await imageNode();
    assert.equal(provider().getTreeItem(image).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const layers = await items(image);
    assert.deepEqual(
      layers.map((l) => l.label),
      ['#1 66B', '#2 108B', '#3 30B'],
    );
    assert.equal(layers[0].item.description, 'ADD file:0123456789abcdef0123456789abcdef in /');
    assert.equal(layers[2].item.description, 'COPY gone /gone # buildkit');
    const tooltip = layers[1].item.tooltip as vscode.MarkdownString;
    const layer = (layers[1].node as ImageLayerNode).layer;
    assert.ok(tooltip.value.includes(layer.digest) && tooltip.value.includes(layer.diffId), tooltip.value);
    assert.ok(tooltip.value.includes('adduser user && rm -rf /etc/hosts /gone'), 'the full command');
  });

  it('expands a layer into its changes: folders on the way, A/C/D decorated, deletions not openable', async () => {
    const layers = await items(await imageNode());
    const top = await items(layers[1].node);
    assert.deepEqual(
      top.map((t) => `${t.label}:${t.item.resourceUri?.query ?? ''}`),
      ['app:C', 'etc:C', 'new:A', 'gone:D'],
    );
    const app = await items(top[0].node);
    assert.deepEqual(
      app.map((t) => `${t.label}:${(t.node as LayerChangeNode).change}`),
      ['a:C', 'fresh:A', 'sub:D'],
    );
    const decorations = new LayerChangeDecorations();
    const deleted = app[2];
    assert.equal(deleted.item.contextValue, 'layerChangeDeleted');
    assert.equal(deleted.item.command, undefined);
    assert.equal(decorations.provideFileDecoration(deleted.item.resourceUri!)?.badge, 'D');
    assert.equal(decorations.provideFileDecoration(app[1].item.resourceUri!)?.badge, 'A');
    assert.equal(app[1].item.command?.command, 'vscode.open');
  });

  it('opens a file of a layer read-only: the content as of that layer, writes refused', async () => {
    const layers = await items(await imageNode());
    const etc = (await items(layers[1].node)).find((t) => t.label === 'etc')!;
    const passwd = (await items(etc.node)).find((t) => t.label === 'passwd')!;
    const [uri] = passwd.item.command!.arguments as [vscode.Uri];
    await vscode.commands.executeCommand(passwd.item.command!.command, ...passwd.item.command!.arguments!);
    const editor = await waitFor(
      () => vscode.window.activeTextEditor?.document.uri.toString() === uri.toString() && vscode.window.activeTextEditor,
      {
        what: 'the layer file in the active editor',
      },
    );
    assert.match(editor.document.getText(), /^user:x:1000/m);
    assert.equal((await vscode.workspace.fs.stat(uri)).permissions, vscode.FilePermission.Readonly);
    // The bottom layer has the first passwd.
    const older = await vscode.workspace.fs.readFile(layerFileUri(fixture!.configDigest, 0, '/etc/passwd'));
    assert.equal(Buffer.from(older).toString(), 'root:x:0:0:root:/root:/bin/sh\n');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, Buffer.from('x'))), /read-only/);
  });
});
