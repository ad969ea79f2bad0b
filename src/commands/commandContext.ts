/**
 * What every command is handed: the extension, the connection to gantryd, the
 * log, the views' data, the host switcher, and where failures are reported.
 * Its own file so that commands depend on this, not on the registration
 * table that imports them all (`registerCommands.ts`).
 */
import type * as vscode from 'vscode';
import type { RuntimeConnection } from '../client/connection';
import type { PortForwards } from '../forwarding/portForwards';
import type { HostSwitcher } from '../hosts/hostSwitcher';
import type { GantryViews } from '../views/runtimeViews';

export interface CommandContext {
  readonly extension: vscode.ExtensionContext;
  readonly connection: RuntimeConnection;
  readonly log: vscode.LogOutputChannel;
  /** The views' data providers and their RefreshManager. */
  readonly views: GantryViews;
  /** Which runtime (local or a host over SSH) the window uses, and switching it. */
  readonly hosts: HostSwitcher;
  /** Container ports this window forwards to this machine (Forward Port…). */
  readonly forwards: PortForwards;
  /** Fired once per failed command, with the message the user was shown. */
  readonly failures: vscode.EventEmitter<CommandFailure>;
}

/** A command that failed: the user saw `message` in one error notification. */
export interface CommandFailure {
  readonly command: string;
  readonly message: string;
}
