// The Volumes view and the volume commands in a real workbench against the
// real gantryd of test/vscode/run.ts: the view lists a volume with its size
// and the containers using it, follows the daemon's volume events, expands
// a volume into its files (the gantry-files: provider, rooted in the
// volume) and opens one; Remove is refused for a volume in use, with the
// daemon's words, and Prune removes only unused ones. (Clicks: UI suite.)
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Volume } from '../../../runtime/client';
import type { VolumeTreeNode } from '../../../src/views/volumes/volumeNodes';
import type { VolumesTreeProvider } from '../../../src/views/volumes/volumesTreeProvider';
import { expectFailure } from './commandFailures';
import { ContainersHarness, labelOf, PREFIX, waitFor } from './containersHarness';
import { nextEvent } from './viewActivity';

describe('Volumes view and volume commands (code-server)', function () {
  this.timeout(180_000);
  const h = new ContainersHarness();
  let provider: VolumesTreeProvider;
  const DATA = `${PREFIX}data`;
  const SPARE = `${PREFIX}spare`;
  const USER = `${PREFIX}voluser`;

  before(async () => {
    await h.setUp();
    provider = h.api.views.volumes;
    await vscode.commands.executeCommand('gantry.volumes.focus');
  });
  after(async () => {
    await h.client?.containers.remove(USER, true).catch(() => undefined);
    for (const name of [DATA, SPARE]) await h.client?.volumes.remove(name, { force: true }).catch(() => undefined);
    await h.tearDown();
  });

  const items = async (node?: VolumeTreeNode) =>
    (await provider.getChildren(node)).map((n) => ({ node: n, item: provider.getTreeItem(n), label: labelOf(provider.getTreeItem(n)) }));
  let lastRoots = '';
  const describeRoots = async () =>
    (lastRoots = JSON.stringify((await items()).map((r) => `${r.label} [${r.item.contextValue}] ${String(r.item.description)}`)));
  const shownRoots = () => lastRoots;

  it('lists a volume with its size and the container using it, live from the daemon events', async () => {
    const created = nextEvent(h.api, '/volumes/create', (e) => e.topic === '/volumes/create' && e.id === DATA);
    const volume = await vscode.commands.executeCommand<Volume>('gantry.volumes.create', { name: DATA });
    assert.equal(volume?.name, DATA);
    await created;
    // A container fills it (7 bytes in two files, one in a folder) and keeps using it once it exited.
    await h.client.containers.create(USER, {
      image: h.image,
      cmd: ['sh', '-c', 'mkdir -p /d/conf && printf hello > /d/conf/app.txt && echo x > /d/top'],
      network: 'none',
      volumeMounts: [
        { name: DATA, destination: '/d', readOnly: false, noCopy: false, volumeOptions: {}, volumeLabels: {}, anonymous: false },
      ],
    });
    await h.client.containers.start(USER);
    await h.daemonWhere(USER, 'exited', (c) => c.finishedAt !== undefined);
    let seen = '';
    const entry = await waitFor(
      `${DATA} used by ${USER}, with its size`,
      async () => {
        await vscode.commands.executeCommand('gantry.volumes.refresh');
        seen = await describeRoots();
        const found = (await items()).find((r) => r.label === DATA);
        return found?.item.description === `7B · ${USER}` ? found : undefined;
      },
      () => seen,
    );
    assert.equal(entry.item.contextValue, 'volumeInUse');
    // Markdown-escaped: compare without the backslashes.
    const tooltip = (entry.item.tooltip as vscode.MarkdownString).value.replace(/\\/g, '');
    assert.ok(tooltip.includes(USER) && tooltip.includes(`/volumes/${DATA}/_data`), tooltip);
  });

  it('expands a volume into its files, folders first, and opens a file through gantry-files:', async () => {
    const volume = (await items()).find((r) => r.label === DATA)!;
    const root = await items(volume.node);
    assert.deepEqual(
      root.map((r) => [r.label, r.item.contextValue]),
      [
        ['conf', 'volumeFolder'],
        ['top', 'volumeFile'],
      ],
    );
    const conf = await items(root[0].node);
    assert.deepEqual(
      conf.map((r) => r.label),
      ['app.txt'],
    );
    const open = conf[0].item.command!;
    assert.equal(open.command, 'vscode.open');
    const uri = open.arguments![0] as vscode.Uri;
    assert.equal(uri.toString(), `gantry-files://volume/${DATA}/conf/app.txt`);
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.getText(), 'hello');
    // Written through the provider: the volume holds it.
    await vscode.workspace.fs.writeFile(vscode.Uri.parse(`gantry-files://volume/${DATA}/new.txt`), Buffer.from('from the editor\n'));
    const { data } = await h.client.files.readFile({ volume: DATA }, '/new.txt');
    assert.equal(data.toString(), 'from the editor\n');
  });

  it('Remove Volume is refused for a volume in use, naming the container, and removes nothing', async () => {
    const id = (await h.daemon(USER))!.id;
    const node = (await items()).find((r) => r.label === DATA)!.node;
    const failure = await expectFailure(h.api, 'gantry.volumes.remove', node, { confirm: false });
    assert.match(failure.message, new RegExp(`volume is in use - \\[${id}\\]`));
    assert.ok((await h.client.volumes.list()).some((v) => v.name === DATA));
  });

  it('Prune Volumes removes only unused ones; the view follows', async () => {
    await vscode.commands.executeCommand('gantry.volumes.create', { name: SPARE });
    await waitFor(
      'the spare volume listed',
      async () => {
        await describeRoots();
        return (await items()).find((r) => r.label === SPARE);
      },
      shownRoots,
    );
    const destroyed = nextEvent(h.api, '/volumes/destroy', (e) => e.topic === '/volumes/destroy' && e.id === SPARE);
    const removed = await vscode.commands.executeCommand<string[]>('gantry.volumes.prune', { confirm: false, all: true });
    assert.ok(removed?.includes(SPARE), JSON.stringify(removed));
    assert.ok(!removed.includes(DATA), 'a volume in use stays');
    await destroyed;
    await h.api.views.idle();
    await waitFor(
      'the spare volume gone',
      async () => {
        await describeRoots();
        return (await items()).some((r) => r.label === SPARE) ? undefined : true;
      },
      shownRoots,
    );
    assert.ok((await items()).some((r) => r.label === DATA));
  });
});
