/**
 * `gantry inspect`: Docker's object-agnostic inspect. Each name is looked up
 * as a container first, then as an image (unless --type says which), and the
 * records found are printed as one JSON array; names that match nothing get
 * one error line each and exit code 1, after the array.
 * `gantry container inspect` and `gantry image inspect` are the typed forms.
 */
import type { InspectContainerResponse, RuntimeClient } from '../../client';
import { healthName } from '../../presentation';
import { describe, isGantryError, isNotFound, notFound } from '../../errdefs/errdefs';
import { parseCommandArgs, UsageError, type Command, type CommandContext } from '../command';
import { writeJson } from '../output';
import { summaryJson } from './containerCommon';
import { withClient } from '../withClient';
import { hostConfigJson } from './hostConfig';
import { imageInspectJson } from './images';

type ObjectType = 'container' | 'image' | undefined;

/** A container's inspect record: readable enums, the OCI spec as an object. */
export function containerInspectJson(details: InspectContainerResponse): Record<string, unknown> {
  return {
    ...(details.container ? summaryJson(details.container) : {}),
    config: details.config,
    healthState: details.health ? { ...details.health, status: healthName(details.health.status) } : undefined,
    logPath: details.logPath,
    bundle: details.bundle,
    snapshotter: details.snapshotter,
    snapshotKey: details.snapshotKey,
    monitorPid: details.monitorPid,
    hostname: details.hostname,
    seccomp: details.seccomp,
    noNewPrivileges: details.noNewPrivileges,
    apparmorProfile: details.apparmorProfile,
    spec: details.specJson ? JSON.parse(details.specJson) : undefined,
    hostConfig: hostConfigJson(details),
    // Docker's Mounts (binds, volumes, tmpfs).
    Mounts: details.mounts.map((m) => ({
      Type: m.type,
      ...(m.name ? { Name: m.name } : {}),
      Source: m.source,
      Destination: m.destination,
      ...(m.driver ? { Driver: m.driver } : {}),
      Mode: m.mode,
      RW: m.rw,
      Propagation: m.propagation,
    })),
  };
}

async function inspectOne(client: RuntimeClient, name: string, type: ObjectType): Promise<Record<string, unknown>> {
  if (type !== 'image') {
    try {
      return containerInspectJson(await client.containers.inspect(name));
    } catch (e) {
      if (!isNotFound(e) || type === 'container') throw e;
    }
  }
  try {
    return imageInspectJson(await client.images.inspect(name));
  } catch (e) {
    // Docker says "No such object"; saying which lookups failed is more use.
    if (isNotFound(e) && type === undefined) throw notFound(`no such container; ${describe(e)}`, e);
    throw e;
  }
}

async function inspectAll(ctx: CommandContext, names: readonly string[], type: ObjectType): Promise<number> {
  const found: Record<string, unknown>[] = [];
  const errors: string[] = [];
  await withClient(ctx, async (client) => {
    for (const name of names) {
      try {
        found.push(await inspectOne(client, name, type));
      } catch (e) {
        if (isGantryError(e) && e.transport) throw e;
        errors.push(describe(e));
      }
    }
  });
  writeJson(ctx.stdout, found);
  for (const message of errors) ctx.stderr.write(`gantry: ${message}\n`);
  return errors.length ? 1 : 0;
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show the details of containers or images as JSON',
  usage: `Usage: gantry inspect [--type container|image] NAME|ID [NAME|ID...]

Print each object's record as a JSON array. A name is looked up as a
container first, then as an image.

Options:
  --type TYPE   only look for containers or only for images
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { type: { type: 'string' } }, ctx, true);
    if (!args) return 0;
    const type = args.values.type;
    if (type !== undefined && type !== 'container' && type !== 'image')
      throw new UsageError(`--type must be container or image, not "${type}"`);
    if (!args.positionals.length) throw new UsageError('inspect needs at least one container or image');
    return inspectAll(ctx, args.positionals, type);
  },
};

export const containerInspectCommand: Command = {
  name: 'inspect',
  summary: 'show the details of containers as JSON',
  usage: `Usage: gantry container inspect CONTAINER [CONTAINER...]

Print each container's record, config and OCI runtime spec as a JSON array.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('container inspect needs at least one container');
    return inspectAll(ctx, args.positionals, 'container');
  },
};
