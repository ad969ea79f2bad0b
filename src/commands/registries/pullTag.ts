/** Gantry: Pull (a tag of the Registries view). Pull Image… with the tag's reference, progress and all. */
import * as vscode from 'vscode';
import type { ImageSummary } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';
import { tagFromArg } from './registryArgs';

export function pullTag(_context: CommandContext, node?: unknown): Thenable<ImageSummary | undefined> {
  return vscode.commands.executeCommand<ImageSummary | undefined>('gantry.images.pull', tagFromArg(node));
}
