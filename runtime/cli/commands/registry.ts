/**
 * `gantry registry ls|repos|tags`: the daemon's registry browsing API
 * (docs/registries.md) — Docker has no such command. The daemon answers with
 * its own user's logins and credentials.
 */
import { normalizeServer } from './login';
import { commandGroup, parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { withClient } from '../withClient';

const jsonFlag = { json: { type: 'boolean' } } as const;

const registryLsCommand: Command = {
  name: 'ls',
  summary: 'list the registries the daemon’s user is logged in to',
  usage: `Usage: gantry registry ls [--json]

The registries in the Docker config of the user gantryd runs as (on an SSH
host, the remote user's), with the user name where the file shows it.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, jsonFlag, ctx);
    if (!args) return 0;
    const answer = await withClient(ctx, (c) => c.images.listRegistries());
    if (args.values.json) writeJson(ctx.stdout, answer);
    else
      writeTable(
        ctx.stdout,
        ['REGISTRY', 'USERNAME', 'HELPER'],
        answer.registries.map((r) => [r.server, r.username, r.helper]),
      );
    return 0;
  },
};

const registryReposCommand: Command = {
  name: 'repos',
  summary: 'list a registry’s repositories',
  usage: `Usage: gantry registry repos [--json] [SERVER]

The registry's catalog (every page). Where the registry refuses it (Docker
Hub does), the repositories of that registry the local images name, after
a note on standard error. SERVER defaults to Docker Hub.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, jsonFlag, ctx, true);
    if (!args) return 0;
    if (args.positionals.length > 1) throw new UsageError('registry repos takes at most one server');
    const server = normalizeServer(args.positionals[0]);
    const answer = await withClient(ctx, (c) => c.images.listRepositories(server));
    if (args.values.json) writeJson(ctx.stdout, answer);
    else {
      if (answer.fromLocalImages)
        ctx.stderr.write(`gantry: ${server} does not list its repositories (${answer.catalogError}); local ones:\n`);
      for (const r of answer.repositories) ctx.stdout.write(`${r}\n`);
    }
    return 0;
  },
};

const registryTagsCommand: Command = {
  name: 'tags',
  summary: 'list a repository’s tags',
  usage: `Usage: gantry registry tags [--json] REPOSITORY

The tags of REPOSITORY ("registry.example.com/team/app"), every page.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, jsonFlag, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('registry tags needs one repository');
    const tags = await withClient(ctx, (c) => c.images.listTags(args.positionals[0]));
    if (args.values.json) writeJson(ctx.stdout, tags);
    else for (const t of tags) ctx.stdout.write(`${t}\n`);
    return 0;
  },
};

export const registryCommand: Command = commandGroup(
  {
    name: 'registry',
    summary: 'browse registries (ls, repos, tags)',
    usage: `Usage: gantry registry COMMAND

Commands:
  ls      the registries the daemon's user is logged in to
  repos   a registry's repositories
  tags    a repository's tags
`,
  },
  { ls: registryLsCommand, list: registryLsCommand, repos: registryReposCommand, tags: registryTagsCommand },
);
