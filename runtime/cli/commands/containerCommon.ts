/**
 * Pieces every container command shares: the "several containers at once"
 * loop Docker's verbs use (each success prints the name as given, each
 * failure one line on stderr, exit 1 if any failed), and the readable JSON
 * form of a list record.
 */
import type { ContainerSummary, RuntimeClient } from '../../client';
import { healthName, statusName } from '../../presentation';
import { describe, isGantryError } from '../../errdefs/errdefs';
import type { CommandContext } from '../command';
import { withClient } from '../withClient';

/**
 * Runs `fn` for each container in order. A failure is reported as
 * `gantry: <message>` and the loop goes on; not reaching the daemon at all is
 * rethrown so cli.ts explains it once instead of once per container.
 * Resolves to the exit code: 0, or 1 if any failed.
 */
export async function forEachContainer(
  ctx: CommandContext,
  targets: readonly string[],
  fn: (client: RuntimeClient, target: string) => Promise<void>,
): Promise<number> {
  let failed = 0;
  await withClient(ctx, async (client) => {
    for (const target of targets) {
      try {
        await fn(client, target);
      } catch (e) {
        if (isGantryError(e) && e.transport) throw e;
        failed++;
        ctx.stderr.write(`gantry: ${describe(e)}\n`);
      }
    }
  });
  return failed ? 1 : 0;
}

/** A list record as JSON people and scripts can read: enum names instead of numbers. */
export function summaryJson(c: ContainerSummary): Record<string, unknown> {
  return {
    ...c,
    status: statusName(c.status),
    health: healthName(c.health),
  };
}
