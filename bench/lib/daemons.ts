// gantryd and containerd as the benchmarks run them: each in a fresh
// directory of its own (root, state, socket), started before the clock
// starts, stopped after.
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../runtime/client/daemonFlags';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeClient } from '../../runtime/client/client';
import { BlobStatus, type ImageSummary } from '../../runtime/api/gen/gantry/v1/images';
import { type Proc, runCommand } from '../../test/helpers/proc';
import { start, timed } from './harness';
import { GANTRY_JS, REPO } from './report';

export interface GantrydOptions {
  /** Extra daemon arguments (e.g. --max-concurrent-downloads=10). */
  args?: readonly string[];
  /** Run under `node --cpu-prof`, writing PROFILE_DIR/NAME.cpuprofile when the daemon exits. */
  profile?: { dir: string; name: string };
  /** The bundle to run (default dist/gantry.js), e.g. a copy taken at start so a rebuild mid-run changes nothing. */
  gantryJs?: string;
}

export interface Gantryd {
  proc: Proc;
  socket: string;
  /** The daemon's --root. */
  root: string;
  /** SIGTERM and wait; fails if the daemon exited with an error. */
  stop(): Promise<void>;
}

/** Resolves once a gantryd started as `proc` answers Version on `socket`; stops `proc` and throws when it does not in time. */
export async function untilAnswering(
  proc: Proc,
  socket: string,
  wait: { readonly what: string; readonly timeout: number; readonly interval: number },
): Promise<void> {
  const client = RuntimeClient.forSocket(socket);
  try {
    await proc.waitFor(
      () =>
        fs.existsSync(socket) &&
        client.system.version({ timeoutMs: 2_000 }).then(
          () => true,
          () => false,
        ),
      wait,
    );
  } catch (e) {
    await proc.stop();
    throw e;
  } finally {
    client.close();
  }
}

/** Starts gantryd with root and state under `dir`; resolves once it answers on its socket. */
export async function startGantryd(dir: string, opts: GantrydOptions = {}): Promise<Gantryd> {
  const root = path.join(dir, 'root');
  const state = path.join(dir, 'state');
  const socket = path.join(state, 'gantry.sock');
  const nodeArgs: string[] = [...DAEMON_NODE_FLAGS];
  if (opts.profile) {
    fs.mkdirSync(opts.profile.dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${opts.profile.dir}`, `--cpu-prof-name=${opts.profile.name}.cpuprofile`);
  }
  const proc = start(
    process.execPath,
    [...nodeArgs, opts.gantryJs ?? GANTRY_JS, 'daemon', '--root', root, '--state', state, ...(opts.args ?? [])],
    { name: 'gantryd', env: { ...process.env, ...DAEMON_ENV } },
  );
  await untilAnswering(proc, socket, { what: `gantryd answering on ${socket}`, timeout: 30_000, interval: 20 });
  return {
    proc,
    socket,
    root,
    stop: async () => {
      const status = await proc.stop(10_000);
      if (status.code !== 0 && status.signal !== 'SIGTERM') throw new Error(`gantryd exited ${JSON.stringify(status)}:\n${proc.stderr}`);
    },
  };
}

export interface Containerd {
  proc: Proc;
  socket: string;
  root: string;
  stop(): Promise<void>;
}

/** containerd's CRI plugin, enabled (bench/cri.ts): its pause image, CNI dirs and a runc root of the run's own. */
export interface ContainerdCri {
  /** The sandbox (pause) image, in the run's loopback registry. */
  sandboxImage: string;
  /** Registry host served over plain HTTP (a mirror entry with an http:// endpoint). */
  plainHttpRegistry: string;
  cniBinDir: string;
  /** Holds the run's own conflist (its own bridge and subnet). */
  cniConfDir: string;
  /** runc --root for the shims (they add the namespace, k8s.io), instead of /run/containerd/runc. */
  runcRoot: string;
}

/** The config lines that enable the CRI plugin with `cri`'s settings (containerd 1.6, config version 2). */
function criConfig(cri: ContainerdCri): string[] {
  const p = '[plugins."io.containerd.grpc.v1.cri"';
  return [
    `${p}]`,
    `  sandbox_image = ${JSON.stringify(cri.sandboxImage)}`,
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  enable_selinux = false',
    // The sandbox's oom_score_adj (-998) is below what this host lets a process set (runc: "failed to update
    // /proc/self/oom_score_adj: Permission denied"): containerd then uses its own score as the floor.
    '  restrict_oom_score_adj = true',
    `${p}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `${p}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `${p}.containerd.runtimes.runc.options]`,
    `  Root = ${JSON.stringify(cri.runcRoot)}`,
    '  SystemdCgroup = false',
    `${p}.cni]`,
    `  bin_dir = ${JSON.stringify(cri.cniBinDir)}`,
    `  conf_dir = ${JSON.stringify(cri.cniConfDir)}`,
    '  max_conf_num = 1',
    `${p}.registry.mirrors.${JSON.stringify(cri.plainHttpRegistry)}]`,
    `  endpoint = [${JSON.stringify(`http://${cri.plainHttpRegistry}`)}]`,
  ];
}

/**
 * Starts a containerd (never the system one) with root, state, socket and
 * config under `dir`: CRI disabled unless `cri` is given, no debug/metrics
 * listeners, nothing under /var/lib or /run (with CRI, containerd 1.6 still
 * makes its pods' network namespaces under /var/run/netns and removes them
 * with the pods). Its default snapshotter is overlayfs.
 */
export async function startContainerd(dir: string, cri?: ContainerdCri): Promise<Containerd> {
  const root = path.join(dir, 'root');
  const state = path.join(dir, 'state');
  const socket = path.join(state, 'containerd.sock');
  const config = path.join(dir, 'config.toml');
  await fs.promises.mkdir(dir, { recursive: true });
  await fs.promises.writeFile(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      ...(cri ? [] : ['disabled_plugins = ["io.containerd.grpc.v1.cri"]']),
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(socket + '.ttrpc')}`,
      '[debug]',
      '  address = ""',
      '  level = "warn"',
      '[metrics]',
      '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(path.join(root, 'opt'))}`,
      ...(cri ? criConfig(cri) : []),
      '',
    ].join('\n'),
  );
  const proc = start('containerd', ['--config', config], { name: 'containerd' });
  try {
    await proc.waitFor(
      () =>
        fs.existsSync(socket) &&
        runCommand('ctr', ['-a', socket, 'version'], { timeout: 5_000 }).then(
          () => true,
          () => false,
        ),
      { what: `containerd answering on ${socket}`, timeout: 30_000, interval: 20 },
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return {
    proc,
    socket,
    root,
    stop: async () => {
      await proc.stop(10_000);
    },
  };
}

/** `gantry pull REF` against `socket`, spawn to exit (Node start-up and CLI included); ms. */
export function gantryCliPull(socket: string, ref: string): Promise<number> {
  return timed(process.execPath, [GANTRY_JS, '--socket', socket, 'pull', ref]);
}

/** The image record gantryd keeps for a manifest (after a pull). */
export async function gantryImageRecord(client: RuntimeClient, manifestDigest: string): Promise<ImageSummary | undefined> {
  return (await client.images.list()).find((i) => i.target?.digest === manifestDigest);
}

export interface ApiPull {
  /** Call to last message, ms. */
  ms: number;
  /** When the config and every layer were committed to the content store (DONE or EXISTS). */
  fetchMs?: number;
  /** When the last layer was applied to its snapshot (EXTRACTED). */
  extractedMs?: number;
  summary: ImageSummary;
}

/**
 * The Pull RPC made in-process over a connected client: the daemon-side time
 * without the CLI, and when the fetch and the unpack parts ended.
 */
export async function gantryApiPull(client: RuntimeClient, ref: string, layerCount: number): Promise<ApiPull> {
  const committed = new Set<string>();
  const extracted = new Set<string>();
  let fetchMs: number | undefined;
  let extractedMs: number | undefined;
  let summary: ImageSummary | undefined;
  const t0 = performance.now();
  for await (const m of client.images.pull({ reference: ref })) {
    if (m.kind?.$case === 'blob') {
      const { status, digest } = m.kind.value;
      if (status === BlobStatus.BLOB_STATUS_DONE || status === BlobStatus.BLOB_STATUS_EXISTS) {
        committed.add(digest);
        if (committed.size === layerCount + 1) fetchMs = performance.now() - t0; // + config
      } else if (status === BlobStatus.BLOB_STATUS_EXTRACTED) {
        extracted.add(digest);
        if (extracted.size === layerCount) extractedMs = performance.now() - t0;
      }
    } else if (m.kind?.$case === 'image') {
      summary = m.kind.value;
    }
  }
  const ms = performance.now() - t0;
  if (!summary) throw new Error(`gantryd ended the pull of ${ref} without an image`);
  return { ms, fetchMs, extractedMs, summary };
}

/**
 * The bundle the run measures, built from the sources into the work dir
 * (others rebuild dist/ while a run goes on, and a daemon and a CLI from
 * two builds would measure neither): what ships — the production
 * (minified) bundle `npm run package` puts in the .vsix — unless
 * `sourceMaps` (--profile: profile-summary maps frames through the .map
 * beside the bundle the profile names), which builds the development one.
 */
export async function snapshotDist(dest: string, sourceMaps = false): Promise<{ gantryJs: string; builtAt: string }> {
  await fs.promises.rm(dest, { recursive: true, force: true });
  const mode = sourceMaps ? [] : ['--production'];
  await runCommand(process.execPath, [path.join(REPO, 'esbuild.js'), ...mode, '--runtime-only', '--outdir', dest], { cwd: REPO });
  return { gantryJs: path.join(dest, 'gantry.js'), builtAt: new Date().toISOString() };
}
