/**
 * What the views say while Gantry is not connected. VS Code shows a view's
 * welcome content (its sentence and its Start Runtime / Reconnect / Show Log
 * buttons) only while the tree is empty AND the view has no message line, so
 * the views never set a message: the welcome content carries the sentence,
 * picked by context keys, and the view's header (its description) the few
 * words only the current state can say. The raw error stays in the log.
 *
 *   this machine   "not running"              nothing listens on the socket
 *                  "no access to SOCKET"      the socket refuses this user
 *                  "not answering"            something listens but no Version answer
 *   remote host    "connecting: STEP"         while connecting (uploading gantry.js…)
 *                  "WHY"                      lost or failed, as ssh explains it
 *                                             ("lost the link to ssh://box: the server
 *                                             did not answer ssh keepalives for 3 s")
 */
import * as net from 'node:net';
import * as vscode from 'vscode';
import type { ConnectionSnapshot } from '../client/connection';

/** Why nothing answers on this machine's socket, from the errno of a plain connect. */
export type LocalProblem = 'notRunning' | 'noAccess' | 'notAnswering';

/** Connects to `socket` once: the errno says whether a daemon runs there at all. */
export function probeLocalSocket(socket: string): Promise<LocalProblem> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    conn.once('connect', () => {
      conn.destroy();
      resolve('notAnswering');
    });
    conn.once('error', (e: NodeJS.ErrnoException) => {
      // ENOENT: no socket file; ECONNREFUSED: the file of a daemon that was killed.
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTDIR') resolve('notRunning');
      else if (e.code === 'EACCES' || e.code === 'EPERM') resolve('noAccess');
      else resolve('notAnswering');
    });
  });
}

/** The header's words for `snapshot`; undefined when the state needs none (connected, local connecting). */
export function connectionSummary(snapshot: ConnectionSnapshot, problem: LocalProblem | undefined): string | undefined {
  if (snapshot.host !== undefined) {
    // ssh's reasons are written for people already ("ssh: lost the link to ssh://box: …").
    const reason = snapshot.lastError?.replace(/^ssh: /, '');
    switch (snapshot.state) {
      case 'connecting':
        return snapshot.progress ? vscode.l10n.t('connecting: {0}', snapshot.progress) : vscode.l10n.t('connecting…');
      case 'reconnecting':
        return reason ?? vscode.l10n.t('lost the connection');
      case 'disconnected':
        return reason ?? vscode.l10n.t('not connected');
      default:
        return undefined;
    }
  }
  if (snapshot.state !== 'disconnected' && snapshot.state !== 'reconnecting') return undefined;
  switch (problem) {
    case 'notRunning':
      return vscode.l10n.t('not running');
    case 'noAccess':
      return vscode.l10n.t('no access to {0}', snapshot.socket);
    case 'notAnswering':
      return vscode.l10n.t('not answering');
    default:
      return snapshot.state === 'reconnecting' ? vscode.l10n.t('lost the connection') : vscode.l10n.t('not connected');
  }
}

/**
 * "rootless" while connected to a rootless daemon (Version's `rootless`,
 * docs/rootless.md): the views' headers and the status bar say it, since
 * such a daemon differs (no cgroup limits; bridge networking only with
 * slirp4netns). Undefined otherwise.
 */
export function daemonModeLabel(snapshot: ConnectionSnapshot): string | undefined {
  return snapshot.state === 'connected' && snapshot.version?.rootless ? vscode.l10n.t('rootless') : undefined;
}

/** The tooltip's line about the daemon's mode: rootless (and its network), or shared through a group. */
export function daemonModeDetail(snapshot: ConnectionSnapshot): string | undefined {
  const v = snapshot.version;
  if (snapshot.state !== 'connected' || !v) return undefined;
  if (v.rootless) {
    return v.rootlessNetwork === 'host'
      ? vscode.l10n.t("Rootless: the user's own daemon in a user namespace (RootlessKit, host network: bridge networking and -p are off)")
      : vscode.l10n.t("Rootless: the user's own daemon in a user namespace (RootlessKit, network {0})", v.rootlessNetwork || 'unknown');
  }
  if (v.socketGroup) return vscode.l10n.t('Rootful, shared with group {0} (its members are equivalent to root)', v.socketGroup);
  return undefined;
}
