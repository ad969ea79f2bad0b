/**
 * Group By and Sort By in the Images view's `…` menu: each entry sets
 * `gantry.images.groupBy` or `gantry.images.sortBy` (the menus show the
 * current one checked, through `toggled` on the setting's context key). The
 * value is written to the workspace's settings when it is set there (which
 * would override the user's), else to the user's settings.
 */
import * as vscode from 'vscode';
import type { ImageGroupBy, ImageSortBy } from '../../views/images/imageNodes';

export const groupImagesBy = (value: ImageGroupBy) => () => updateImagesSetting('groupBy', value);
export const sortImagesBy = (value: ImageSortBy) => () => updateImagesSetting('sortBy', value);

async function updateImagesSetting(key: 'groupBy' | 'sortBy', value: string): Promise<void> {
  const config = vscode.workspace.getConfiguration('gantry.images');
  const inWorkspace = config.inspect(key)?.workspaceValue !== undefined;
  const target = inWorkspace ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update(key, value, target);
}
