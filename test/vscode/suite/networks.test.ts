// The Networks view and the networking commands, in a real workbench against
// the real gantryd of test/vscode/run.ts (its own bridge and subnet:
// test/helpers/daemon.ts): the view lists the networks and follows the
// daemon's events, Create/Inspect/Remove/Prune Network act as the commands
// a person clicks (their prompts are clicked in the UI suite), and a
// container run with a published port shows the port as a child item whose
// address answers.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NetworkInfo } from '../../../runtime/api/gen/gantry/v1/networks';
import type { RunResult } from '../../../src/commands/containers/runContainer';
import type { NetworksTreeProvider } from '../../../src/views/networks/networksTreeProvider';
import { httpGet } from '../../helpers/http';
import { freePort } from '../../helpers/ports';
import { expectFailure } from './commandFailures';
import { ContainersHarness, labelOf, PREFIX, waitFor } from './containersHarness';
import { nextEvent, ViewCalls } from './viewActivity';

const NETWORKS_VIEW = 'gantry.networks';

describe('Networks view and networking commands (code-server)', function () {
  this.timeout(180_000);
  const h = new ContainersHarness();
  let provider: NetworksTreeProvider;
  let calls: ViewCalls;
  const NET = `${PREFIX}net`;
  const UNUSED = `${PREFIX}unused`;
  const WEB = `${PREFIX}web`;

  before(async () => {
    await h.setUp();
    provider = h.api.views.networks;
    calls = new ViewCalls(h.api, NETWORKS_VIEW);
    await vscode.commands.executeCommand('gantry.networks.focus');
  });
  after(async () => {
    calls?.dispose();
    await h.tearDown();
    const client = h.client;
    if (client) for (const name of [NET, UNUSED]) await client.networks.remove(name).catch(() => undefined);
  });

  const roots = async () => {
    const nodes = await provider.getChildren();
    return nodes.map((node) => ({ node, item: provider.getTreeItem(node), label: labelOf(provider.getTreeItem(node)) }));
  };
  const describeRoots = async () => JSON.stringify((await roots()).map((r) => `${r.label} ${String(r.item.description)}`));
  const rootNamed = async (name: string) => (await roots()).find((r) => r.label === name);

  it('lists the default network first, with its subnet in the description and gateway in the tooltip', async () => {
    const bridge = await waitFor(
      'bridge listed',
      async () => (await roots())[0]?.label === 'bridge' || undefined,
      () => 'no bridge',
    );
    assert.ok(bridge);
    const [first] = await roots();
    const info = (await h.client.networks.list()).find((n) => n.name === 'bridge')!;
    assert.match(String(first.item.description), new RegExp(`^${info.subnet.replace(/\./g, '\\.')} · `));
    assert.equal(first.item.contextValue, 'builtinNetwork');
    const tooltip = (first.item.tooltip as vscode.MarkdownString).value;
    assert.ok(tooltip.includes(info.gateway.replace(/\./g, '\\.')) || tooltip.includes(info.gateway), tooltip);
  });

  it('a network made by Create Network appears live, from the daemon event', async () => {
    const created = nextEvent(h.api, '/networks/create', (e) => e.topic === '/networks/create' && e.attributes.name === NET);
    const network = await vscode.commands.executeCommand<NetworkInfo>('gantry.networks.create', { name: NET, internal: false });
    assert.equal(network?.name, NET);
    await created;
    await h.api.views.idle();
    assert.equal(calls.lastRefreshReason, 'event');
    const entry = await rootNamed(NET);
    assert.ok(entry, await describeRoots());
    assert.equal(entry.item.contextValue, 'network');
    assert.equal(entry.item.description, `${network.subnet} · no containers`);
  });

  it('Create Network refuses a name that exists, in one message', async () => {
    const failure = await expectFailure(h.api, 'gantry.networks.create', { name: NET });
    assert.match(failure.message, new RegExp(`network ${NET} already exists`));
  });

  it('Inspect Network opens the network as JSON', async () => {
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.networks.inspect', (await rootNamed(NET))!.node);
    assert.equal(document.uri.toString(), `gantry:/network/${NET}.json`);
    const shown = JSON.parse(document.getText()) as NetworkInfo;
    assert.equal(shown.name, NET);
    assert.match(shown.subnet, /^\d+\.\d+\.\d+\.0\/\d+$/);
  });

  it("Run… with a port and a network: the container is the network's child, its port a child in Containers whose address answers", async () => {
    const port = await freePort();
    const result = await vscode.commands.executeCommand<RunResult>('gantry.images.run', h.image, {
      name: WEB,
      command: ['sh', '-c', "mkdir -p /www && echo 'hello from web' > /www/index.html && exec httpd -f -p 80 -h /www"],
      publish: `${port}:80`,
      network: NET,
    });
    assert.ok(result?.container, 'Run… returned no container');
    const record = await h.daemonWhere(WEB, 'running with its port', (c) => c.ports.length === 1);
    assert.deepEqual(
      record.ports.map((p) => [p.hostPort, p.containerPort, p.protocol]),
      [[port, 80, 'tcp']],
    );
    assert.equal(record.network, NET);

    // Networks: NET lists WEB with its address.
    const endpoint = record.networks.find((e) => e.network === NET)!;
    // The view lists again on the container's events: wait for the listing made after the attach.
    const address = `${endpoint.ipAddress}/${endpoint.ipPrefixLen}`;
    let seen = '';
    await waitFor(
      `${WEB} under ${NET} at ${address}`,
      async () => {
        const parent = await rootNamed(NET);
        if (!parent) return undefined;
        const children = (await provider.getChildren(parent.node)).map((c) => provider.getTreeItem(c));
        seen = `${String(parent.item.description)}: ${JSON.stringify(children.map((i) => `${labelOf(i)} ${String(i.description)}`))}`;
        const member = children.find((i) => labelOf(i) === WEB);
        return member?.description === address && String(parent.item.description).endsWith(' · 1 container') ? true : undefined;
      },
      () => seen,
    );

    // Containers: WEB opens onto its port.
    const entry = await h.entry(WEB, 'collapsible, running', (e) => e.item.collapsibleState === vscode.TreeItemCollapsibleState.Collapsed);
    // Its children: the one published port, then its Files and Changes.
    const [portNode, ...more] = await h.provider.getChildren(entry.node);
    assert.deepEqual(
      more.map((n) => n.kind),
      ['containerFiles', 'containerChanges'],
    );
    const portItem = h.provider.getTreeItem(portNode);
    assert.equal(labelOf(portItem), `${port} → 80/tcp`);
    assert.equal(portItem.contextValue, 'containerPort');
    assert.equal(portItem.description, `0.0.0.0:${port}`);

    const copied = await vscode.commands.executeCommand<string>('gantry.containers.copyAddress', portNode);
    assert.equal(copied, `localhost:${port}`);
    assert.equal(await vscode.env.clipboard.readText(), copied);
    // httpd may still be starting: the page answers soon after the container runs.
    await waitFor(`the page at ${copied}`, () =>
      httpGet(`http://${copied}/`).then(
        (b) => (b === 'hello from web\n' ? true : undefined),
        () => undefined,
      ),
    );

    // From the container's node too (one port: no pick), and the URI handed to the browser names the port.
    const opened = await vscode.commands.executeCommand<vscode.Uri>('gantry.containers.openInBrowser', entry.node);
    assert.ok(opened, 'Open in Browser opened nothing');
    // code-server's asExternalUri turns localhost:PORT into its own /proxy/PORT/ path: the page answers through it.
    const url = opened.toString(true);
    assert.ok(url === `http://localhost:${port}/` || url.endsWith(`/proxy/${port}/`), url);
    assert.equal(await httpGet(url), 'hello from web\n', url);
  });

  it('Forward Port… reaches a port the container does not publish; Stop Port Forwarding ends it', async () => {
    const name = `${PREFIX}unpublished`;
    const created = await h.client.containers.create(name, {
      image: h.image,
      cmd: ['sh', '-c', "mkdir -p /www && echo 'not published' > /www/index.html && exec httpd -f -p 80 -h /www"],
    });
    await h.client.containers.start(created.id);
    const forward = await vscode.commands.executeCommand<{ local: number; remote: number }>('gantry.containers.forwardPort', name, {
      port: 80,
      notify: false,
    });
    assert.ok(forward && forward.local > 0 && forward.remote === 80, JSON.stringify(forward));
    await waitFor(`the page through localhost:${forward.local}`, () =>
      httpGet(`http://127.0.0.1:${forward.local}/`).then(
        (b) => (b === 'not published\n' ? true : undefined),
        () => undefined,
      ),
    );
    const again = await vscode.commands.executeCommand<{ local: number }>('gantry.containers.forwardPort', name, {
      port: 80,
      notify: false,
    });
    assert.equal(again.local, forward.local, 'the same forward is reused');
    assert.equal(await vscode.commands.executeCommand<number>('gantry.containers.stopPortForwarding', undefined, { all: true }), 1);
    await assert.rejects(httpGet(`http://127.0.0.1:${forward.local}/`));
    await h.client.containers.remove(created.id, true);
  });

  it('Remove Network refuses a network in use, naming the container, and removes nothing', async () => {
    const failure = await expectFailure(h.api, 'gantry.networks.remove', NET, { confirm: false });
    // The daemon names each container once, by name.
    assert.equal(failure.message, `network ${NET} is in use by container ${WEB}`);
    assert.ok((await h.client.networks.list()).some((n) => n.name === NET));
  });

  it('Remove Network removes an unused network, and the view drops it', async () => {
    await h.client.containers.remove(WEB, true);
    const id = await vscode.commands.executeCommand<string>('gantry.networks.remove', NET, { confirm: false });
    assert.match(String(id), /^[0-9a-f]{64}$/);
    await waitFor(
      `${NET} gone from the view`,
      async () => ((await rootNamed(NET)) ? undefined : true),
      () => 'still listed',
    );
  });

  it('Prune Networks removes the unused ones and says which', async () => {
    await h.client.networks.create({ name: UNUSED });
    const removed = await vscode.commands.executeCommand<string[]>('gantry.networks.prune', { confirm: false });
    assert.ok(removed?.includes(UNUSED), JSON.stringify(removed));
    assert.ok(!removed.includes('bridge'));
    await waitFor(
      `${UNUSED} gone from the view`,
      async () => ((await rootNamed(UNUSED)) ? undefined : true),
      () => 'still listed',
    );
  });
});
