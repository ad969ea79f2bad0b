/**
 * The single table of the extension's commands. Each command is a function
 * in its own file; `register` wraps it so a failure becomes one notification
 * with a "Show Log" action and the details go to the output channel. A failed
 * command resolves to undefined instead of rejecting, so VS Code never shows
 * a second, generic error for it.
 */
import * as vscode from 'vscode';
import { describe } from '../../runtime/client';
import type { CommandContext } from './commandContext';
import { clearContainersFilter } from './containers/clearContainersFilter';
import { copyContainerId } from './containers/copyContainerId';
import { copyContainerName } from './containers/copyContainerName';
import { copyPortAddress } from './containers/copyPortAddress';
import { forwardPort, stopPortForwarding } from './containers/forwardPort';
import {
  deleteContainerFile,
  newContainerFile,
  newContainerFolder,
  refreshContainerFiles,
  renameContainerFile,
} from './containers/containerFiles';
import { filterContainers } from './containers/filterContainers';
import { inspectContainer } from './containers/inspectContainer';
import { killContainers } from './containers/killContainers';
import { openContainerShell } from './containers/openContainerShell';
import { openPortInBrowser } from './containers/openPortInBrowser';
import { pauseContainers } from './containers/pauseContainers';
import { pruneContainers } from './containers/pruneContainers';
import { refreshContainers } from './containers/refreshContainers';
import { removeContainers } from './containers/removeContainers';
import { restartContainers } from './containers/restartContainers';
import { runContainer } from './containers/runContainer';
import { sortContainers } from './containers/sortContainers';
import { startContainers } from './containers/startContainers';
import { stopContainers } from './containers/stopContainers';
import { unpauseContainers } from './containers/unpauseContainers';
import { viewContainerLogs } from './containers/viewContainerLogs';
import { groupImagesBy, sortImagesBy } from './images/arrangeImages';
import { viewContainerStats } from './containers/viewContainerStats';
import { clearImagesFilter } from './images/clearImagesFilter';
import { copyFullTag } from './images/copyFullTag';
import { filterImages } from './images/filterImages';
import { inspectImage } from './images/inspectImage';
import { pruneImages } from './images/pruneImages';
import { pullAgain } from './images/pullAgain';
import { pullImage } from './images/pullImage';
import { refreshImages } from './images/refreshImages';
import { removeImages } from './images/removeImages';
import { tagImage } from './images/tagImage';
import { loadImage } from './images/loadImage';
import { PUSH_COMMAND, pushImage } from './images/pushImage';
import { saveImage } from './images/saveImage';
import { copyReference } from './registries/copyReference';
import { deleteTag } from './registries/deleteTag';
import { logIn } from './registries/logIn';
import { logOut } from './registries/logOut';
import { pullTag } from './registries/pullTag';
import { refreshRegistries } from './registries/refreshRegistries';
import { importImage } from './images/importImage';
import { commitContainer } from './containers/commitContainer';
import { exportContainer } from './containers/exportContainer';
import { connectToHost } from './host/connectToHost';
import { createNetwork } from './networks/createNetwork';
import { inspectNetwork } from './networks/inspectNetwork';
import { pruneNetworks } from './networks/pruneNetworks';
import { refreshNetworks } from './networks/refreshNetworks';
import { removeNetwork } from './networks/removeNetwork';
import { createVolume } from './volumes/createVolume';
import { pruneVolumes } from './volumes/pruneVolumes';
import { refreshVolumes } from './volumes/refreshVolumes';
import { removeVolume } from './volumes/removeVolume';
import { checkSetup } from './runtime/checkSetup';
import { showRuntimeInfo } from './runtime/showRuntimeInfo';
import { startRuntime } from './runtime/startRuntime';
import { RUNTIME_MENU_COMMAND } from '../statusBar/runtimeMenu';
import { showRuntimeMenu } from './runtime/showRuntimeMenu';

type CommandFn = (context: CommandContext, ...args: unknown[]) => unknown;

export function registerCommands(context: CommandContext): void {
  const register = (id: string, fn: CommandFn) => {
    context.extension.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await fn(context, ...args);
        } catch (e) {
          // Over SSH a failed call says why the link failed, naming the host.
          const shown = context.connection.explain(e);
          const message = describe(shown);
          context.log.error(`${id} failed: ${message}`);
          // The one report of the failure: rethrowing would make VS Code add
          // its own "Error running command …" notification beside ours.
          context.failures.fire({ command: id, message });
          void showError(context, message);
          return undefined;
        }
      }),
    );
  };

  register('gantry.runtime.showInfo', showRuntimeInfo);
  register('gantry.runtime.start', startRuntime);
  register('gantry.doctor', checkSetup);
  register('gantry.runtime.reconnect', (ctx) => ctx.connection.reconnect());
  register(RUNTIME_MENU_COMMAND, showRuntimeMenu); // the status-bar item's menu while not connected
  register('gantry.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:gantry.gantry'));
  register('gantry.showLog', (ctx) => ctx.log.show());
  register('gantry.host.connect', connectToHost);

  register('gantry.images.pull', pullImage);
  register('gantry.images.inspect', inspectImage);
  register('gantry.images.tag', tagImage);
  register('gantry.images.copyFullTag', copyFullTag);
  register('gantry.images.remove', removeImages);
  register('gantry.images.prune', pruneImages);
  register('gantry.images.refresh', refreshImages);
  register('gantry.images.filter', filterImages);
  register('gantry.images.clearFilter', clearImagesFilter);
  register('gantry.images.run', runContainer);
  register('gantry.images.pullAgain', pullAgain);
  register('gantry.images.pullAllTags', pullAgain);
  register('gantry.images.removeAllTags', removeImages);
  register('gantry.images.groupByRepository', groupImagesBy('repository'));
  register('gantry.images.groupByNone', groupImagesBy('none'));
  register('gantry.images.sortByName', sortImagesBy('name'));
  register('gantry.images.sortByCreated', sortImagesBy('created'));
  register('gantry.images.sortBySize', sortImagesBy('size'));
  register(PUSH_COMMAND, pushImage);
  register('gantry.images.save', saveImage);
  register('gantry.images.load', loadImage);
  register('gantry.images.import', importImage);

  register('gantry.containers.start', startContainers);
  register('gantry.containers.stop', stopContainers);
  register('gantry.containers.restart', restartContainers);
  register('gantry.containers.kill', killContainers);
  register('gantry.containers.pause', pauseContainers);
  register('gantry.containers.unpause', unpauseContainers);
  register('gantry.containers.remove', removeContainers);
  register('gantry.containers.viewLogs', viewContainerLogs);
  register('gantry.containers.commit', commitContainer);
  register('gantry.containers.export', exportContainer);
  register('gantry.containers.openShell', openContainerShell);
  register('gantry.containers.inspect', inspectContainer);
  register('gantry.containers.prune', pruneContainers);
  register('gantry.containers.refresh', refreshContainers);
  register('gantry.containers.copyId', copyContainerId);
  register('gantry.containers.copyName', copyContainerName);
  register('gantry.containers.viewStats', viewContainerStats);
  register('gantry.containers.filter', filterContainers);
  register('gantry.containers.clearFilter', clearContainersFilter);
  register('gantry.containers.sortByName', (ctx) => sortContainers(ctx, 'name'));
  register('gantry.containers.sortByCreated', (ctx) => sortContainers(ctx, 'created'));
  register('gantry.containers.sortByStatus', (ctx) => sortContainers(ctx, 'status'));
  register('gantry.containers.openInBrowser', openPortInBrowser);
  register('gantry.containers.copyAddress', copyPortAddress);
  register('gantry.containers.forwardPort', forwardPort);
  register('gantry.containers.stopPortForwarding', stopPortForwarding);
  register('gantry.containers.files.newFile', newContainerFile);
  register('gantry.containers.files.newFolder', newContainerFolder);
  register('gantry.containers.files.rename', renameContainerFile);
  register('gantry.containers.files.delete', deleteContainerFile);
  register('gantry.containers.files.refresh', refreshContainerFiles);

  register('gantry.networks.create', createNetwork);
  register('gantry.networks.inspect', inspectNetwork);
  register('gantry.networks.remove', removeNetwork);
  register('gantry.networks.prune', pruneNetworks);
  register('gantry.networks.refresh', refreshNetworks);

  register('gantry.registries.login', logIn);
  register('gantry.registries.logout', logOut);
  register('gantry.registries.pull', pullTag);
  register('gantry.registries.copyReference', copyReference);
  register('gantry.registries.deleteTag', deleteTag);
  register('gantry.registries.refresh', refreshRegistries);
  register('gantry.volumes.create', createVolume);
  register('gantry.volumes.remove', removeVolume);
  register('gantry.volumes.prune', pruneVolumes);
  register('gantry.volumes.refresh', refreshVolumes);
}

async function showError(context: CommandContext, message: string): Promise<void> {
  const showLog = vscode.l10n.t('Show Log');
  if ((await vscode.window.showErrorMessage(message, showLog)) === showLog) context.log.show();
}
