/**
 * The one way a CLI command gets a client: one RuntimeClient per invocation,
 * on the socket cli.ts resolved (this machine's, or the local proxy of an
 * SSH connection), closed when the command's work is done.
 */
import { RuntimeClient } from '../client';
import type { CommandContext } from './command';

export async function withClient<T>(ctx: CommandContext, fn: (client: RuntimeClient) => Promise<T>): Promise<T> {
  const client = RuntimeClient.forSocket(ctx.socket);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
