/**
 * Drop onto a container's folder in the Containers view: each dropped file
 * (from the Explorer, an editor tab, or the OS: `text/uri-list`) is copied
 * into that folder through `vscode.workspace.fs` and the `gantry-files:`
 * provider, keeping its name; an existing file of that name is replaced, as
 * a copy in the Explorer asks for. Folders are not copied (say so).
 */
import * as vscode from 'vscode';
import { containerFileUri } from '../../files/containerFileUris';
import type { ContainerTreeNode } from './containerNodes';
import type { ContainersTreeProvider } from './containersTreeProvider';
import { joinContainerPath } from './fileNodes';

export class ContainerFilesDrop implements vscode.TreeDragAndDropController<ContainerTreeNode> {
  readonly dropMimeTypes = ['text/uri-list'];
  readonly dragMimeTypes: string[] = [];

  constructor(private readonly provider: ContainersTreeProvider) {}

  async handleDrop(target: ContainerTreeNode | undefined, data: vscode.DataTransfer): Promise<void> {
    const folder = target?.kind === 'containerFiles' ? '/' : target?.kind === 'containerFile' && target.folder ? target.path : undefined;
    if (!target || folder === undefined || !('containerId' in target)) return;
    const list = await data.get('text/uri-list')?.asString();
    const uris = (list ?? '')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => vscode.Uri.parse(line));
    const skipped: string[] = [];
    await vscode.window.withProgress(
      { location: { viewId: 'gantry.containers' }, title: vscode.l10n.t('Copying into {0}', folder) },
      async () => {
        for (const uri of uris) {
          const name = uri.path.slice(uri.path.lastIndexOf('/') + 1);
          const stat = await vscode.workspace.fs.stat(uri);
          if (stat.type & vscode.FileType.Directory) {
            skipped.push(name);
            continue;
          }
          const content = await vscode.workspace.fs.readFile(uri);
          await vscode.workspace.fs.writeFile(containerFileUri(target.containerId, joinContainerPath(folder, name)), content);
        }
      },
    );
    this.provider.refreshFiles(target);
    if (skipped.length) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Folders are not copied into containers yet: {0}', skipped.join(', ')));
    }
  }
}
