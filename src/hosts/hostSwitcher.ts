/**
 * Which runtime the window uses, and switching it: this machine's daemon
 * or one on a host over SSH (settings `gantry.ssh.*` say how ssh runs). The
 * choice is remembered per workspace (hostStore.ts) and restored at
 * activation. A switch hands RuntimeConnection a new endpoint; the
 * connection closes the old one, so no ssh of a host we left keeps running.
 *
 * Inside a Remote-SSH (or any remote) workspace the extension runs on the
 * remote machine (extensionKind "workspace"): "local" is then that machine's
 * daemon, and ssh to further hosts runs from there, with its ~/.ssh.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type RemoteOptions, type RuntimeEndpoint, SshEndpoint } from '../../runtime/client';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';
import { machineSetting } from '../settings/machineSettings';
import { LOCAL, parseHostChoice, type HostChoice } from './hostChoice';
import { HostStore } from './hostStore';

export class HostSwitcher implements vscode.Disposable {
  readonly store: HostStore;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly connection: RuntimeConnection,
    private readonly localEndpoint: RuntimeEndpoint,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.store = new HostStore(extension.workspaceState);
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => this.settingsChanged(e));
  }

  /** The runtime in use now (whatever its state). */
  get current(): HostChoice {
    const host = this.connection.current.host;
    return host === undefined ? LOCAL : parseHostChoice(host);
  }

  /** The ssh client config listed by Connect to Host… (and used by ssh when gantry.ssh.configFile is set). */
  sshConfigFile(): { file: string; shown: string } {
    const setting = machineSetting('gantry.ssh.configFile');
    const home = os.homedir();
    const file = setting ? expandHome(setting, home) : path.join(home, '.ssh', 'config');
    const shown = file.startsWith(`${home}/`) ? `~/${path.relative(home, file)}` : file;
    return { file, shown };
  }

  sshOptions(): RemoteOptions {
    const c = config();
    const seconds = (key: string) => {
      const v = c.get<number>(key);
      return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined;
    };
    // Never the workspace's value: it becomes `ssh -F`, whose ProxyCommand runs (settings/machineSettings.ts).
    const configFile = machineSetting('gantry.ssh.configFile');
    return {
      configFile: configFile ? expandHome(configFile, os.homedir()) : undefined,
      connectTimeoutSec: seconds('ssh.connectTimeout'),
      aliveIntervalSec: seconds('ssh.serverAliveInterval'),
      aliveCountMax: seconds('ssh.serverAliveCountMax'),
      // The bundle this extension ships: what gets deployed to the host.
      bundleDir: path.join(this.extension.extensionPath, 'dist'),
    };
  }

  /** At activation: connect to the runtime this workspace used last. */
  async restore(): Promise<void> {
    const choice = this.store.active;
    if (choice.kind === 'local') return this.connection.reconnect();
    this.log.info(`This workspace used ${choice.label} last: connecting to it`);
    await this.connect(choice);
  }

  /**
   * Switches to `choice` (the current one: reconnects) and remembers it.
   * Resolves with the state after the first attempt; the connection keeps
   * retrying after a failure that may pass.
   */
  async switchTo(choice: HostChoice): Promise<ConnectionSnapshot> {
    await this.store.setActive(choice);
    return this.connect(choice);
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private async connect(choice: HostChoice): Promise<ConnectionSnapshot> {
    const host = choice.kind === 'ssh' ? choice.label : undefined;
    if (this.connection.endpoint.host === host) {
      // The same runtime: reconnect, keeping an SSH endpoint's proxy.
      await this.connection.reconnect();
    } else {
      await this.connection.switchTo(choice.kind === 'local' ? this.localEndpoint : new SshEndpoint(choice.target, this.sshOptions()));
    }
    const snapshot = this.connection.current;
    if (snapshot.state === 'connected' && choice.kind === 'ssh') await this.store.remember(choice.label);
    return snapshot;
  }

  private settingsChanged(e: vscode.ConfigurationChangeEvent): void {
    const current = this.current;
    if (current.kind === 'local' && e.affectsConfiguration('gantry.socketPath')) void this.connection.reconnect();
    // ssh options are fixed when the connection is made: make a new one.
    if (current.kind === 'ssh' && e.affectsConfiguration('gantry.ssh')) {
      void this.connection.switchTo(new SshEndpoint(current.target, this.sshOptions()));
    }
  }
}

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('gantry');
}

function expandHome(file: string, home: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(home, file.slice(1)) : file;
}
