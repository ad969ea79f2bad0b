// A container's changes in a real workbench against the real gantryd of
// test/vscode/run.ts: the Containers view expands a container into Changes
// (A/C/D, as `gantry diff`), and Commit Container…, Export Container… and
// Import Image… run through their commands with the prompts answered (the
// name and the file given as arguments, as the input box and the dialogs
// would return them).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as vscode from 'vscode';
import * as tar from 'tar-stream';
import type { ImageSummary } from '../../../runtime/api/gen/gantry/v1/images';
import type { ContainerTreeNode } from '../../../src/views/containers/containerNodes';
import { execStdout } from '../../helpers/containerExec';
import { ContainersHarness, labelOf, PREFIX, waitFor } from './containersHarness';

describe('Container changes, commit, export and import (code-server)', function () {
  this.timeout(120_000);
  const h = new ContainersHarness();
  const NAME = `${PREFIX}changes`;
  const COMMITTED = `${PREFIX}committed:v1`;
  const IMPORTED = `${PREFIX}imported:v1`;
  let id = '';
  let dir = '';

  before(async () => {
    await h.setUp();
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'gchanges-'));
    const created = await h.client.containers.create(NAME, { image: h.image, cmd: ['sleep', '3600'], network: 'none' });
    id = created.id;
    await h.client.containers.start(id);
    await execStdout(h.client, id, ['sh', '-c', 'echo added > /added.txt && rm /etc/gantry-fixture && echo more >> /hello.txt']);
  });
  after(async () => {
    for (const image of [COMMITTED, IMPORTED]) await h.client?.images.remove(image, true).catch(() => undefined);
    await fs.promises.rm(dir, { recursive: true, force: true });
    await h.tearDown();
  });

  const children = async (node: ContainerTreeNode) =>
    (await h.provider.getChildren(node)).map((n) => ({
      node: n,
      item: h.provider.getTreeItem(n),
      label: labelOf(h.provider.getTreeItem(n)),
    }));

  it('expands a container into Changes listing what it added, changed and deleted; an added file opens from the container', async () => {
    const container = await h.entry(NAME, 'running', (e) => e.item.contextValue === 'runningContainer');
    const changes = (await children(container.node)).find((c) => c.item.contextValue === 'containerChanges');
    assert.ok(changes, 'a Changes node');
    assert.equal(changes.label, 'Changes');
    const listed = (await children(changes.node)).map((c) => ({ line: `${c.item.description} ${c.label}`, item: c.item }));
    assert.deepEqual(
      listed.map((l) => l.line),
      ['A /added.txt', 'C /etc', 'D /etc/gantry-fixture', 'C /hello.txt'],
    );
    const added = listed.find((l) => l.line === 'A /added.txt')!.item;
    assert.equal(added.command?.command, 'vscode.open');
    assert.equal((added.iconPath as vscode.ThemeIcon).color?.id, 'gitDecoration.addedResourceForeground');
    const deleted = listed.find((l) => l.line === 'D /etc/gantry-fixture')!.item;
    assert.equal(deleted.command, undefined, 'a deleted file has nothing to open');
    const target: unknown = added.command?.arguments?.[0];
    assert.ok(target instanceof vscode.Uri);
    const opened = await vscode.workspace.openTextDocument(target);
    assert.equal(opened.getText(), 'added\n');
  });

  it('Commit Container… makes an image the Images view shows, whose container sees the changes', async () => {
    const image = await vscode.commands.executeCommand<ImageSummary | undefined>('gantry.containers.commit', id, COMMITTED);
    assert.ok(image, 'the command returned the new image');
    assert.equal(image.name, `docker.io/library/${COMMITTED}`);
    await waitFor('the committed image in the Images view', async () => {
      const roots = await h.api.views.images.getChildren();
      const labels: string[] = [];
      for (const r of roots) {
        labels.push(labelOf(h.api.views.images.getTreeItem(r)));
        for (const c of await h.api.views.images.getChildren(r)) labels.push(labelOf(h.api.views.images.getTreeItem(c)));
      }
      return labels.some((l) => l.includes(`${PREFIX}committed`)) || undefined;
    });
    const c = await h.client.containers.create(`${PREFIX}from-commit`, { image: COMMITTED, cmd: ['sleep', '3600'], network: 'none' });
    await h.client.containers.start(c.id);
    assert.equal(await execStdout(h.client, c.id, ['cat', '/added.txt']), 'added\n');
    assert.equal(
      await execStdout(h.client, c.id, ['sh', '-c', 'ls /etc/gantry-fixture 2>&1 || true']),
      'ls: /etc/gantry-fixture: No such file or directory\n',
    );
  });

  it('Export Container… writes the flattened tree; Import Image… makes an image of it', async () => {
    const file = path.join(dir, 'exported.tar');
    const uri = await vscode.commands.executeCommand<vscode.Uri | undefined>('gantry.containers.export', id, vscode.Uri.file(file));
    assert.equal(uri?.fsPath, file);
    const names: string[] = [];
    const extract = tar.extract();
    Readable.from([await fs.promises.readFile(file)]).pipe(extract);
    for await (const entry of extract) {
      names.push(entry.header.name);
      entry.resume();
    }
    assert.ok(names.includes('added.txt'), 'the added file is exported');
    assert.ok(!names.includes('etc/gantry-fixture'), 'the deleted file is not');
    assert.ok(!names.some((n) => path.posix.basename(n).startsWith('.wh.')), 'no whiteouts');

    const image = await vscode.commands.executeCommand<ImageSummary | undefined>('gantry.images.import', vscode.Uri.file(file), IMPORTED);
    assert.equal(image?.name, `docker.io/library/${IMPORTED}`);
    const c = await h.client.containers.create(`${PREFIX}from-import`, { image: IMPORTED, cmd: ['cat', '/added.txt'], network: 'none' });
    await h.client.containers.start(c.id);
    assert.equal(await h.client.containers.wait(c.id), 0);
  });
});
