import { withClient } from '../withClient';
import { toWireAuth } from '../../client';
import type { RegistryAuth } from '../../distribution/distribution';
import { removeCredentials, storeCredentials } from '../../distribution/credentials';
import { DEFAULT_DOMAIN } from '../../distribution/reference';
import { parseCommandArgs, UsageError, type Command } from '../command';

/** "https://index.docker.io/v1/", "docker.io", "" → docker.io; "https://host:5000/" → host:5000. */
export function normalizeServer(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DEFAULT_DOMAIN : host;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export const loginCommand: Command = {
  name: 'login',
  summary: 'log in to a registry (credentials are stored in ~/.docker/config.json)',
  usage: `Usage: gantry login [options] [SERVER]

Check credentials with the registry, then store them as Docker does (in a
credential helper when one is configured, else in ~/.docker/config.json).
SERVER defaults to Docker Hub.

Options:
  -u, --username NAME
  -p, --password PASS      (visible to other users; prefer --password-stdin)
  --password-stdin         read the password from standard input
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        username: { type: 'string', short: 'u' },
        password: { type: 'string', short: 'p' },
        'password-stdin': { type: 'boolean' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length > 1) throw new UsageError('login takes at most one server');
    const server = normalizeServer(args.positionals[0]);
    const username = args.values.username;
    let password = args.values.password;
    if (args.values['password-stdin']) {
      if (password) throw new UsageError('--password and --password-stdin are mutually exclusive');
      password = await readStdin();
    }
    if (!username || !password) throw new UsageError('login needs --username and a password (--password-stdin)');
    const auth: RegistryAuth = { username, password };
    return withClient(ctx, async (client) => {
      const status = await client.images.login(server, toWireAuth(auth)!);
      await storeCredentials(server, auth);
      ctx.stdout.write(`${status}\n`);
      return 0;
    });
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'remove stored credentials for a registry',
  usage: `Usage: gantry logout [SERVER]

Remove the credentials stored for SERVER (default: Docker Hub).
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    const server = normalizeServer(args.positionals[0]);
    const removed = await removeCredentials(server);
    ctx.stdout.write(removed ? `Removing login credentials for ${server}\n` : `Not logged in to ${server}\n`);
    return 0;
  },
};
