/**
 * The Files of a container in the Containers view: New File…, New Folder…,
 * Rename…, Delete, Refresh — on a folder or file node (or the Files node,
 * the root). Every change goes through `vscode.workspace.fs` on the
 * `gantry-files:` URI, so open editors see it too (src/files/), then the
 * folder that changed is listed again. Options objects skip the prompts
 * (tests, other commands): `{ name }`, `{ newName }`, `{ confirm: false }`.
 */
import * as vscode from 'vscode';
import { containerFileUri } from '../../files/containerFileUris';
import type { ContainerTreeNode } from '../../views/containers/containerNodes';
import { joinContainerPath, type ContainerFileNode, type ContainerFilesNode } from '../../views/containers/fileNodes';
import type { CommandContext } from '../commandContext';

type FolderNode = ContainerFilesNode | (ContainerFileNode & { folder: true });

function asFolder(arg: unknown): FolderNode | undefined {
  const node = arg as ContainerTreeNode | undefined;
  if (node?.kind === 'containerFiles') return node;
  if (node?.kind === 'containerFile' && node.folder) return node as FolderNode;
  return undefined;
}

function asEntry(arg: unknown): ContainerFileNode | undefined {
  const node = arg as ContainerTreeNode | undefined;
  return node?.kind === 'containerFile' ? node : undefined;
}

const folderPath = (node: FolderNode) => (node.kind === 'containerFiles' ? '/' : node.path);
const parentPath = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';

/** One path component: no slash, not empty, not `.` or `..`. */
export function fileNameProblem(name: string): string | undefined {
  if (!name) return vscode.l10n.t('Enter a name');
  if (name.includes('/')) return vscode.l10n.t('A name cannot contain "/"');
  if (name === '.' || name === '..') return vscode.l10n.t('"{0}" is not a file name', name);
  if (name.includes('\0')) return vscode.l10n.t('A name cannot contain a NUL character');
  return undefined;
}

async function askName(prompt: string, value = ''): Promise<string | undefined> {
  return vscode.window.showInputBox({ prompt, value, validateInput: fileNameProblem });
}

async function create(
  context: CommandContext,
  arg: unknown,
  options: { name?: string } | undefined,
  folder: boolean,
): Promise<vscode.Uri | undefined> {
  const node = asFolder(arg);
  if (!node) throw new Error(vscode.l10n.t('Choose a folder in a container’s Files first'));
  const name = options?.name ?? (await askName(folder ? vscode.l10n.t('Name of the new folder') : vscode.l10n.t('Name of the new file')));
  if (name === undefined) return undefined;
  const problem = fileNameProblem(name);
  if (problem) throw new Error(problem);
  const uri = containerFileUri(node.containerId, joinContainerPath(folderPath(node), name));
  if (folder) await vscode.workspace.fs.createDirectory(uri);
  else await vscode.workspace.fs.writeFile(uri, new Uint8Array(0));
  context.views.containers.refreshFiles(node);
  if (!folder && options?.name === undefined) await vscode.window.showTextDocument(uri);
  return uri;
}

export function newContainerFile(context: CommandContext, arg?: unknown, options?: unknown): Promise<vscode.Uri | undefined> {
  return create(context, arg, options as { name?: string } | undefined, false);
}

export function newContainerFolder(context: CommandContext, arg?: unknown, options?: unknown): Promise<vscode.Uri | undefined> {
  return create(context, arg, options as { name?: string } | undefined, true);
}

export async function renameContainerFile(context: CommandContext, arg?: unknown, opts?: unknown): Promise<vscode.Uri | undefined> {
  const options = opts as { newName?: string } | undefined;
  const node = asEntry(arg);
  if (!node) throw new Error(vscode.l10n.t('Choose a file or folder in a container’s Files first'));
  const newName = options?.newName ?? (await askName(vscode.l10n.t('New name for {0}', node.name), node.name));
  if (newName === undefined || newName === node.name) return undefined;
  const problem = fileNameProblem(newName);
  if (problem) throw new Error(problem);
  const target = containerFileUri(node.containerId, joinContainerPath(parentPath(node.path), newName));
  await vscode.workspace.fs.rename(containerFileUri(node.containerId, node.path), target, { overwrite: false });
  context.views.containers.refreshFiles(undefined);
  return target;
}

export async function deleteContainerFile(context: CommandContext, arg?: unknown, opts?: unknown): Promise<boolean> {
  const options = opts as { confirm?: boolean } | undefined;
  const node = asEntry(arg);
  if (!node) throw new Error(vscode.l10n.t('Choose a file or folder in a container’s Files first'));
  if (options?.confirm !== false) {
    const yes = vscode.l10n.t('Delete');
    const answer = await vscode.window.showWarningMessage(
      node.folder
        ? vscode.l10n.t('Delete the folder {0} and everything in it from the container?', node.path)
        : vscode.l10n.t('Delete {0} from the container?', node.path),
      { modal: true },
      yes,
    );
    if (answer !== yes) return false;
  }
  await vscode.workspace.fs.delete(containerFileUri(node.containerId, node.path), { recursive: node.folder && !node.linkTarget });
  context.views.containers.refreshFiles(undefined);
  return true;
}

export function refreshContainerFiles(context: CommandContext, arg?: unknown): void {
  context.views.containers.refreshFiles(asFolder(arg));
}
