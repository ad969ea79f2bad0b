/**
 * Gantry: Start Runtime. Spawns the bundled daemon with the Node that runs
 * this extension host (spawnDaemon.ts) and waits for it to answer. As root
 * that is the rootful daemon; for any other user `gantry daemon` goes
 * rootless by itself (docs/rootless.md), so the doctor's checks
 * (runtime/doctor, startPrerequisites.ts) run first: when a required one
 * fails, a notification names each and its fix, with the walkthrough a click
 * away, and nothing is spawned. The checks run again at every Start Runtime,
 * so it works as soon as the fixes are in. On a remote host the connection
 * itself starts (or redeploys) gantryd, so this reconnects.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DoctorCheck } from '../../../runtime/doctor';
import { localRuntimeMode } from '../../localRuntime';
import type { CommandContext } from '../commandContext';
import { daemonArgv, spawnDaemon } from './spawnDaemon';
import { checkThisHost, describeBlockers, startBlockers } from './startPrerequisites';
import { ROOTLESS_WALKTHROUGH } from './walkthrough';

/** A rootless start also runs RootlessKit and, with it, slirp4netns: more room than a rootful one. */
const START_TIMEOUT_MS = { rootful: 15_000, rootless: 30_000 };

/** What Start Runtime did, for tests and other extensions. */
export interface StartOutcome {
  readonly started: boolean;
  readonly mode?: 'rootful' | 'rootless';
  /** The required prerequisites that kept a rootless daemon from starting (doctor check ids). */
  readonly missing?: readonly string[];
}

export async function startRuntime(context: CommandContext): Promise<StartOutcome> {
  const { connection } = context;
  if (connection.current.host !== undefined) {
    await connection.reconnect();
    return { started: false };
  }
  if (connection.current.state === 'connected') {
    void vscode.window.showInformationMessage(`gantryd is already running at ${connection.current.socket}.`);
    return { started: false };
  }
  const mode = localRuntimeMode();
  if (mode === 'rootless') {
    const blockers = startBlockers(checkThisHost());
    if (blockers.length) {
      void explainBlockers(context, blockers);
      return { started: false, mode, missing: blockers.map((b) => b.id) };
    }
  }
  const socket = connection.current.socket;
  const argv = daemonArgv(context.extension.extensionPath, socket);
  const logFile = path.join(context.extension.logUri.fsPath, 'gantryd.log');
  context.log.info(`Starting ${mode} ${argv.join(' ')} (log: ${logFile})`);
  const child = spawnDaemon(argv, logFile);

  await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: mode === 'rootless' ? vscode.l10n.t('Starting a rootless Gantry runtime…') : vscode.l10n.t('Starting Gantry runtime…'),
    },
    () => waitUntilConnected(context, child, logFile, START_TIMEOUT_MS[mode]),
  );
  return { started: true, mode };
}

/**
 * One notification naming every missing prerequisite and its fix (the log
 * gets the same lines), with the walkthrough and the full check a click away.
 */
async function explainBlockers(context: CommandContext, blockers: readonly DoctorCheck[]): Promise<void> {
  const lines = describeBlockers(blockers);
  for (const line of lines) context.log.warn(`rootless gantryd cannot start: ${line}`);
  const walkthrough = vscode.l10n.t('Open Walkthrough');
  const check = vscode.l10n.t('Check Set-up');
  const copy = vscode.l10n.t('Copy Fixes');
  const picked = await vscode.window.showWarningMessage(
    vscode.l10n.t('Gantry cannot start a rootless runtime: {0}', lines.join('; ')),
    walkthrough,
    check,
    copy,
  );
  if (picked === walkthrough) await vscode.commands.executeCommand('workbench.action.openWalkthrough', ROOTLESS_WALKTHROUGH, false);
  if (picked === check) await vscode.commands.executeCommand('gantry.doctor');
  if (picked === copy)
    await vscode.env.clipboard.writeText(
      blockers
        .map((b) => b.fix)
        .filter(Boolean)
        .join('\n'),
    );
}

async function waitUntilConnected(context: CommandContext, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`gantryd exited with code ${code}: ${lastLine(logFile)}`)));
    child.once('error', reject);
  });
  // Once connected nothing awaits `exited` any more, but the daemon exits some
  // day (it outlives this call by design): that must not be an unhandled rejection.
  exited.catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await context.connection.reconnect();
    if (context.connection.current.state === 'connected') return;
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 250))]);
  }
  throw new Error(`gantryd did not answer within ${timeoutMs / 1000}s; see ${logFile}`);
}

function lastLine(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
  } catch {
    return '';
  }
}
