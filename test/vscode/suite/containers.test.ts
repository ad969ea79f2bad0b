// The Containers view and its commands in a real VS Code workbench
// (code-server), against the real gantryd (runc + conmon) that
// test/vscode/run.ts started, with an image from its real registry.
//
// Everything is driven through vscode.commands.executeCommand, with the
// commands' optional arguments in place of prompts. Each test checks the
// daemon (through a client of its own) and what the view's provider returns
// (label, description, icon, contextValue). Terminals (Open Shell, Run…
// attached) are in containerTerminals.test.ts.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ContainerStatus as S, type ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import type { RunResult } from '../../../src/commands/containers/runContainer';
import type { ContainerNode } from '../../../src/views/containers/containerNodes';
import type { ImageNode, ImageTreeNode } from '../../../src/views/images/imageNodes';
import { ContainersHarness, iconOf, PREFIX, waitFor } from './containersHarness';
import { nextEvent } from './viewActivity';
import { expectFailure } from './commandFailures';

/** Prints a numbered line every 0.2 s; exits 0 on SIGTERM (sh as PID 1 would otherwise ignore it). */
const TICKER = `sh -c 'trap "exit 0" TERM; i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done'`;
const WEB = `${PREFIX}web`;

describe('Containers view and commands (code-server)', function () {
  this.timeout(120_000);
  const h = new ContainersHarness();

  before(() => h.setUp());
  after(() => h.tearDown());

  const node = async (name: string) => (await h.entry(name, 'in the tree')).node as ContainerNode;
  const run = (name: string, command: string, extra: object = {}) =>
    vscode.commands.executeCommand<RunResult>('gantry.images.run', h.image, { name, command, ...extra });

  it('runs a container detached from an image item; it appears through the event stream', async () => {
    await h.idleTree();
    const imageNode = await waitFor('the fixture image in the Images view', async () => {
      const images = h.api.views.images;
      const all: ImageTreeNode[] = [];
      for (const root of await images.getChildren()) all.push(root, ...(await images.getChildren(root)));
      return all.find((n): n is ImageNode => n.kind === 'image' && n.image.name === h.image);
    });
    const result = await vscode.commands.executeCommand<RunResult>('gantry.images.run', imageNode, {
      name: WEB,
      command: TICKER,
      env: 'GREETING="hello world", MODE=test',
      restartPolicy: 'no',
      attach: false,
    });
    assert.equal(result.container.name, WEB);
    assert.equal(result.terminal, undefined);
    const record = await h.daemonWhere(WEB, 'running', (c) => c.status === S.CONTAINER_STATUS_RUNNING);
    // The quoted command reached the process as three words, untouched by any shell.
    assert.deepEqual(record.command.slice(-3), [
      'sh',
      '-c',
      `trap "exit 0" TERM; i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done`,
    ]);
    const details = await h.client.containers.inspect(WEB);
    assert.ok(
      details.config?.env.includes('GREETING=hello world') && details.config.env.includes('MODE=test'),
      JSON.stringify(details.config?.env),
    );

    // No refresh command: only the daemon's events can make it show.
    const entry = await h.entry(WEB, 'running', (e) => e.item.contextValue === 'runningContainer');
    assert.equal(h.calls.lastRefreshReason, 'event');
    assert.equal(iconOf(entry.item), 'vm-running');
    assert.equal(entry.item.id, `container:${record.id}:running`);
    assert.match(
      String(entry.item.description),
      /^127\.0\.0\.1:\d+\/gantry-test\/containers:latest · Up (Less than a minute|About a minute)$/,
    );
    assert.equal(entry.item.tooltip, undefined, 'the tooltip is resolved lazily');
  });

  it('lists once per refresh and makes no per-item calls', async () => {
    await h.idleTree();
    const lists = h.calls.listCalls;
    const inspects = h.calls.inspectCalls;
    await vscode.commands.executeCommand('gantry.containers.refresh');
    await h.tree();
    await h.tree();
    await h.idleTree();
    assert.equal(h.calls.listCalls - lists, 1, 'one list call for one manual refresh');
    assert.equal(h.calls.inspectCalls, inspects, 'no inspect call without a hover');
  });

  it('resolves the tooltip with one inspect call', async () => {
    const n = await node(WEB);
    const inspects = h.calls.inspectCalls;
    const item = await h.provider.resolveTreeItem(h.provider.getTreeItem(n), n, new vscode.CancellationTokenSource().token);
    assert.equal(h.calls.inspectCalls - inspects, 1);
    const tooltip = item.tooltip as vscode.MarkdownString;
    assert.ok(tooltip instanceof vscode.MarkdownString, `tooltip: ${JSON.stringify(item.tooltip)}`);
    for (const expected of [n.container.id.slice(0, 12), 'gantry-test/containers:latest', 'Up ', 'Restart policy', 'trap']) {
      assert.ok(tooltip.value.includes(expected), `tooltip lacks ${expected}:\n${tooltip.value}`);
    }
  });

  it('stops, starts and restarts it', async () => {
    const stopped = await vscode.commands.executeCommand<ContainerSummary[]>('gantry.containers.stop', await node(WEB));
    assert.equal(stopped.length, 1);
    const exited = await h.daemonWhere(WEB, 'exited', (c) => c.status === S.CONTAINER_STATUS_EXITED);
    assert.equal(exited.exitCode, 0, 'the TERM trap exits 0');
    let entry = await h.entry(WEB, 'exited', (e) => e.item.contextValue === 'exitedContainer');
    assert.equal(iconOf(entry.item), 'circle-slash');
    assert.match(String(entry.item.description), / · Exited \(0\) Less than a minute ago$/);

    await vscode.commands.executeCommand('gantry.containers.start', entry.node);
    const started = await h.daemonWhere(WEB, 'running again', (c) => c.status === S.CONTAINER_STATUS_RUNNING);
    entry = await h.entry(WEB, 'running again', (e) => e.item.contextValue === 'runningContainer');

    await vscode.commands.executeCommand('gantry.containers.restart', entry.node);
    const restarted = await h.daemonWhere(
      WEB,
      'restarted',
      (c) => c.status === S.CONTAINER_STATUS_RUNNING && c.startedAt!.getTime() > started.startedAt!.getTime(),
    );
    assert.notEqual(restarted.pid, started.pid);
    await h.entry(WEB, 'running after the restart', (e) => e.item.contextValue === 'runningContainer');
  });

  it('pauses and unpauses it', async () => {
    await vscode.commands.executeCommand('gantry.containers.pause', await node(WEB));
    await h.daemonWhere(WEB, 'paused', (c) => c.status === S.CONTAINER_STATUS_PAUSED);
    const paused = await h.entry(WEB, 'paused', (e) => e.item.contextValue === 'pausedContainer');
    assert.equal(iconOf(paused.item), 'debug-pause');
    assert.match(String(paused.item.description), /Up .* \(Paused\)$/);

    await vscode.commands.executeCommand('gantry.containers.unpause', paused.node);
    await h.daemonWhere(WEB, 'running', (c) => c.status === S.CONTAINER_STATUS_RUNNING);
    await h.entry(WEB, 'running', (e) => e.item.contextValue === 'runningContainer');
  });

  it('shows the logs in a document that keeps following', async () => {
    const n = await node(WEB);
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewLogs', n);
    assert.equal(document.uri.scheme, 'gantry');
    assert.equal(document.uri.path, `/container/${n.container.id}/${WEB}.log`);
    const numbers = () => [...document.getText().matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
    const first = await waitFor(
      'log lines in the document',
      () => (numbers().length ? Math.max(...numbers()) : undefined),
      () => document.getText().slice(-200),
    );
    // The ticker prints every 0.2 s: later lines must arrive without reopening anything.
    await waitFor(
      `a line after "line ${first}"`,
      () => (Math.max(...numbers()) >= first + 3 ? true : undefined),
      () => document.getText().slice(-200),
    );
    assert.ok(h.api.views.logs.following >= 1, 'a log call is open while the document is');
    assert.equal(document.isDirty, false);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('inspects it into a read-only JSON document', async () => {
    const n = await node(WEB);
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.inspect', n);
    assert.equal(document.uri.path, `/container/${n.container.id}/${WEB}.json`);
    assert.equal(document.languageId, 'json');
    const json = JSON.parse(document.getText());
    assert.equal(json.container.name, WEB);
    assert.equal(json.container.status, 'running');
    assert.ok(json.config.env.includes('GREETING=hello world'));
    assert.deepEqual(json.spec.process.args.slice(-3), n.container.command.slice(-3));
    assert.equal(json.specJson, undefined);
    // By name, from code.
    const again = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.inspect', WEB);
    assert.equal(again.uri.toString(), document.uri.toString());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('kills it: exit 137, shown as stopped by the user, not as a failure', async () => {
    const killed = await vscode.commands.executeCommand<string[]>('gantry.containers.kill', await node(WEB));
    assert.equal(killed.length, 1);
    const record = await h.daemonWhere(WEB, 'exited', (c) => c.status === S.CONTAINER_STATUS_EXITED);
    assert.equal(record.exitCode, 137);
    // As Docker (HasBeenManuallyStopped): the user's SIGKILL is a stop, and 137 is its code, not a failure.
    assert.equal(record.stoppedByUser, true);
    const entry = await h.entry(WEB, 'exited', (e) => e.item.contextValue === 'exitedContainer');
    assert.equal(iconOf(entry.item), 'circle-slash');
    assert.match(String(entry.item.description), / · Exited \(137\) /);
  });

  it('removes one container, refusing a running one without force', async () => {
    const one = `${PREFIX}one`;
    await run(one, TICKER);
    const n = (await h.entry(one, 'running', (e) => e.item.contextValue === 'runningContainer')).node;
    const failure = await expectFailure(h.api, 'gantry.containers.remove', n, [n], { confirm: false });
    assert.match(failure.message, /Could not remove/);
    assert.ok(await h.daemon(one), 'a refused removal leaves the container');
    const removed = await vscode.commands.executeCommand<string[]>('gantry.containers.remove', n, [n], { confirm: false, force: true });
    assert.equal(removed.length, 1);
    assert.equal(await h.daemon(one), undefined);
    await h.absent(one);
  });

  it('removes several selected at once', async () => {
    const names = [`${PREFIX}multi-a`, `${PREFIX}multi-b`];
    await run(names[0], 'true');
    await run(names[1], 'true');
    for (const name of names) await h.daemonWhere(name, 'exited', (c) => c.status === S.CONTAINER_STATUS_EXITED);
    const nodes = await Promise.all(
      names.map((name) => h.entry(name, 'exited', (e) => e.item.contextValue === 'exitedContainer').then((e) => e.node)),
    );
    const removed = await vscode.commands.executeCommand<string[]>('gantry.containers.remove', nodes[1], nodes, { confirm: false });
    assert.equal(removed.length, 2);
    for (const name of names) {
      assert.equal(await h.daemon(name), undefined);
      await h.absent(name);
    }
  });

  it('prunes stopped containers and reports them, keeping running ones', async () => {
    const gone = `${PREFIX}prune`;
    await run(gone, 'true');
    const exited = await h.daemonWhere(gone, 'exited', (c) => c.status === S.CONTAINER_STATUS_EXITED);
    await vscode.commands.executeCommand('gantry.containers.start', WEB);
    await h.daemonWhere(WEB, 'running', (c) => c.status === S.CONTAINER_STATUS_RUNNING);
    const removed = await vscode.commands.executeCommand<string[]>('gantry.containers.prune', { confirm: false });
    assert.ok(removed.includes(exited.id), `prune removed ${JSON.stringify(removed)}`);
    assert.equal(await h.daemon(gone), undefined);
    assert.ok(await h.daemon(WEB), 'prune kept the running container');
    await h.absent(gone);
  });

  it('a burst of container events costs one list call', async () => {
    await h.idleTree();
    const before = h.calls.listCalls;
    // pause + unpause: two events within the debounce window.
    const unpaused = nextEvent(h.api, 'the unpause event', (e) => e.topic === '/containers/unpause');
    await h.client.containers.pause(WEB);
    await h.client.containers.unpause(WEB);
    // Once the extension has the unpause event (the stream is ordered: the pause
    // event came first), it has asked for its refresh; idle() comes after that.
    await unpaused;
    await h.idleTree();
    await h.idleTree();
    assert.equal(h.calls.listCalls - before, 1, 'two events within 500 ms: one refresh');
    assert.equal(h.calls.lastRefreshReason, 'event');
  });

  it('the log goes on across a stop and start and across a reconnect, no line lost or repeated', async () => {
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewLogs', WEB);
    const numbers = () => [...document.getText().matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
    const last = () => numbers().at(-1) ?? -1;
    const tail = () => JSON.stringify(document.getText().slice(-300));
    await waitFor('log lines', () => (last() >= 0 ? true : undefined), tail);

    await vscode.commands.executeCommand('gantry.containers.stop', WEB);
    await waitFor('the exit marked in the log', () => (/--- exited with code 0 ---\n$/.test(document.getText()) ? true : undefined), tail);
    const runs = numbers().filter((n) => n === 0).length;
    await vscode.commands.executeCommand('gantry.containers.start', WEB);
    await waitFor(
      'the new run in the same document',
      () => (numbers().filter((n) => n === 0).length > runs && last() >= 3 ? true : undefined),
      tail,
    );

    const gantry = vscode.workspace.getConfiguration('gantry');
    const socket = process.env.GANTRY_TEST_SOCKET!;
    const nowhere = `/tmp/gantry-containers-test-${process.pid}.sock`;
    const state = (s: string, sock: string) =>
      waitFor(
        `state ${s} on ${sock}`,
        () => (h.api.connection.state === s && h.api.connection.socket === sock) || undefined,
        () => JSON.stringify(h.api.connection),
      );
    let atDrop: number;
    try {
      await gantry.update('socketPath', nowhere, vscode.ConfigurationTarget.Global);
      await state('disconnected', nowhere);
      atDrop = last();
      assert.deepEqual(await h.provider.getChildren(), [], 'nothing listed while disconnected');
      // The ticker goes on: wait (through the daemon, not the extension) until it has
      // printed lines while the extension was away; they must arrive after the reconnect.
      let daemonLast = -1;
      await waitFor(
        'lines written while disconnected',
        async () => {
          for await (const entry of h.client.containers.logs(WEB, { tail: 5 })) {
            const m = /^line (\d+)$/.exec(Buffer.from(entry.data).toString().trim());
            if (m) daemonLast = Number(m[1]);
          }
          return daemonLast >= atDrop + 5 || undefined;
        },
        () => `daemon's last line ${daemonLast}, ${atDrop} at the drop`,
      );
    } finally {
      await gantry.update('socketPath', socket, vscode.ConfigurationTarget.Global);
    }
    await state('connected', socket);
    await waitFor('lines after the reconnect', () => (last() >= atDrop + 10 ? true : undefined), tail);
    // Every run counts up from 0 by one: a lost line or one shown twice breaks the count.
    numbers().forEach((n, i, all) => {
      if (i > 0 && n !== 0) assert.equal(n, all[i - 1] + 1, `line ${n} follows line ${all[i - 1]}`);
    });
    await h.entry(WEB, 'listed again after the reconnect', (e) => e.item.contextValue === 'runningContainer');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
