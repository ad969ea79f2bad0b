// A container's files in a real workbench against the real gantryd of
// test/vscode/run.ts: the Containers view expands a container into Files
// and its folders (listed by the daemon, nothing run in the container), a
// file opens in an editor through the gantry-files: provider, an edit saved
// there is what the container reads at once, and New File/Folder, Rename,
// Delete act on the container. A change made inside the container reaches
// the open editor. (The clicks themselves are in the UI suite.)
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ContainerTreeNode } from '../../../src/views/containers/containerNodes';
import { containerFileUri } from '../../../src/files/containerFileUris';
import { execStdout } from '../../helpers/containerExec';
import { expectFailure } from './commandFailures';
import { ContainersHarness, labelOf, PREFIX, waitFor } from './containersHarness';

describe('Container files (code-server)', function () {
  this.timeout(120_000);
  const h = new ContainersHarness();
  const NAME = `${PREFIX}files`;
  let id = '';

  before(async () => {
    await h.setUp();
    const created = await h.client.containers.create(NAME, { image: h.image, cmd: ['sleep', '3600'], network: 'none' });
    id = created.id;
    await h.client.containers.start(id);
  });
  after(() => h.tearDown());

  const exec = (args: string[]) => execStdout(h.client, id, args);
  const children = async (node: ContainerTreeNode) =>
    (await h.provider.getChildren(node)).map((n) => ({
      node: n,
      item: h.provider.getTreeItem(n),
      label: labelOf(h.provider.getTreeItem(n)),
    }));

  it('expands a container into Files, its folders first, a link to a folder as a folder', async () => {
    const container = await h.entry(NAME, 'running', (e) => e.item.contextValue === 'runningContainer');
    assert.equal(container.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const files = (await children(container.node)).find((c) => c.item.contextValue === 'containerFiles');
    assert.ok(files, 'a Files node');
    assert.equal(files.label, 'Files');
    await exec(['ln', '-s', '/etc', '/etc-link']);
    const root = await children(files.node);
    const names = root.map((r) => r.label);
    for (const n of ['bin', 'etc', 'etc-link', 'tmp']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
    const link = root.find((r) => r.label === 'etc-link')!;
    assert.equal(link.item.contextValue, 'containerFolder');
    assert.equal(link.item.description, '→ /etc');
    const inEtc = await children(link.node);
    const hostname = inEtc.find((r) => r.label === 'hostname');
    assert.ok(hostname, inEtc.map((r) => r.label).join(','));
    assert.equal(hostname.item.contextValue, 'containerFile');
    assert.equal(hostname.item.command?.command, 'vscode.open');
  });

  it("the provider's readDirectory (names and types from the daemon) gives folders, files and a link to a folder", async () => {
    await exec(['sh', '-c', 'ln -sf /etc /provider-link && mkdir -p /tmp/pdir && echo x > /tmp/pfile']);
    const root = new Map(await vscode.workspace.fs.readDirectory(containerFileUri(id, '/')));
    assert.equal(root.get('bin'), vscode.FileType.Directory);
    assert.equal(root.get('provider-link'), vscode.FileType.SymbolicLink | vscode.FileType.Directory);
    const tmp = new Map(await vscode.workspace.fs.readDirectory(containerFileUri(id, '/tmp')));
    assert.equal(tmp.get('pdir'), vscode.FileType.Directory);
    assert.equal(tmp.get('pfile'), vscode.FileType.File);
  });

  it('opens a file in an editor, and a save is what the container reads at once', async () => {
    const uri = containerFileUri(id, '/etc/motd');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('before\n'));
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    assert.equal(doc.getText(), 'before\n');
    await editor.edit((e) => e.replace(new vscode.Range(0, 0, 0, 6), 'after'));
    assert.ok(await doc.save(), 'saved');
    assert.equal(await exec(['cat', '/etc/motd']), 'after\n');
  });

  it('shows a change made inside the container in the open editor', async () => {
    const uri = containerFileUri(id, '/tmp/live.txt');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('one\n'));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    await exec(['sh', '-c', 'echo two > /tmp/live.txt']);
    await waitFor(
      'the editor shows the container’s change',
      () => (doc.getText() === 'two\n' ? true : undefined),
      () => doc.getText(),
    );
  });

  it('New File, New Folder, Rename and Delete act on the container', async () => {
    const container = await h.entry(NAME, 'running', (e) => e.item.contextValue === 'runningContainer');
    const files = (await children(container.node)).find((c) => c.item.contextValue === 'containerFiles')!;
    const tmp = (await children(files.node)).find((c) => c.label === 'tmp')!;
    await vscode.commands.executeCommand('gantry.containers.files.newFolder', tmp.node, { name: 'made' });
    const made = await waitFor('made listed', async () => (await children(tmp.node)).find((c) => c.label === 'made'));
    await vscode.commands.executeCommand('gantry.containers.files.newFile', made.node, { name: 'new.txt' });
    assert.equal(await exec(['sh', '-c', 'ls -l /tmp/made | tail -1 | cut -c1-10']), '-rw-r--r--\n');
    const file = (await children(made.node)).find((c) => c.label === 'new.txt')!;
    await vscode.commands.executeCommand('gantry.containers.files.rename', file.node, { newName: 'renamed.txt' });
    assert.equal(await exec(['ls', '/tmp/made']), 'renamed.txt\n');
    await vscode.commands.executeCommand('gantry.containers.files.delete', made.node, { confirm: false });
    assert.equal(await exec(['sh', '-c', 'test -e /tmp/made && echo there || echo gone']), 'gone\n');
  });

  it('a file over gantry.files.maxEditorBytes does not open, saying why; above a quarter of it, it is read-only', async () => {
    const config = () => vscode.workspace.getConfiguration('gantry.files');
    await config().update('maxEditorBytes', 4096, vscode.ConfigurationTarget.Workspace);
    try {
      await exec([
        'sh',
        '-c',
        'head -c 5000 /dev/zero > /tmp/big.bin && head -c 2000 /dev/zero > /tmp/middle.bin && echo hi > /tmp/small.txt',
      ]);
      await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(containerFileUri(id, '/tmp/big.bin'))), (e: Error) => {
        assert.match(e.message, /\/tmp\/big\.bin is 5000 bytes, more than gantry\.files\.maxEditorBytes \(4096\)/);
        return true;
      });
      assert.equal((await vscode.workspace.fs.stat(containerFileUri(id, '/tmp/middle.bin'))).permissions, vscode.FilePermission.Readonly);
      assert.equal((await vscode.workspace.fs.stat(containerFileUri(id, '/tmp/small.txt'))).permissions, undefined);
      assert.equal(Buffer.from(await vscode.workspace.fs.readFile(containerFileUri(id, '/tmp/middle.bin'))).length, 2000);
    } finally {
      await config().update('maxEditorBytes', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('a name with a slash, or an existing one, is refused in one message and nothing is made', async () => {
    const container = await h.entry(NAME, 'running', (e) => e.item.contextValue === 'runningContainer');
    const files = (await children(container.node)).find((c) => c.item.contextValue === 'containerFiles')!;
    const tmp = (await children(files.node)).find((c) => c.label === 'tmp')!;
    const slash = await expectFailure(h.api, 'gantry.containers.files.newFile', tmp.node, { name: '../escape' });
    assert.equal(slash.message, 'A name cannot contain "/"');
    await exec(['touch', '/tmp/taken.txt']);
    const taken = await expectFailure(h.api, 'gantry.containers.files.newFolder', tmp.node, { name: 'taken.txt' });
    assert.match(taken.message, /taken\.txt/);
    assert.equal(
      await exec(['sh', '-c', 'ls -d /escape /tmp/taken.txt 2>&1; true']),
      'ls: /escape: No such file or directory\n/tmp/taken.txt\n',
    );
  });

  it('a missing file is FileNotFound, as VS Code expects', async () => {
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.stat(containerFileUri(id, '/no/such/file'))),
      (e: unknown) => e instanceof vscode.FileSystemError && e.code === 'FileNotFound',
    );
  });
});
