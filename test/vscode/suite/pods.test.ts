// Kubernetes pods in the Containers view (docs/cri.md, "One runtime, two
// faces"): a pod made through the daemon's CRI socket, as a kubelet makes it,
// shows as `namespace/pod` with its container under it (the infra container
// hidden); the container's logs and a shell open from its node; stopping the
// pod through the CRI reaches the view through the event stream.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ContainerTerminal } from '../../../src/commands/containers/openContainerShell';
import type { ContainerTreeNode } from '../../../src/views/containers/containerNodes';
import { criClient, type CriClient } from '../../helpers/criClient';
import { runTestPod, type TestPod } from '../../helpers/criTestPod';
import { ContainersHarness, labelOf, waitFor, type Entry } from './containersHarness';

const NAMESPACE = 'gtest';
const LINE = 'hello from the pod';

describe('Containers view: Kubernetes pods grouped by pod (code-server)', function () {
  this.timeout(180_000);
  const h = new ContainersHarness();
  const criSocket = process.env.GANTRY_TEST_CRI_SOCKET;
  const podName = `web-${randomBytes(3).toString('hex')}`;
  const label = `${NAMESPACE}/${podName}`;
  let cri: CriClient | undefined;
  let pod: TestPod | undefined;

  before(async function () {
    // A daemon given through GANTRY_TEST_SOCKET: its CRI socket is not known here.
    if (!criSocket) this.skip();
    await h.setUp();
    cri = criClient(criSocket);
    pod = await runTestPod(cri, {
      namespace: NAMESPACE,
      name: podName,
      container: 'app',
      image: h.image,
      script: `echo '${LINE}'; exec sleep 3600`,
    });
  });
  after(async () => {
    await pod?.remove();
    cri?.close();
    await h.tearDown();
  });

  /** The pod's children as VS Code gets them. */
  async function childrenOf(entry: Entry): Promise<Entry[]> {
    return (await h.provider.getChildren(entry.node)).map((node: ContainerTreeNode) => {
      const item = h.provider.getTreeItem(node);
      return { node, item, label: labelOf(item) };
    });
  }

  /** The pod's entry and its children once the pod has `podContext` and its children `childContexts` (the view follows the daemon's events). */
  async function podWhen(podContext: string, childContexts: string[]): Promise<{ entry: Entry; children: Entry[] }> {
    let last = '';
    return waitFor(
      `${label}: ${podContext} with ${childContexts.join(', ')}`,
      async () => {
        const entry = (await h.tree()).find((e) => e.label === label);
        const children = entry ? await childrenOf(entry) : [];
        last = `${h.describeTree()} children ${JSON.stringify(children.map((c) => [c.label, c.item.contextValue]))}`;
        const ok =
          entry?.item.contextValue === podContext &&
          JSON.stringify(children.map((c) => c.item.contextValue)) === JSON.stringify(childContexts);
        return ok ? { entry, children } : undefined;
      },
      () => last,
    );
  }

  it('shows the pod as namespace/name, ready, with its container under it and the infra container hidden', async () => {
    const { entry, children } = await podWhen('readyPod', ['runningPodContainer']);
    assert.equal(entry.item.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
    assert.match(String(entry.item.description), /^Ready · 1 container$/);
    assert.deepEqual(
      children.map((c) => c.label),
      ['app'],
    );
    const roots = await h.tree();
    assert.ok(
      !roots.some((e) => e.label.startsWith('k8s.io/') || (e.node.kind === 'container' && e.node.container.id === pod!.podSandboxId)),
      `neither the infra container nor the pod's container is a root: ${h.describeTree()}`,
    );
    // Hovering the container: its tooltip names the pod and the kubelet's attempt, not a restart policy.
    const resolved = await h.provider.resolveTreeItem(children[0].item, children[0].node, new vscode.CancellationTokenSource().token);
    const markdown = resolved.tooltip instanceof vscode.MarkdownString ? resolved.tooltip.value : String(resolved.tooltip);
    const tooltip = markdown.replace(/\\(.)/g, '$1'); // Markdown escapes undone
    assert.ok(tooltip.includes(`**${NAMESPACE}/${podName}/app**`), tooltip);
    assert.match(tooltip, new RegExp(`\\| Pod \\| ${NAMESPACE}/${podName} \\(UID`), tooltip);
    assert.ok(!tooltip.includes('Restart policy'), tooltip);
    // Commands' pick lists keep to Docker-style containers: the kubelet owns the pod's.
    assert.ok(!(await h.provider.containers()).some((c) => c.id === pod!.containerId || c.id === pod!.podSandboxId));
  });

  it("opens the container's logs from its node (the line it printed), and its inspect document", async () => {
    const [app] = (await podWhen('readyPod', ['runningPodContainer'])).children;
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewLogs', app.node);
    assert.ok(document, 'viewLogs returned no document');
    // The tab reads namespace, pod and container (a path segment holds no "/").
    assert.equal(document.uri.path, `/container/${pod!.containerId}/${NAMESPACE}_${podName}_app.log`);
    await waitFor(
      'the printed line in the logs document',
      () => (document.getText().includes(LINE) ? true : undefined),
      () => JSON.stringify(document.getText()),
    );
    const inspect = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.inspect', app.node);
    assert.ok(inspect, 'inspect returned no document');
    const details = await waitFor('the inspect JSON', () => {
      try {
        return JSON.parse(inspect.getText()) as { container?: { id: string; namespace: string; cri?: { podName: string } } };
      } catch {
        return undefined;
      }
    });
    assert.equal(details.container?.id, pod!.containerId);
    assert.equal(details.container?.namespace, 'k8s.io');
    assert.equal(details.container?.cri?.podName, podName);
  });

  it('opens a shell in the container from its node', async () => {
    const [app] = (await podWhen('readyPod', ['runningPodContainer'])).children;
    const shell = await vscode.commands.executeCommand<ContainerTerminal>('gantry.containers.openShell', app.node);
    assert.ok(shell?.terminal && shell.session, 'openShell returned no terminal');
    await waitFor(
      'the shell prompt',
      () => (/\/ # /.test(shell.session.output) ? true : undefined),
      () => JSON.stringify(shell.session.output),
    );
    // $((…)) makes the output differ from the echoed input: "pod-42" appears only if the shell ran it.
    shell.terminal.sendText('echo pod-$((40+2)); hostname; exit 0');
    assert.equal(await shell.session.exited, 0, JSON.stringify(shell.session.output));
    assert.match(shell.session.output, /\r\npod-42\r\n/);
  });

  it('stopping the pod through the CRI shows it not ready, its container exited (live, through the event stream)', async () => {
    await cri!.runtime.stopPodSandbox({ podSandboxId: pod!.podSandboxId });
    const { children } = await podWhen('notReadyPod', ['exitedPodContainer']);
    assert.deepEqual(
      children.map((c) => c.label),
      ['app'],
    );
    await pod!.remove();
    pod = undefined;
    await h.absent(label);
  });
});
