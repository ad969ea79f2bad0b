// The Containers view between refreshes, and its newer actions, in a real
// VS Code workbench against the real gantryd (see containers.test.ts):
//   - relative times stay true on a clock the test moves (no wall-time wait),
//     re-rendering only the items whose text changed, with no list call;
//   - a stop, restart or remove in flight shows on the item, whose menus
//     then offer only Inspect and Logs; a container the user stopped is
//     shown stopped, one that died of a signal on its own as failed;
//   - Copy ID / Copy Name, the stats document, the filter, sorting.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ContainerStatus as S } from '../../../runtime/api/gen/gantry/v1/containers';
import { systemClock } from '../../../src/views/clock';
import type { ContainerNode, ContainerTreeNode } from '../../../src/views/containers/containerNodes';
import { ManualClock } from '../../helpers/manualClock';
import { ContainersHarness, iconOf, PREFIX, waitFor, type Entry } from './containersHarness';

const A = `${PREFIX}live-a`;
const B = `${PREFIX}live-b`;
const SLOW = `${PREFIX}live-slow`;
const SEC = 1000;
const MIN = 60 * SEC;

describe('Containers view: live times, operations in flight, more actions (code-server)', function () {
  this.timeout(120_000);
  const h = new ContainersHarness();

  /** Creates and starts `name` through the daemon; `stopTimeout` in seconds. */
  const start = async (name: string, cmd: string[], stopTimeout?: number) => {
    const created = await h.client.containers.create(name, {
      image: h.image,
      cmd,
      ...(stopTimeout === undefined ? {} : { stopTimeout, stopTimeoutSet: true }),
    });
    await h.client.containers.start(created.id);
    return h.daemonWhere(name, 'running', (c) => c.status === S.CONTAINER_STATUS_RUNNING);
  };
  const running = (name: string) => h.entry(name, 'running', (e) => e.item.contextValue === 'runningContainer');

  before(async () => {
    await h.setUp();
    await start(A, ['sleep', '3600']);
    await start(B, ['sleep', '3600']);
  });
  after(async () => {
    h.provider?.useClock(systemClock);
    h.provider?.setFilter('');
    await vscode.workspace.getConfiguration('gantry.containers').update('sortBy', undefined, vscode.ConfigurationTarget.Global);
    await h.tearDown();
  });

  it('keeps "Up …" true on the clock, re-rendering only the items whose text changed, with no list call', async () => {
    const a = (await running(A)).node as ContainerNode;
    const b = (await running(B)).node as ContainerNode;
    const aStart = a.container.startedAt!.getTime();
    const bStart = b.container.startedAt!.getTime();
    assert.ok(bStart > aStart, 'B started after A');
    const clock = new ManualClock(aStart + 30 * SEC);
    h.provider.useClock(clock);
    const changes: (ContainerTreeNode | ContainerTreeNode[] | undefined)[] = [];
    const sub = h.provider.onDidChangeTreeData((e) => {
      changes.push(e);
      // As VS Code does: render the fired elements again.
      if (Array.isArray(e)) for (const n of e) h.provider.getTreeItem(n);
    });
    try {
      const describeAt = async (name: string) => String((await h.tree()).find((e) => e.label === name)!.item.description);
      assert.match(await describeAt(A), /· Up Less than a minute$/);
      const lists = h.calls.listCalls;
      // One timer, armed for the first moment a shown text changes: no later than A's first minute, never a second away.
      const armed = h.provider.ticker.nextTick!;
      assert.ok(armed > clock.now() && armed <= aStart + MIN, `armed for ${armed - aStart} ms after A started`);
      clock.advanceTo(aStart + MIN - 1);
      assert.match(await describeAt(A), /· Up Less than a minute$/);
      const shown = await h.tree(); // the elements the view was last given
      changes.length = 0;
      clock.advanceTo(aStart + MIN);
      const fired = changes.filter(Array.isArray).flat() as ContainerNode[];
      assert.ok(
        fired.some((n) => n.container.name === A),
        `A re-rendered at its minute; fired: ${fired.map((n) => n.container.name)}`,
      );
      assert.ok(!fired.some((n) => n.container.name === B), 'B, whose texts did not change then, was not re-rendered');
      assert.ok(
        fired.every((n) => shown.some((e) => e.node === n)),
        'the fired elements are the ones the view shows',
      );
      assert.equal(
        String(h.provider.getTreeItem(fired.find((n) => n.container.name === A)!).description).split(' · ')[1],
        'Up About a minute',
      );

      // Four more minutes, a second at a time: A's texts change about twice a minute (its status and
      // its "created … ago"), so a handful of re-renders, not one a second.
      changes.length = 0;
      for (let t = aStart + MIN + SEC; t <= aStart + 5 * MIN + 10 * SEC; t += SEC) clock.advanceTo(t);
      const rendersOfA = changes
        .filter(Array.isArray)
        .flat()
        .filter((n) => n.kind === 'container' && n.container.name === A).length;
      assert.ok(rendersOfA >= 4 && rendersOfA <= 10, `A re-rendered ${rendersOfA} times in four minutes`);
      assert.ok(!changes.includes(undefined), 'no whole-tree refresh');
      assert.match(await describeAt(A), /· Up 5 minutes$/);
      assert.equal(h.calls.listCalls, lists, 'no list call for the clock');
      // The tooltip is resolved as of the clock too, worded as the description.
      const n = (await h.tree()).find((e) => e.label === A)!.node;
      const item = await h.provider.resolveTreeItem(h.provider.getTreeItem(n), n, new vscode.CancellationTokenSource().token);
      const tooltip = (item.tooltip as vscode.MarkdownString).value;
      assert.match(tooltip, /Up 5 minutes/);
      assert.doesNotMatch(tooltip, /seconds/);
    } finally {
      sub.dispose();
      h.provider.useClock(systemClock);
    }
  });

  it("shows a stop in flight as Stopping…, then the user's stop as stopped, not failed", async () => {
    // sleep as PID 1 ignores SIGTERM: the stop waits its 3 s timeout, then SIGKILLs (exit 137).
    await start(SLOW, ['sleep', '3600'], 3);
    const node = (await running(SLOW)).node;
    const stopping = vscode.commands.executeCommand('gantry.containers.stop', node);
    const busy = await h.entry(SLOW, 'shown as stopping', (e) => e.item.contextValue === 'busyStoppingContainer');
    assert.equal(iconOf(busy.item), 'loading~spin');
    assert.match(String(busy.item.description), / · Stopping…$/);
    assert.deepEqual(menuCommandsFor('busyStoppingContainer'), [
      'gantry.containers.copyId',
      'gantry.containers.copyName',
      'gantry.containers.inspect',
      'gantry.containers.viewLogs',
    ]);
    await stopping;
    const record = await h.daemonWhere(SLOW, 'exited', (c) => c.status === S.CONTAINER_STATUS_EXITED);
    assert.equal(record.exitCode, 137);
    assert.equal(record.stoppedByUser, true);
    const exited = await h.entry(SLOW, 'exited', (e) => e.item.contextValue === 'exitedContainer');
    assert.equal(iconOf(exited.item), 'circle-slash', 'a stop is not a failure');
    assert.match(String(exited.item.description), / · Exited \(137\) /);
  });

  it('still shows a container killed by a signal it did not get from the user as failed', async () => {
    const name = `${PREFIX}live-crash`;
    // Its main process's child is SIGKILLed by something other than the user, and the container exits with that
    // status (PID 1 itself cannot be SIGKILLed from inside): a failure, as an OOM kill would be.
    const created = await h.client.containers.create(name, { image: h.image, cmd: ['sh', '-c', 'sleep 3600 & kill -9 $!; wait $!'] });
    await h.client.containers.start(created.id);
    const record = await h.daemonWhere(name, 'exited', (c) => c.status === S.CONTAINER_STATUS_EXITED);
    assert.equal(record.exitCode, 137);
    assert.equal(record.stoppedByUser, false);
    const entry = await h.entry(name, 'exited', (e) => e.item.contextValue === 'exitedContainer');
    assert.equal(iconOf(entry.item), 'error');
  });

  it('shows a restart in flight as Restarting…; the restart still reaches the event stream', async () => {
    const node = (await h.entry(SLOW, 'in the tree')).node as ContainerNode;
    const events: string[] = [];
    const sub = h.api.onDidReceiveEvent((e) => {
      if (e.id === node.container.id) events.push(e.topic);
    });
    try {
      const restarting = vscode.commands.executeCommand('gantry.containers.restart', node);
      const busy = await h.entry(SLOW, 'shown as restarting', (e) => e.item.contextValue === 'busyRestartingContainer');
      assert.equal(iconOf(busy.item), 'loading~spin');
      assert.match(String(busy.item.description), / · Restarting…$/);
      await restarting;
      await running(SLOW);
      await waitFor(
        'the restart event',
        () => (events.includes('/containers/restart') ? true : undefined),
        () => JSON.stringify(events),
      );
    } finally {
      sub.dispose();
    }
  });

  it('shows a removal in flight as Removing…, then drops the item', async () => {
    const node = (await running(SLOW)).node;
    // Forced: the kill takes a moment, during which the item says so.
    const removing = vscode.commands.executeCommand('gantry.containers.remove', node, [node], { confirm: false, force: true });
    const busy = await h.entry(SLOW, 'shown as removing', (e) => e.item.contextValue === 'busyRemovingContainer');
    assert.match(String(busy.item.description), / · Removing…$/);
    await removing;
    await h.absent(SLOW);
  });

  it("copies a container's ID and name", async () => {
    const { node } = await running(A);
    const { container } = node as ContainerNode;
    assert.equal(await vscode.commands.executeCommand('gantry.containers.copyId', node), container.id);
    assert.equal(await vscode.env.clipboard.readText(), container.id);
    assert.equal(await vscode.commands.executeCommand('gantry.containers.copyName', node), A);
    assert.equal(await vscode.env.clipboard.readText(), A);
    // By name, from code.
    assert.equal(await vscode.commands.executeCommand('gantry.containers.copyId', A), container.id);
  });

  it('shows live stats in a document that stops updating when its tab closes', async () => {
    const { node } = await running(A);
    const stats = h.api.views.stats;
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewStats', node);
    assert.equal(document.uri.path, `/container/${(node as ContainerNode).container.id}/${A}.stats`);
    const sampled = () => /^Sampled\s+(\S+)$/m.exec(document.getText())?.[1];
    const first = await waitFor('a sample', sampled, () => document.getText());
    assert.match(document.getText(), /^CPU\s+\d+\.\d\d%$/m);
    assert.match(document.getText(), /^Memory\s+\S+ \/ \S+ \(\d+\.\d\d%\)$/m);
    await waitFor(
      'a newer sample',
      () => (sampled() !== first ? true : undefined),
      () => document.getText(),
    );
    assert.equal(stats.watching, 1, 'one stats call while the tab is open');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor(
      'the stats call ended',
      () => (stats.watching === 0 ? true : undefined),
      () => String(stats.watching),
    );
    // Opened again: updating again.
    const again = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewStats', A);
    const before = /^Sampled\s+(\S+)$/m.exec(again.getText())?.[1];
    await waitFor(
      'samples after reopening',
      () => (/^Sampled\s+(\S+)$/m.exec(again.getText())?.[1] !== before ? true : undefined),
      () => again.getText(),
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor(
      'the stats call ended',
      () => (stats.watching === 0 ? true : undefined),
      () => String(stats.watching),
    );
  });

  it('filters the view on the cached list, and says when nothing matches', async () => {
    await running(A);
    await running(B);
    const lists = h.calls.listCalls;
    assert.equal(await vscode.commands.executeCommand('gantry.containers.filter', 'LIVE-A'), 'LIVE-A');
    assert.deepEqual(labels(await h.tree()), [A]);
    assert.match(String(h.api.viewState.descriptions.containers), /filter: LIVE-A/);
    await vscode.commands.executeCommand('gantry.containers.filter', 'no-such-container');
    const [none] = await h.tree();
    assert.equal(none.item.contextValue, 'containersNoMatch');
    await vscode.commands.executeCommand('gantry.containers.clearFilter');
    assert.ok(labels(await h.tree()).includes(B));
    assert.equal(h.api.viewState.descriptions.containers, undefined);
    assert.equal(h.calls.listCalls, lists, 'filtering lists nothing');
  });

  it("sorts by name, creation time or status from the view's menu, without listing", async () => {
    const config = () => vscode.workspace.getConfiguration('gantry.containers');
    const ours = (entries: Entry[]) => labels(entries).filter((l) => l.startsWith(`${PREFIX}live-`));
    const lists = h.calls.listCalls;
    await vscode.commands.executeCommand('gantry.containers.sortByName');
    assert.equal(config().get('sortBy'), 'name');
    await waitFor(
      'sorted by name',
      async () => (ours(await h.tree()).join() === [`${PREFIX}live-a`, `${PREFIX}live-b`, `${PREFIX}live-crash`].join() ? true : undefined),
      h.describeTree,
    );
    await vscode.commands.executeCommand('gantry.containers.sortByCreated');
    await waitFor(
      'newest first',
      async () => (ours(await h.tree()).join() === [`${PREFIX}live-crash`, `${PREFIX}live-b`, `${PREFIX}live-a`].join() ? true : undefined),
      h.describeTree,
    );
    await vscode.commands.executeCommand('gantry.containers.sortByStatus');
    await waitFor(
      'running first',
      async () => (ours(await h.tree()).join() === [`${PREFIX}live-b`, `${PREFIX}live-a`, `${PREFIX}live-crash`].join() ? true : undefined),
      h.describeTree,
    );
    assert.equal(h.calls.listCalls, lists, 'sorting lists nothing');
    // The … menu shows them, with a checkmark on the one in effect.
    const pkg = manifest();
    const titleMenu = pkg.contributes.menus['view/title'].filter((m) => m.command?.startsWith('gantry.containers.sortBy'));
    assert.equal(titleMenu.length, 3);
    assert.ok(titleMenu.every((m) => !m.group.startsWith('navigation') && /view == gantry\.containers/.test(m.when)));
    const toggled = pkg.contributes.commands.filter((c) => c.command.startsWith('gantry.containers.sortBy')).map((c) => c.toggled);
    assert.deepEqual(toggled, [
      'config.gantry.containers.sortBy == name',
      'config.gantry.containers.sortBy == created',
      'config.gantry.containers.sortBy == status',
    ]);
  });
});

const labels = (entries: Entry[]) => entries.map((e) => e.label);

interface Manifest {
  contributes: {
    commands: { command: string; toggled?: string }[];
    // Submenu entries (the Images view's Group By / Sort By) have no command.
    menus: Record<string, { command?: string; when: string; group: string }[]>;
  };
}

function manifest(): Manifest {
  const root = vscode.extensions.getExtension('gantry.gantry')!.extensionPath;
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
}

/** The commands the Containers view's item menus offer for `contextValue`, from the manifest's when-clauses. */
function menuCommandsFor(contextValue: string): string[] {
  const offered = new Set<string>();
  for (const m of manifest().contributes.menus['view/item/context']) {
    if (!/view == gantry\.containers/.test(m.when)) continue;
    const equals = /viewItem == (\w+)/.exec(m.when);
    const matches = /viewItem =~ \/(.+?)\/(\s|$)/.exec(m.when);
    if ((equals && equals[1] === contextValue) || (matches && new RegExp(matches[1]).test(contextValue)))
      if (m.command) offered.add(m.command);
  }
  return [...offered].sort();
}
