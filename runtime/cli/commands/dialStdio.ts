import * as net from 'node:net';
import { GantryError } from '../../errdefs/errdefs';
import { parseCommandArgs, type Command } from '../command';
import { requireFoundSocket } from '../withClient';

/**
 * Joins stdin/stdout to the daemon socket byte for byte. A remote client runs
 * `ssh HOST gantry dial-stdio` and speaks gRPC through it, exactly as
 * `docker system dial-stdio` carries Docker's API over SSH.
 */
export const dialStdioCommand: Command = {
  name: 'dial-stdio',
  summary: 'proxy stdin/stdout to the daemon socket (used by SSH transports)',
  usage: `Usage: gantry dial-stdio

Copy stdin to the daemon's socket and the socket's replies to stdout until
either side closes. Used by 'gantry --host ssh://…' and the extension.
`,
  async run(ctx, argv) {
    if (!parseCommandArgs(this, argv, {}, ctx)) return 0;
    requireFoundSocket(ctx);
    const socket = net.connect(ctx.socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e) =>
        reject(
          new GantryError('Unavailable', `connect ${(e as NodeJS.ErrnoException).code ?? ''} ${ctx.socket}`, { cause: e, transport: true }),
        ),
      );
    });
    return new Promise<number>((resolve) => {
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      // stdin closed: half-close toward the daemon, keep reading its answers.
      process.stdin.once('end', () => socket.end());
      socket.once('close', () => {
        process.stdin.unpipe(socket);
        process.stdin.destroy(); // otherwise an open stdin keeps the process alive
        resolve(0);
      });
      socket.once('error', (e) => {
        ctx.stderr.write(`gantry: dial-stdio: ${e.message}\n`);
        resolve(1);
      });
      process.stdout.once('error', () => socket.destroy());
    });
  },
};
