/**
 * Gantry: Start Runtime. As root, spawns the bundled daemon with the Node that
 * runs this extension host (spawnDaemon.ts) and waits for it to answer.
 * Otherwise gantryd (which needs root for runc and overlayfs) cannot be
 * started from here, so the user gets the exact command to run instead. On a
 * remote host the connection itself starts (or redeploys) gantryd, so this
 * reconnects.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { canStartRuntime } from '../../localRuntime';
import type { CommandContext } from '../commandContext';
import { daemonArgv, spawnDaemon } from './spawnDaemon';

const START_TIMEOUT_MS = 15_000;

export async function startRuntime(context: CommandContext): Promise<void> {
  const { connection } = context;
  if (connection.current.host !== undefined) {
    await connection.reconnect();
    return;
  }
  if (connection.current.state === 'connected') {
    void vscode.window.showInformationMessage(`gantryd is already running at ${connection.current.socket}.`);
    return;
  }
  const socket = connection.current.socket;
  const argv = daemonArgv(context.extension.extensionPath, socket);
  if (!canStartRuntime()) {
    const commandLine = ['sudo', ...argv].map(quoteForDisplay).join(' ');
    const copy = vscode.l10n.t('Copy Command');
    const picked = await vscode.window.showInformationMessage(
      vscode.l10n.t('gantryd needs root. Start it in a terminal: {0}', commandLine),
      copy,
    );
    if (picked === copy) await vscode.env.clipboard.writeText(commandLine);
    return;
  }

  const logFile = path.join(context.extension.logUri.fsPath, 'gantryd.log');
  context.log.info(`Starting ${argv.join(' ')} (log: ${logFile})`);
  const child = spawnDaemon(argv, logFile);

  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Starting Gantry runtime…') },
    () => waitUntilConnected(context, child, logFile),
  );
}

async function waitUntilConnected(context: CommandContext, child: ChildProcess, logFile: string): Promise<void> {
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`gantryd exited with code ${code}: ${lastLine(logFile)}`)));
    child.once('error', reject);
  });
  // Once connected nothing awaits `exited` any more, but the daemon exits some
  // day (it outlives this call by design): that must not be an unhandled rejection.
  exited.catch(() => undefined);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await context.connection.reconnect();
    if (context.connection.current.state === 'connected') return;
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 250))]);
  }
  throw new Error(`gantryd did not answer within ${START_TIMEOUT_MS / 1000}s; see ${logFile}`);
}

function lastLine(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').pop() ?? '';
  } catch {
    return '';
  }
}

function quoteForDisplay(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
