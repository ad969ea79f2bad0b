/**
 * Pull (an image's context menu) and Pull All Tags (a repository's): pulls
 * the names the user picked in the tree again, one progress notification
 * each, so a tag that moved on the registry is brought up to date. Untagged
 * images (`repo@digest`) are skipped: their content cannot change. The view
 * title's Pull Image… is gantry.images.pull, which always asks.
 *
 * Arguments: a node or record name, then the selection. Returns the pulled
 * image records (a cancelled pull adds none). Names that failed are reported
 * together, after the others were pulled.
 */
import { describe, type ImageSummary } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';
import { targetsFromArgs } from './imageArgs';
import { pullImage } from './pullImage';

export async function pullAgain(context: CommandContext, node?: unknown, nodes?: unknown): Promise<ImageSummary[]> {
  const targets = targetsFromArgs(node, nodes).filter((t) => !t.dangling);
  const pulled: ImageSummary[] = [];
  const failures: string[] = [];
  for (const target of targets) {
    try {
      const image = await pullImage(context, target.name);
      if (image) pulled.push(image);
    } catch (e) {
      failures.push(describe(e));
    }
  }
  if (failures.length) throw new Error(failures.join('; '));
  return pulled;
}
