/**
 * `gantry inspect`: Docker's object-agnostic inspect. Each name is looked up
 * as a container first, then as an image (unless --type says which), and the
 * records found are printed as one JSON array; names that match nothing get
 * one error line each and exit code 1, after the array.
 * `gantry container inspect` and `gantry image inspect` are the typed forms.
 */
import type { InspectContainerResponse, InspectImageResponse, RuntimeClient } from '../../client';
import { healthName } from '../../presentation';
import { describe, isGantryError, isInvalidArgument, isNotFound, notFound } from '../../errdefs/errdefs';
import { parseCommandArgs, UsageError, type Command, type CommandContext } from '../command';
import { writeJson } from '../output';
import { summaryJson } from './containerCommon';
import { withClient } from '../withClient';
import { hostConfigJson } from './hostConfig';
import { dockerContainer, dockerImage, dockerNetwork } from '../dockerInspect';
import { Template, TemplateError } from '../../presentation/template';
import { ExitCodeError } from '../exitCode';
import { INSPECT_OPTIONS, INSPECT_OPTIONS_USAGE, TEMPLATE_ERROR_EXIT } from '../records';

type ObjectType = 'container' | 'image' | 'network' | undefined;

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

/** An image's inspect record with its manifest and config as JSON objects instead of strings (also used by the combined `inspect`). */
export function imageInspectJson(details: InspectImageResponse): Record<string, unknown> {
  return {
    ...details,
    manifest: JSON.parse(details.manifestJson),
    rawConfig: JSON.parse(details.configJson),
    manifestJson: undefined,
    configJson: undefined,
  };
}

/** One object found: Gantry's record (what inspect prints) and, for --format, Docker's shape of it. */
interface Found {
  readonly record: Record<string, unknown>;
  readonly docker: () => Promise<Record<string, unknown>>;
}

/** The image's runtime config, for Docker's Config of a container; undefined when the image is gone (`rmi -f`). */
async function imageConfigOf(client: RuntimeClient, imageId: string) {
  try {
    return imageId ? (await client.images.inspect(imageId)).config : undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function findContainer(client: RuntimeClient, name: string): Promise<Found> {
  const details = await client.containers.inspect(name);
  return {
    record: containerInspectJson(details),
    docker: async () => dockerContainer(details, await imageConfigOf(client, details.container?.imageId ?? '')),
  };
}

export async function findImage(client: RuntimeClient, name: string): Promise<Found> {
  const details = await client.images.inspect(name);
  return { record: imageInspectJson(details), docker: () => Promise.resolve(dockerImage(details)) };
}

export async function findNetwork(client: RuntimeClient, name: string): Promise<Found> {
  const network = await client.networks.inspect(name);
  return {
    record: network as unknown as Record<string, unknown>,
    docker: async () => dockerNetwork(network, await client.containers.list(true, [])),
  };
}

const FINDERS: Record<NonNullable<ObjectType>, (client: RuntimeClient, name: string) => Promise<Found>> = {
  container: findContainer,
  image: findImage,
  network: findNetwork,
};

async function inspectOne(client: RuntimeClient, name: string, type: ObjectType): Promise<Found> {
  if (type) return FINDERS[type](client, name);
  let imageMiss: unknown;
  for (const kind of ['container', 'image', 'network'] as const) {
    try {
      return await FINDERS[kind](client, name);
    } catch (e) {
      // A name that cannot be a network's (`a/b:c`) is a miss, not a mistake, once it is no container or image.
      if (!isNotFound(e) && !(kind === 'network' && isInvalidArgument(e))) throw e;
      if (kind === 'image') imageMiss = e;
    }
  }
  // Docker says "No such object"; saying which lookups failed is more use.
  throw notFound(`no such container; ${describe(imageMiss)}; no such network`, imageMiss);
}

/**
 * Prints the objects `names` name: Gantry's records as one JSON array, or
 * with --format each object's Docker-shaped record through the template
 * (one output per object and line, as `docker inspect -f` prints), or
 * `--format json` the Docker-shaped records as a JSON array.
 */
export async function inspectAll(ctx: CommandContext, names: readonly string[], type: ObjectType, format?: string): Promise<number> {
  const template = format && format.trim() !== 'json' ? parseInspectTemplate(format) : undefined;
  const found: Record<string, unknown>[] = [];
  const errors: string[] = [];
  await withClient(ctx, async (client) => {
    for (const name of names) {
      try {
        const one = await inspectOne(client, name, type);
        found.push(format ? await one.docker() : one.record);
      } catch (e) {
        if (isGantryError(e) && e.transport) throw e;
        errors.push(describe(e));
      }
    }
  });
  if (template) {
    try {
      for (const record of found) ctx.stdout.write(`${template.execute(record)}\n`);
    } catch (e) {
      throw e instanceof TemplateError ? new ExitCodeError(e, TEMPLATE_ERROR_EXIT) : e;
    }
  } else writeJson(ctx.stdout, found);
  for (const message of errors) ctx.stderr.write(`gantry: ${message}\n`);
  return errors.length ? 1 : 0;
}

function parseInspectTemplate(format: string): Template {
  try {
    // As the Docker CLI does, `\t` and `\n` typed literally are a tab and a newline.
    return Template.parse(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  } catch (e) {
    throw e instanceof TemplateError ? new ExitCodeError(e, TEMPLATE_ERROR_EXIT) : e;
  }
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show the details of containers, images or networks as JSON',
  usage: `Usage: gantry inspect [options] NAME|ID [NAME|ID...]

Print each object's record as a JSON array. A name is looked up as a
container first, then as an image, then as a network.

Options:
  --type TYPE            only look for containers, images or networks
${INSPECT_OPTIONS_USAGE}`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { type: { type: 'string' }, ...INSPECT_OPTIONS }, ctx, true);
    if (!args) return 0;
    const type = args.values.type;
    if (type !== undefined && type !== 'container' && type !== 'image' && type !== 'network')
      throw new UsageError(`--type must be container, image or network, not "${type}"`);
    if (!args.positionals.length) throw new UsageError('inspect needs at least one container or image');
    return inspectAll(ctx, args.positionals, type, args.values.format);
  },
};

export const containerInspectCommand: Command = {
  name: 'inspect',
  summary: 'show the details of containers as JSON',
  usage: `Usage: gantry container inspect CONTAINER [CONTAINER...]

Print each container's record, config and OCI runtime spec as a JSON array.

Options:
${INSPECT_OPTIONS_USAGE}`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, INSPECT_OPTIONS, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('container inspect needs at least one container');
    return inspectAll(ctx, args.positionals, 'container', args.values.format);
  },
};
