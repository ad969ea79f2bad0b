// The tools of the transfer benchmark (bench/transfer.ts), each set up in a
// fresh directory of its own with the image already in its store (not
// timed), then one timed push, save or load, and a check that it did what
// it was asked:
//
//   push  gantry `push` | `ctr images push` | `skopeo copy oci:DIR docker://`
//   save  gantry `save` | `ctr images export` | `podman save`
//   load  gantry `load` | `ctr images import` | `podman load`
//
// A push goes to a registry started for that one run (fresh storage, a new
// port): every layer is uploaded, and no tool can mount a blob from a
// repository an earlier run pushed (gantryd, containerd and skopeo's
// blob-info cache all know where blobs went before).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeClient } from '../../runtime/client/client';
import { runCommand } from '../../test/helpers/proc';
import { startRegistry, type Registry } from '../../test/helpers/registry';
import { gantryApiPull, startContainerd, startGantryd, type GantrydOptions } from './daemons';
import type { BenchImage } from './fixtures';
import { cleanup, timed } from './harness';

export const OPS = ['push', 'save', 'load'] as const;
export type Op = (typeof OPS)[number];
export const TOOLS = ['gantry', 'containerd', 'skopeo', 'podman'] as const;
export type Tool = (typeof TOOLS)[number];

/** Which tools do which operation. */
export const TOOLS_OF: Record<Op, Tool[]> = {
  push: ['gantry', 'containerd', 'skopeo'],
  save: ['gantry', 'containerd', 'podman'],
  load: ['gantry', 'containerd', 'podman'],
};

export const LABEL: Record<Op, Record<string, string>> = {
  push: { gantry: 'gantry push', containerd: 'ctr images push', skopeo: 'skopeo copy oci:DIR docker://' },
  save: { gantry: 'gantry save (docker)', containerd: 'ctr images export', podman: 'podman save (docker-archive)' },
  load: { gantry: 'gantry load', containerd: 'ctr images import (+unpack)', podman: 'podman load' },
};

export interface TransferContext {
  image: BenchImage;
  /** The archive every load reads (made once per image by `gantry save`). */
  archive: string;
  gantryJs: string;
  gantryd: GantrydOptions;
}

/** One tool ready for one timed operation. */
export interface PreparedRun {
  /** The timed operation; ms. */
  run(): Promise<number>;
  /** Fails unless the operation left what it should (a manifest in the registry, an archive, an image). */
  verify(): Promise<void>;
  stop(): Promise<void>;
}

export async function prepareRun(op: Op, tool: Tool, dir: string, ctx: TransferContext, seq: number): Promise<PreparedRun> {
  const target = op === 'push' ? await pushTarget(seq, ctx.image) : undefined;
  const file = path.join(dir, 'out.tar');
  let prepared: PreparedRun;
  try {
    if (tool === 'gantry') prepared = await prepareGantry(op, dir, ctx, file, target);
    else if (tool === 'containerd') prepared = await prepareContainerd(op, dir, ctx, file, target);
    else if (tool === 'podman') prepared = await preparePodman(op, dir, ctx, file);
    else prepared = await prepareSkopeo(dir, ctx, target!);
  } catch (e) {
    await target?.registry.stop();
    throw e;
  }
  return {
    run: prepared.run,
    verify: async () => {
      await prepared.verify();
      if (target) await target.verify();
      if (op === 'save') await verifyArchive(file, ctx.image);
    },
    stop: async () => {
      await prepared.stop();
      await target?.registry.stop();
    },
  };
}

interface PushTarget {
  registry: Registry;
  ref: string;
  verify(): Promise<void>;
}

/** A registry of its own for one push; the pushed manifest must have the source's digest. */
async function pushTarget(seq: number, image: BenchImage): Promise<PushTarget> {
  const registry = await startRegistry();
  cleanup.defer(() => registry.stop()); // on Ctrl-C; stopping twice is harmless
  const repo = `pushed/${image.id}-${seq}`;
  return {
    registry,
    ref: `${registry.host}/${repo}:v1`,
    verify: async () => {
      const res = await fetch(`${registry.url}/v2/${repo}/manifests/v1`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
      });
      const digest = res.headers.get('docker-content-digest');
      if (res.status !== 200 || digest !== image.manifestDigest) {
        throw new Error(`push to ${registry.host}/${repo}: HTTP ${res.status}, digest ${digest}; expected ${image.manifestDigest}`);
      }
    },
  };
}

/** The archive holds at least the image's layers (podman's are uncompressed, so larger). */
async function verifyArchive(file: string, image: BenchImage): Promise<void> {
  const layers = image.layers.reduce((a, l) => a + l.size, 0);
  const size = (await fs.promises.stat(file)).size;
  if (size < layers) throw new Error(`${file}: ${size} bytes, less than the image's ${layers} bytes of layers`);
}

async function prepareGantry(op: Op, dir: string, ctx: TransferContext, file: string, target?: PushTarget): Promise<PreparedRun> {
  const gantryd = await startGantryd(dir, { ...ctx.gantryd, gantryJs: ctx.gantryJs });
  const client = RuntimeClient.forSocket(gantryd.socket);
  const cli = (args: string[]) => [ctx.gantryJs, '--socket', gantryd.socket, ...args];
  const stop = async () => {
    client.close();
    await gantryd.stop();
  };
  try {
    if (op !== 'load') await gantryApiPull(client, ctx.image.ref, ctx.image.layers.length);
    if (target) await runCommand(process.execPath, cli(['tag', ctx.image.ref, target.ref]));
  } catch (e) {
    await stop();
    throw e;
  }
  const command =
    op === 'push' ? ['push', '-q', target!.ref] : op === 'save' ? ['save', '-o', file, ctx.image.ref] : ['load', '-q', '-i', ctx.archive];
  return {
    run: () => timed(process.execPath, cli(command)),
    verify: async () => {
      if (op !== 'load') return;
      const images = await client.images.list();
      if (!images.some((i) => i.target?.digest === ctx.image.manifestDigest && i.snapshotter)) {
        throw new Error(`gantry load: no unpacked image with manifest ${ctx.image.manifestDigest}`);
      }
    },
    stop,
  };
}

async function prepareContainerd(op: Op, dir: string, ctx: TransferContext, file: string, target?: PushTarget): Promise<PreparedRun> {
  const containerd = await startContainerd(dir);
  // --debug: ctr's progress UI otherwise holds the exit until its next 100 ms tick (bench/README.md, pull-content).
  const ctr = (args: string[]) => ['--debug', '-a', containerd.socket, ...args];
  try {
    if (op !== 'load') await runCommand('ctr', ctr(['images', 'pull', '--plain-http', ctx.image.ref]), { timeout: 600_000 });
    if (target) await runCommand('ctr', ctr(['images', 'tag', ctx.image.ref, target.ref]));
  } catch (e) {
    await containerd.stop();
    throw e;
  }
  const command =
    op === 'push'
      ? ['images', 'push', '--plain-http', target!.ref]
      : op === 'save'
        ? ['images', 'export', file, ctx.image.ref]
        : ['images', 'import', ctx.archive];
  return {
    run: () => timed('ctr', ctr(command)),
    verify: async () => {
      if (op !== 'load') return;
      const list = (await runCommand('ctr', ctr(['images', 'ls']))).stdout;
      if (!list.includes(ctx.image.manifestDigest)) throw new Error(`ctr images import: no image ${ctx.image.manifestDigest}:\n${list}`);
      const snapshots = (await runCommand('ctr', ctr(['snapshots', 'ls']))).stdout.trim().split('\n').length - 1;
      if (snapshots < ctx.image.layers.length) throw new Error(`ctr images import: ${snapshots} snapshots, not unpacked`);
    },
    stop: containerd.stop,
  };
}

/** podman with every dir of its own under `dir` (as bench/pull-unpack.ts runs it). */
export function podmanCommand(dir: string): { args: (a: string[]) => string[]; env: NodeJS.ProcessEnv } {
  const args = (a: string[]) => [
    '--root',
    path.join(dir, 'root'),
    '--runroot',
    path.join(dir, 'run'),
    '--tmpdir',
    path.join(dir, 'libpod'),
    '--storage-driver',
    'overlay',
    '--events-backend',
    'none',
    '--cgroup-manager',
    'cgroupfs',
    ...a,
  ];
  return { args, env: { ...process.env, TMPDIR: path.join(dir, 'tmp') } };
}

async function preparePodman(op: Op, dir: string, ctx: TransferContext, file: string): Promise<PreparedRun> {
  const podman = podmanCommand(dir);
  await fs.promises.mkdir(path.join(dir, 'tmp'), { recursive: true });
  // Storage set up (and, for save, the image pulled) before the clock, as the daemons are started before it.
  await runCommand('podman', podman.args(['images', '-q']), { env: podman.env, timeout: 60_000 });
  if (op === 'save')
    await runCommand('podman', podman.args(['pull', '-q', '--tls-verify=false', ctx.image.ref]), { env: podman.env, timeout: 600_000 });
  const command = op === 'save' ? ['save', '-q', '-o', file, ctx.image.ref] : ['load', '-q', '-i', ctx.archive];
  return {
    run: () => timed('podman', podman.args(command), { env: podman.env }),
    verify: async () => {
      if (op !== 'load') return;
      const ids = (await runCommand('podman', podman.args(['images', '-q']), { env: podman.env })).stdout.trim();
      if (!ids) throw new Error('podman load: no image stored');
    },
    stop: async () => undefined,
  };
}

/**
 * skopeo's push reads the same thing gantryd and containerd push from: the
 * image's compressed blobs in a store on local disk (an OCI layout, copied
 * from the registry before the clock), so all three upload the same bytes
 * without recompressing.
 */
async function prepareSkopeo(dir: string, ctx: TransferContext, target: PushTarget): Promise<PreparedRun> {
  const layout = `oci:${path.join(dir, 'oci')}:${ctx.image.tag}`;
  await runCommand('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ctx.image.ref}`, layout], { timeout: 600_000 });
  return {
    run: () => timed('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', layout, `docker://${target.ref}`]),
    verify: async () => undefined,
    stop: async () => undefined,
  };
}
