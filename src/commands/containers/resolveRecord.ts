/**
 * A target's full ID and name, which document URIs need: from the node when
 * the target came from the tree (no call), else one inspect (a name or an
 * ID prefix given as a string).
 */
import type { CommandContext } from '../commandContext';
import type { ContainerTarget } from './containerArgs';

export async function resolveRecord(context: CommandContext, target: ContainerTarget): Promise<{ id: string; name: string }> {
  if (target.state !== undefined) return { id: target.id, name: target.name };
  const { container } = await context.connection.requireClient().containers.inspect(target.id);
  return { id: container!.id, name: container!.name };
}
