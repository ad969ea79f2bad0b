/**
 * The one way a CLI command gets a client: one RuntimeClient per invocation,
 * on the socket cli.ts resolved (this machine's, or the local proxy of an
 * SSH connection), closed when the command's work is done.
 */
import { GantryError, RuntimeClient } from '../client';
import type { CommandContext } from './command';

/**
 * Discovery found no daemon it may use (none answers, or what answers is not
 * root's or the user's): nothing is dialled, not even the first place it
 * looked, which may be another user's listener. cli.ts's explain() names
 * every place and why.
 */
export function requireFoundSocket(ctx: CommandContext): void {
  if (ctx.socketFound === false) throw new GantryError('Unavailable', `no gantryd found (${ctx.socket})`, { transport: true });
}

export async function withClient<T>(ctx: CommandContext, fn: (client: RuntimeClient) => Promise<T>): Promise<T> {
  requireFoundSocket(ctx);
  const client = RuntimeClient.forSocket(ctx.socket);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
