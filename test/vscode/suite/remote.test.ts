// Gantry: Connect to Host… in a real VS Code workbench (code-server), against
// a real second host: test/vscode/run.ts made a network namespace on a veth
// link running sshd (its sessions get GANTRY_HOME=<temp dir>), and put its ssh
// config in the (machine-scoped) setting gantry.ssh.configFile (keepalives 1 s × 3).
// The extension deploys and starts gantryd there over the system ssh, then
// every command of the views runs against that daemon; the link is cut and
// restored, the remote daemon killed; and switching back to the local runtime
// leaves no ssh process. run.ts passes:
//   GANTRY_TEST_SSH_TARGET  ssh://<alias>    GANTRY_TEST_SSH_CONFIG  the ssh config
//   GANTRY_TEST_SSH_NETNS   the host's netns GANTRY_TEST_SSH_HOME    its GANTRY_HOME
//   GANTRY_TEST_IMAGES      .remote: an image only this suite pulls (same 127.0.0.1:PORT
//                           reference on both hosts: run.ts forwards the registry into the netns)
// The remote daemon's socket is a path on this same filesystem, so the suite
// checks the remote daemon's state directly through it, without ssh.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import { RuntimeClient } from '../../../runtime/client/client';
import { ContainerStatus as S } from '../../../runtime/api/gen/gantry/v1/containers';
import type { Envelope } from '../../../runtime/api/gen/gantry/v1/events';
import type { ConnectionSnapshot } from '../../../src/client/connection';
import type { ContainerTerminal } from '../../../src/commands/containers/openContainerShell';
import type { RunResult } from '../../../src/commands/containers/runContainer';
import { containerFileUri } from '../../../src/files/containerFileUris';
import { httpGet } from '../../helpers/http';
import type { HostPickEntry } from '../../../src/hosts/hostPicks';
import type { RuntimeViewsState } from '../../../src/views/runtimeViews';
import type { ImageTreeNode } from '../../../src/views/images/imageNodes';
import { labelOf, waitFor, type GantryApi as ViewsApi } from './containersHarness';
import { waitFor as waitUntil } from '../../helpers/waitFor';

interface GantryApi extends Omit<ViewsApi, 'connection'> {
  readonly connection: ConnectionSnapshot;
  readonly onDidChangeConnection: vscode.Event<ConnectionSnapshot>;
  readonly onDidReceiveEvent: vscode.Event<Envelope>;
  readonly statusBarText: string;
  readonly statusBarTooltip: string;
  readonly viewState: RuntimeViewsState;
  hostPicks(typed?: string): HostPickEntry[];
}

const exec = promisify(execFile);
const TICKER = `sh -c 'trap "exit 0" TERM; i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done'`;
const WEB = 'gremote-web';
/** busybox ash's prompt for root in /. */
const PROMPT = /\/ # /;

function env(name: string): string {
  const value = process.env[name];
  assert.ok(value, `run through test/vscode/run.ts: ${name} is unset`);
  return value;
}

/** Our ssh clients to the test host still running: those whose argv names its ssh config. */
function sshClients(config: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      if (path.basename(argv[0] ?? '') === 'ssh' && argv.includes(config)) found.push(`${entry}: ${argv.join(' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function closed(terminal: vscode.Terminal): Promise<vscode.TerminalExitStatus | undefined> {
  return new Promise((resolve) => {
    const subscription = vscode.window.onDidCloseTerminal((t) => {
      if (t !== terminal) return;
      subscription.dispose();
      resolve(t.exitStatus);
    });
  });
}

describe('Remote host over SSH: Connect to Host… (code-server)', function () {
  this.timeout(180_000);
  const target = env('GANTRY_TEST_SSH_TARGET');
  const alias = target.replace(/^ssh:\/\//, '');
  const sshConfig = env('GANTRY_TEST_SSH_CONFIG');
  const netns = env('GANTRY_TEST_SSH_NETNS');
  const gantryHome = env('GANTRY_TEST_SSH_HOME');
  const localSocket = env('GANTRY_TEST_SOCKET');
  const image = (JSON.parse(env('GANTRY_TEST_IMAGES')) as Record<string, { ref: string }>).remote.ref;
  const remoteSocket = path.join(gantryHome, 'state', 'gantry.sock');
  let api: GantryApi;
  let remote: RuntimeClient | undefined;
  const local = RuntimeClient.forSocket(localSocket);
  let deployedPid: number | undefined;

  const state = () => JSON.stringify({ ...api.connection, version: api.connection.version?.pid });
  const until = (what: string, predicate: (s: ConnectionSnapshot) => boolean, ms = 60_000) =>
    waitFor(what, () => (predicate(api.connection) ? api.connection : undefined), state, ms);
  // What the views list (through their providers, as VS Code asks), and what they listed last, for failure messages.
  const listed = { containers: [] as string[], images: [] as string[] };
  const shown = () => JSON.stringify(listed);
  const containerLabels = async () => {
    const nodes = await api.views.containers.getChildren();
    listed.containers = nodes.map((n) => labelOf(api.views.containers.getTreeItem(n)));
    return listed.containers;
  };
  const imageNames = async () => {
    const all: ImageTreeNode[] = [];
    for (const root of await api.views.images.getChildren()) all.push(root, ...(await api.views.images.getChildren(root)));
    listed.images = all.flatMap((n) => (n.kind === 'image' ? [n.image.name] : []));
    return listed.images;
  };
  const link = async (up: 'up' | 'down') => {
    // The test host's end of its veth pair (test/helpers/sshd.ts names it after
    // the netns: gt-XXXXXX → gtXXXXXXn). Not "the first link besides lo": the
    // host's gantryd adds its bridge and container veths there.
    const veth = `gt${netns.replace(/^gt-/, '')}n`;
    const { stdout } = await exec('ip', ['-n', netns, '-o', 'link', 'show', veth]);
    assert.ok(stdout.includes(veth), `no ${veth} in ${netns}`);
    await exec('ip', ['-n', netns, 'link', 'set', veth, up]);
  };

  before(async () => {
    const ext = vscode.extensions.getExtension<GantryApi>('gantry.gantry');
    assert.ok(ext, 'extension gantry.gantry is not installed in this window');
    api = await ext.activate();
    await until('the local test daemon', (s) => s.state === 'connected' && s.socket === localSocket);
    await vscode.commands.executeCommand('gantry.containers.focus');
  });

  after(async function () {
    this.timeout(60_000);
    await link('up').catch(() => undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const t of vscode.window.terminals) t.dispose();
    if (remote) {
      for (const c of await remote.containers.list(true).catch(() => [])) await remote.containers.remove(c.id, true).catch(() => undefined);
      remote.close();
    }
    if (api.connection.host !== undefined) await vscode.commands.executeCommand('gantry.host.connect', 'local');
    local.close();
  });

  it('offers the hosts of gantry.ssh.configFile, and checks typed ones', () => {
    const picks = api.hostPicks();
    assert.equal(picks[0].label, 'Local runtime');
    assert.match(picks[0].description ?? '', /\(current\)$/);
    const fromConfig = picks.find((p) => p.kind === 'host' && p.label === alias);
    assert.ok(fromConfig, `no ${alias} in ${JSON.stringify(picks)}`);
    assert.equal(fromConfig.choice?.kind === 'ssh' && fromConfig.choice.label, target);
    assert.ok(
      picks.some((p) => p.kind === 'separator' && p.label === sshConfig),
      'the hosts are grouped under their config file',
    );
    assert.equal(api.hostPicks('gantry@devbox:2200')[0].label, 'Connect to ssh://gantry@devbox:2200');
    assert.equal(api.hostPicks('tcp://devbox')[0].kind, 'invalid');
  });

  it('the picker: accepting its first entry, the current local runtime, reconnects to it', async () => {
    const picked = vscode.commands.executeCommand<ConnectionSnapshot | undefined>('gantry.host.connect');
    // The QuickPick opens with "Local runtime" active; accept it as Enter would. Accepting
    // before it is shown does nothing (nor does accepting no row), so accept until it answers.
    let answered = false;
    void picked.then(
      () => (answered = true),
      () => (answered = true),
    );
    await waitUntil(
      async () => {
        if (!answered) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return answered;
      },
      { what: 'the picker to return its choice', timeoutMs: 10_000, intervalMs: 100 },
    );
    const snapshot = await picked;
    assert.equal(snapshot?.state, 'connected');
    assert.equal(snapshot?.host, undefined);
    assert.equal(snapshot?.socket, localSocket);
  });

  it('connects to the test host: deploys gantryd there, shows the host in the status bar and the views', async () => {
    assert.deepEqual(sshClients(sshConfig), [], 'no ssh before the connect');
    const seen: ConnectionSnapshot[] = [];
    const subscription = api.onDidChangeConnection((s) => seen.push(s));
    let snapshot: ConnectionSnapshot;
    try {
      snapshot = await vscode.commands.executeCommand<ConnectionSnapshot>('gantry.host.connect', target);
    } finally {
      subscription.dispose();
    }
    assert.equal(snapshot.state, 'connected', JSON.stringify(snapshot));
    assert.equal(snapshot.host, target);
    // The daemon of the test host: its root and socket are under the host's GANTRY_HOME.
    assert.equal(snapshot.version?.root, path.join(gantryHome, 'root'));
    assert.equal(snapshot.version?.socket, remoteSocket);
    assert.equal(snapshot.socket, remoteSocket);
    deployedPid = snapshot.version?.pid;
    assert.equal(seen[0]?.state, 'connecting');
    assert.equal(seen[0]?.host, target);
    const steps = seen.flatMap((s) => (s.progress ? [s.progress] : []));
    assert.ok(
      steps.some((m) => m.startsWith('uploading gantry.js')),
      `progress: ${JSON.stringify(steps)}`,
    );
    assert.ok(
      steps.some((m) => m.startsWith('starting gantryd')),
      `progress: ${JSON.stringify(steps)}`,
    );

    assert.equal(api.statusBarText, `$(server) ${alias} · Gantry ${snapshot.version?.version}`);
    assert.ok(api.statusBarTooltip.includes(target.replace(/[-.]/g, '\\$&')), api.statusBarTooltip);
    assert.deepEqual(api.viewState.descriptions, { images: alias, containers: alias, networks: alias });
    assert.equal(api.viewState.message, undefined);
    // A fresh daemon: nothing of the local one shows.
    await waitFor(
      'the remote (empty) lists',
      async () => ((await containerLabels()).length === 0 && (await imageNames()).length === 0) || undefined,
      shown,
    );
    // Remembered for this workspace, and marked current in the picker.
    const recent = api.hostPicks().find((p) => p.kind === 'host' && p.label === target);
    assert.equal(recent?.description, 'recent (current)');
    remote = RuntimeClient.forSocket(remoteSocket);
  });

  it('pulls from the registry and runs a container on the remote daemon; the views show them', async () => {
    const pulled = await vscode.commands.executeCommand<{ name: string }>('gantry.images.pull', image);
    assert.equal(pulled.name, image);
    assert.ok(
      (await remote!.images.list()).some((i) => i.name === image),
      'the remote daemon has the image',
    );
    assert.ok(!(await local.images.list()).some((i) => i.name === image), 'the local daemon does not');
    await waitFor('the image in the Images view', async () => ((await imageNames()).includes(image) ? true : undefined), shown);

    const result = await vscode.commands.executeCommand<RunResult>('gantry.images.run', image, { name: WEB, command: TICKER });
    assert.equal(result.container.name, WEB);
    await waitFor(`${WEB} running on the remote daemon`, async () => {
      const c = (await remote!.containers.list(true)).find((x) => x.name === WEB);
      return c?.status === S.CONTAINER_STATUS_RUNNING ? c : undefined;
    });
    assert.ok(!(await local.containers.list(true)).some((c) => c.name === WEB), 'nothing ran on the local daemon');
    await waitFor(`${WEB} in the Containers view`, async () => ((await containerLabels()).includes(WEB) ? true : undefined), shown);
  });

  it('follows its logs and opens a shell in it, over SSH', async () => {
    const document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewLogs', WEB);
    const numbers = () => [...document.getText().matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
    const first = await waitFor(
      'log lines',
      () => (numbers().length ? Math.max(...numbers()) : undefined),
      () => document.getText().slice(-200),
    );
    await waitFor(
      `a line after "line ${first}"`,
      () => (Math.max(...numbers()) >= first + 3 ? true : undefined),
      () => document.getText().slice(-200),
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');

    const shell = await vscode.commands.executeCommand<ContainerTerminal>('gantry.containers.openShell', WEB);
    const exit = closed(shell.terminal);
    await waitFor(
      'the shell prompt',
      () => (PROMPT.test(shell.session.output) ? true : undefined),
      () => JSON.stringify(shell.session.output),
    );
    // The image's marker file says which image the shell runs in.
    shell.terminal.sendText('echo hi-$((1+1)); cat /etc/gantry-fixture; exit 3');
    const status = await exit;
    assert.equal(status?.code, 3, `exit status ${JSON.stringify(status)}; output ${JSON.stringify(shell.session.output)}`);
    assert.match(shell.session.output, /\r\nhi-2\r\nremote\r\n/);
  });

  it('a published port of a container on the SSH host opens on this machine through a forward (Open in Browser, Copy Address)', async () => {
    const name = `${WEB}-page`;
    const result = await vscode.commands.executeCommand<RunResult>('gantry.images.run', image, {
      name,
      command: `sh -c "mkdir -p /www && echo remote-page > /www/index.html && exec httpd -f -p 80 -h /www"`,
      publish: ['80'],
    });
    const id = result.container.id;
    const portNode = await waitFor('its port item', async () => {
      const c = (await remote!.containers.list(false)).find((x) => x.id === id && x.ports.length > 0);
      return c && { kind: 'containerPort' as const, containerId: c.id, containerName: c.name, binding: c.ports[0] };
    });
    const copied = await vscode.commands.executeCommand<string>('gantry.containers.copyAddress', portNode);
    assert.match(copied, /^localhost:\d+$/);
    assert.notEqual(copied, `localhost:${portNode.binding.hostPort}`, 'a local forward, not the remote host port');
    await waitFor(`the remote page at ${copied}`, () =>
      httpGet(`http://${copied}/`).then(
        (b) => (b === 'remote-page\n' ? true : undefined),
        () => undefined,
      ),
    );
    const opened = await vscode.commands.executeCommand<vscode.Uri>('gantry.containers.openInBrowser', portNode);
    const url = opened.toString(true);
    assert.ok(url === `http://${copied}/` || url.endsWith(`/proxy/${copied.split(':')[1]}/`), url);
    await vscode.commands.executeCommand('gantry.containers.stopPortForwarding', undefined, { all: true });
    await remote!.containers.remove(id, true);
  });

  it("a container's files on the SSH host open and save through gantry-files:, over the same link", async () => {
    const c = (await remote!.containers.list(false)).find((x) => x.name === WEB);
    assert.ok(c, `${WEB} runs on the remote daemon`);
    const uri = containerFileUri(c.id, '/tmp/edited-over-ssh.txt');
    await vscode.workspace.fs.writeFile(uri, Buffer.from('saved from this window\n'));
    const back = await remote!.files.readFile({ container: c.id }, '/tmp/edited-over-ssh.txt');
    assert.equal(back.data.toString(), 'saved from this window\n', 'the remote daemon has the file');
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString(), 'saved from this window\n');
    const names = (await vscode.workspace.fs.readDirectory(containerFileUri(c.id, '/etc'))).map(([name]) => name);
    assert.ok(names.includes('gantry-fixture'), names.join(','));
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(containerFileUri(c.id, '/etc/gantry-fixture'))).toString(), 'remote\n');
  });

  it('Save Image… and Load Image… move an image of the SSH host through this window', async () => {
    const name = 'localhost/gantry-test/ssh-saved:v1';
    await remote!.images.tag(image, name);
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'gssh-save-'));
    try {
      const uri = vscode.Uri.file(path.join(dir, 'remote.tar'));
      const saved = await vscode.commands.executeCommand<vscode.Uri>('gantry.images.save', name, [name], { uri, format: 'docker' });
      assert.equal(saved?.fsPath, uri.fsPath);
      assert.ok(fs.readFileSync(uri.fsPath).includes('manifest.json'), 'a docker archive arrived here');
      await remote!.images.remove(name);
      const loaded = await vscode.commands.executeCommand<Array<{ name: string }>>('gantry.images.load', { uri });
      assert.deepEqual(
        loaded.map((i) => i.name),
        [name],
      );
      assert.ok(
        (await remote!.images.list()).some((i) => i.name === name),
        'the remote daemon has it again',
      );
      assert.ok(!(await local.images.list()).some((i) => i.name === name), 'the local daemon does not');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cut link: the views say the host is lost within the keepalive timeout, and come back with the events missed', async () => {
    const events: Envelope[] = [];
    const subscription = api.onDidReceiveEvent((e) => events.push(e));
    let lost: ConnectionSnapshot | undefined;
    const states = api.onDidChangeConnection((s) => (lost ??= s.state !== 'connected' ? s : undefined));
    const web = (await remote!.containers.list(true)).find((c) => c.name === WEB)!;
    try {
      await link('down');
      // Keepalives are 1 s × 3; the bound here is generous, the point is that it is noticed at all.
      await until('the lost link to be noticed', (s) => s.state !== 'connected', 20_000);
      states.dispose();
      // The first state after the cut says why: ssh's keepalives went unanswered.
      assert.equal(lost?.state, 'reconnecting');
      assert.equal(lost.host, target);
      assert.equal(lost.lastError, `ssh: lost the link to ${target}: the server did not answer ssh keepalives for 3 s`);
      assert.equal(lost.retrying, true);
      assert.ok(api.statusBarText.includes(alias) && /reconnecting|not connected/.test(api.statusBarText), api.statusBarText);
      // No message line (it would hide the welcome content and its buttons): the headers say why.
      assert.equal(api.viewState.message, undefined);
      assert.equal(api.viewState.descriptions.containers, `${alias} · ${api.connection.lastError?.replace(/^ssh: /, '')}`);
      assert.deepEqual(await containerLabels(), [], 'the views show the state, not a hanging list');
      // Meanwhile on the host (its socket is reachable here without the link): the container stops.
      await remote!.containers.stop(web.id);
    } finally {
      states.dispose();
      await link('up');
    }
    try {
      const back = await until('connected again', (s) => s.state === 'connected', 90_000);
      assert.equal(back.host, target);
      assert.equal(back.version?.pid, deployedPid, 'the same daemon: only the link was gone');
      // Resumed with `since`: the stop that happened while cut arrives as events.
      await waitFor(
        'the missed stop events',
        () => (events.some((e) => e.id === web.id && e.topic === '/containers/stop') ? true : undefined),
        () => JSON.stringify(events.map((e) => e.topic)),
      );
    } finally {
      subscription.dispose();
    }
    await waitFor(`${WEB} shown exited`, async () => {
      const nodes = await api.views.containers.getChildren();
      return nodes.map((n) => api.views.containers.getTreeItem(n)).find((i) => labelOf(i) === WEB && i.contextValue === 'exitedContainer');
    });
  });

  it('a killed remote daemon is started again by the reconnect', async () => {
    const pid = api.connection.version!.pid;
    process.kill(pid, 'SIGKILL');
    await until('the dead daemon to be noticed', (s) => s.state !== 'connected', 30_000);
    const back = await until('connected to a new daemon', (s) => s.state === 'connected' && s.version?.pid !== pid, 60_000);
    assert.equal(back.host, target);
    assert.equal(back.version?.root, path.join(gantryHome, 'root'));
    deployedPid = back.version?.pid;
    // The container record is on disk: the new daemon has it.
    await waitFor(`${WEB} listed again`, async () => ((await containerLabels()).includes(WEB) ? true : undefined), shown);
  });

  it('switching back to the local runtime shows the local daemon and leaves no ssh process', async () => {
    const snapshot = await vscode.commands.executeCommand<ConnectionSnapshot>('gantry.host.connect', 'local');
    assert.equal(snapshot.state, 'connected');
    assert.equal(snapshot.host, undefined);
    assert.equal(snapshot.socket, localSocket);
    assert.match(api.statusBarText, /^\$\(vm-running\) Gantry /);
    assert.deepEqual(api.viewState.descriptions, { images: undefined, containers: undefined, networks: undefined });
    await waitFor(
      'the local lists',
      async () => (!(await containerLabels()).includes(WEB) && !(await imageNames()).includes(image)) || undefined,
      shown,
    );
    await waitFor(
      'no ssh client left',
      () => (sshClients(sshConfig).length === 0 ? true : undefined),
      () => sshClients(sshConfig).join('\n'),
      15_000,
    );
  });

  it('connecting again reuses the deployed daemon without uploading, and closes its ssh on leaving', async () => {
    const steps: string[] = [];
    const subscription = api.onDidChangeConnection((s) => s.progress && steps.push(s.progress));
    try {
      const snapshot = await vscode.commands.executeCommand<ConnectionSnapshot>('gantry.host.connect', alias);
      assert.equal(snapshot.host, target, 'an alias is the same host as ssh://alias');
      assert.equal(snapshot.version?.pid, deployedPid);
    } finally {
      subscription.dispose();
    }
    assert.ok(!steps.some((m) => /uploading|starting/.test(m)), `progress: ${JSON.stringify(steps)}`);
    assert.ok(sshClients(sshConfig).length > 0, 'the event stream runs over an ssh while connected');
    await vscode.commands.executeCommand('gantry.host.connect', 'local');
    await waitFor(
      'no ssh client left',
      () => (sshClients(sshConfig).length === 0 ? true : undefined),
      () => sshClients(sshConfig).join('\n'),
      15_000,
    );
  });
});
