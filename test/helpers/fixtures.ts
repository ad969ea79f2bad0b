// Fixture images built here from parts no one on the project wrote: umoci
// builds an OCI layout (one layer: Debian's static busybox + a few files),
// skopeo pushes it to a test registry as OCI or Docker schema2, single-arch or
// multi-arch (OCI index / Docker manifest list).
//
// Layouts are cached per test run (one temp dir, removed at exit), so a suite
// builds each distinct image once however many registries it pushes to.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from './tmp';
import { runCommand } from './proc';

export type ManifestFormat = 'oci' | 'v2s2';

export interface ImageSpec {
  /** Config architecture (the busybox binary is always the host's amd64 one). */
  arch?: 'amd64' | 'arm64';
  entrypoint?: string[];
  /** Default ['/bin/sh']. */
  cmd?: string[];
  /** Default ['PATH=/usr/sbin:/usr/bin:/sbin:/bin']. */
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** EXPOSE: "80/tcp", "53/udp". */
  exposedPorts?: string[];
  /** Contents of /etc/gantry-fixture; default "busybox-<arch>". */
  marker?: string;
  /** Extra files for the layer: absolute path in the image → content. */
  files?: Record<string, string>;
  /** Host files copied into the layer: absolute path in the image → host path and mode (set-id bits are kept). */
  copies?: Record<string, { source: string; mode: number }>;
  /** Empty directories (mode 0755). */
  dirs?: string[];
  /** Symlinks: absolute path in the image → target as written. */
  links?: Record<string, string>;
  /** Owner and mode set last on paths already made (files, dirs): absolute path → uid, gid, mode. */
  owners?: Record<string, { uid: number; gid: number; mode: number }>;
  /** VOLUME entries of the config: absolute paths. */
  volumes?: string[];
}

/** Where to push; a Registry from registry.ts fits as is. */
export interface PushTarget {
  host: string;
  /** CA to verify the registry with; must be a *.crt alone in its dir (skopeo reads the dir). */
  caPath?: string;
  creds?: { username: string; password: string };
}

export interface PushOptions {
  format?: ManifestFormat;
  /** Override the target's own creds (e.g. to test a rejected push). */
  creds?: { username: string; password: string };
  image?: ImageSpec;
}

export interface PushedImage {
  /** "HOST/NAME:TAG" */
  ref: string;
  manifestDigest: string;
  mediaType: string;
  /** Raw manifest exactly as the registry serves it. */
  manifestRaw: string;
  configDigest: string;
  layerDigests: string[];
}

export interface PushedIndex {
  ref: string;
  manifestDigest: string;
  mediaType: string;
  manifestRaw: string;
  /** One entry per platform, with that image's own manifest details. */
  images: (PushedImage & { platform: { os: string; architecture: string } })[];
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const BUSYBOX = '/bin/busybox';
const DEFAULT_ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'];

/** Push a single-arch busybox image; returns what the registry now serves. */
export async function pushBusybox(target: PushTarget, name: string, opts: PushOptions = {}): Promise<PushedImage> {
  const { layout, tag } = await buildImage(opts.image ?? {});
  const ref = `${target.host}/${name}`;
  const digest = await skopeoCopy(target, opts, `oci:${layout}:${tag}`, ref, false);
  return inspectImage(target, opts, ref, digest);
}

/**
 * Push a linux/amd64 + linux/arm64 image as an OCI index (format 'oci') or a
 * Docker manifest list (format 'v2s2'). The arm64 image differs by its config
 * architecture and its /etc/gantry-fixture marker ("busybox-arm64").
 */
export async function pushMultiArch(target: PushTarget, name: string, opts: Omit<PushOptions, 'image'> = {}): Promise<PushedIndex> {
  const { layout, tag } = await buildIndex();
  const ref = `${target.host}/${name}`;
  const digest = await skopeoCopy(target, opts, `oci:${layout}:${tag}`, ref, true);
  const raw = await inspectRaw(target, opts, ref);
  const index = JSON.parse(raw) as { mediaType: string; manifests: { digest: string; platform: { os: string; architecture: string } }[] };
  const repo = ref.slice(0, ref.lastIndexOf(':'));
  const images = [];
  for (const m of index.manifests) {
    images.push({ ...(await inspectImage(target, opts, `${repo}@${m.digest}`, m.digest)), platform: m.platform });
  }
  return { ref, manifestDigest: digest, mediaType: index.mediaType, manifestRaw: raw, images };
}

// ---- building (cached) ----

let layoutDir: Promise<string> | undefined;
const built = new Map<string, Promise<string>>();
// umoci rewrites the layout's index.json on every command: one build at a time.
let queue: Promise<unknown> = Promise.resolve();

function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

async function layout(): Promise<string> {
  layoutDir ??= (async () => {
    const dir = path.join(await makeTempDir('gfx'), 'oci');
    await runCommand('umoci', ['init', '--layout', dir]);
    return dir;
  })();
  return layoutDir;
}

/** Build (once per run) the image for `spec`; returns its layout and tag. */
export async function buildImage(spec: ImageSpec): Promise<{ layout: string; tag: string }> {
  // arch first and defaulted, so {} and { arch: 'amd64' } share one build.
  const key = JSON.stringify({ arch: spec.arch ?? 'amd64', ...spec });
  let tag = built.get(key);
  if (!tag) {
    tag = serialized(() => buildUncached(spec, 'i' + sha256(key).slice(0, 16)));
    built.set(key, tag);
    tag.catch(() => built.delete(key));
  }
  return { layout: await layout(), tag: await tag };
}

async function buildUncached(spec: ImageSpec, tag: string): Promise<string> {
  const dir = await layout();
  const image = `${dir}:${tag}`;
  const bundle = path.join(path.dirname(dir), `bundle-${tag}`);
  await runCommand('umoci', ['new', '--image', image]);
  await runCommand('umoci', ['unpack', '--image', image, bundle]);
  await populateRootfs(path.join(bundle, 'rootfs'), spec);
  await runCommand('umoci', ['repack', '--image', image, bundle]);
  await fs.promises.rm(bundle, { recursive: true, force: true });

  const args = ['config', '--image', image, '--architecture', spec.arch ?? 'amd64', '--os', 'linux'];
  for (const e of spec.env ?? DEFAULT_ENV) args.push('--config.env', e);
  for (const e of spec.entrypoint ?? []) args.push('--config.entrypoint', e);
  for (const c of spec.cmd ?? ['/bin/sh']) args.push('--config.cmd', c);
  if (spec.workingDir) args.push('--config.workingdir', spec.workingDir);
  if (spec.user) args.push('--config.user', spec.user);
  for (const [k, v] of Object.entries(spec.labels ?? {})) args.push('--config.label', `${k}=${v}`);
  for (const p of spec.exposedPorts ?? []) args.push('--config.exposedports', p);
  for (const v of spec.volumes ?? []) args.push('--config.volume', v);
  await runCommand('umoci', args);
  return tag;
}

export async function populateRootfs(rootfs: string, spec: ImageSpec): Promise<void> {
  for (const d of ['bin', 'etc', 'root', 'proc', 'sys', 'dev', 'var', 'tmp']) {
    await fs.promises.mkdir(path.join(rootfs, d), { recursive: true });
  }
  await fs.promises.chmod(path.join(rootfs, 'tmp'), 0o1777);
  await fs.promises.copyFile(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  await fs.promises.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
  // Every applet as a relative symlink (/bin/sh -> busybox …), like busybox --install -s.
  const applets = (await runCommand(BUSYBOX, ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) await fs.promises.symlink('busybox', path.join(rootfs, 'bin', a));
  const files: Record<string, string> = {
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    '/etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    '/etc/gantry-fixture': `${spec.marker ?? `busybox-${spec.arch ?? 'amd64'}`}\n`,
    '/hello.txt': 'hello from a gantry fixture image\n',
    ...spec.files,
  };
  for (const [p, content] of Object.entries(files)) {
    const dest = path.join(rootfs, p);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });
    await fs.promises.writeFile(dest, content);
  }
  for (const d of spec.dirs ?? []) await fs.promises.mkdir(path.join(rootfs, d), { recursive: true, mode: 0o755 });
  for (const [p, { source, mode }] of Object.entries(spec.copies ?? {})) {
    const dest = path.join(rootfs, p);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });
    await fs.promises.copyFile(source, dest);
    // chmod after the copy (and no chown after it): chown would clear the set-id bits.
    await fs.promises.chmod(dest, mode);
  }
  for (const [p, target] of Object.entries(spec.links ?? {})) {
    const dest = path.join(rootfs, p);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });
    await fs.promises.symlink(target, dest);
  }
  for (const [p, { uid, gid, mode }] of Object.entries(spec.owners ?? {})) {
    await fs.promises.lchown(path.join(rootfs, p), uid, gid);
    await fs.promises.chmod(path.join(rootfs, p), mode);
  }
}

let indexTag: Promise<string> | undefined;

/**
 * An OCI layout tag whose descriptor is an image index (amd64 + arm64, with
 * platform fields). skopeo 1.9 copies it with --all, and converts it to a
 * Docker manifest list with --format v2s2.
 */
async function buildIndex(): Promise<{ layout: string; tag: string }> {
  indexTag ??= (async () => {
    const amd = await buildImage({ arch: 'amd64' });
    const arm = await buildImage({ arch: 'arm64' });
    return serialized(async () => {
      const indexPath = path.join(amd.layout, 'index.json');
      const top = JSON.parse(await fs.promises.readFile(indexPath, 'utf8')) as { manifests: Descriptor[] };
      const byTag = (t: string) => top.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === t)!;
      const platformDesc = (d: Descriptor, architecture: string) => ({
        mediaType: d.mediaType,
        digest: d.digest,
        size: d.size,
        platform: { architecture, os: 'linux' },
      });
      const blob = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [platformDesc(byTag(amd.tag), 'amd64'), platformDesc(byTag(arm.tag), 'arm64')],
      });
      const digest = sha256(blob);
      await fs.promises.writeFile(path.join(amd.layout, 'blobs/sha256', digest), blob);
      const tag = 'multiarch';
      top.manifests.push({
        mediaType: OCI_INDEX,
        digest: `sha256:${digest}`,
        size: Buffer.byteLength(blob),
        annotations: { 'org.opencontainers.image.ref.name': tag },
      });
      await fs.promises.writeFile(indexPath, JSON.stringify(top));
      return tag;
    });
  })();
  return { layout: await layout(), tag: await indexTag };
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

// ---- pushing / inspecting with skopeo ----

function registryFlags(target: PushTarget, opts: PushOptions, dir: 'dest' | 'src' | ''): string[] {
  const p = dir ? `--${dir}-` : '--';
  const flags = target.caPath ? [`${p}tls-verify=true`, `${p}cert-dir`, path.dirname(target.caPath)] : [`${p}tls-verify=false`];
  const creds = opts.creds ?? target.creds;
  if (creds) flags.push(`${p}creds`, `${creds.username}:${creds.password}`);
  return flags;
}

/** skopeo copy; returns the digest of the manifest (or list) it wrote. */
async function skopeoCopy(target: PushTarget, opts: PushOptions, src: string, ref: string, all: boolean): Promise<string> {
  const digestFile = path.join(path.dirname(await layout()), `digest-${crypto.randomUUID()}`);
  const args = ['copy', '--quiet', '--digestfile', digestFile, '--format', opts.format ?? 'oci', ...registryFlags(target, opts, 'dest')];
  if (all) args.push('--all');
  await runCommand('skopeo', [...args, src, `docker://${ref}`]);
  const digest = (await fs.promises.readFile(digestFile, 'utf8')).trim();
  await fs.promises.rm(digestFile, { force: true });
  return digest;
}

async function inspectRaw(target: PushTarget, opts: PushOptions, ref: string): Promise<string> {
  return (await runCommand('skopeo', ['inspect', '--raw', ...registryFlags(target, opts, ''), `docker://${ref}`])).stdout;
}

async function inspectImage(target: PushTarget, opts: PushOptions, ref: string, digest: string): Promise<PushedImage> {
  const raw = await inspectRaw(target, opts, ref);
  const m = JSON.parse(raw) as { mediaType?: string; config: { digest: string; mediaType: string }; layers: { digest: string }[] };
  if (`sha256:${sha256(raw)}` !== digest) throw new Error(`skopeo inspect ${ref}: manifest does not match ${digest}`);
  return {
    ref,
    manifestDigest: digest,
    // umoci's OCI manifests omit the optional mediaType field; the config type tells them apart.
    mediaType: m.mediaType ?? (m.config.mediaType === 'application/vnd.oci.image.config.v1+json' ? OCI_MANIFEST : DOCKER_MANIFEST),
    manifestRaw: raw,
    configDigest: m.config.digest,
    layerDigests: m.layers.map((l) => l.digest),
  };
}

function sha256(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

// ---- images of hand-made layers ----

export interface RawLayer {
  /** The blob as the registry serves it. */
  blob: Buffer;
  mediaType: string;
  diffId: string;
}

/**
 * Pushes an image whose layers are given as blobs (compression bombs and the
 * like, which umoci would have to expand): a minimal OCI layout is written
 * next to the fixture layouts and copied with skopeo, blobs unchanged.
 */
export async function pushLayers(
  target: PushTarget,
  name: string,
  layers: readonly RawLayer[],
  /** More fields of the image config (history, created, config). */
  configFields: Record<string, unknown> = {},
): Promise<PushedImage> {
  const dir = path.join(path.dirname(await layout()), `raw-${crypto.randomUUID()}`);
  const blobs = path.join(dir, 'blobs', 'sha256');
  await fs.promises.mkdir(blobs, { recursive: true });
  const put = async (data: Buffer | string, mediaType: string) => {
    const digest = sha256(data);
    await fs.promises.writeFile(path.join(blobs, digest), data);
    return { mediaType, digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const config = await put(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      ...configFields,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
    'application/vnd.oci.image.config.v1+json',
  );
  const layerDescs = [];
  for (const l of layers) layerDescs.push(await put(l.blob, l.mediaType));
  const manifest = await put(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: layerDescs }), OCI_MANIFEST);
  await fs.promises.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await fs.promises.writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'raw' } }] }),
  );
  const ref = `${target.host}/${name}`;
  try {
    const digest = await skopeoCopy(target, {}, `oci:${dir}:raw`, ref, false);
    return await inspectImage(target, {}, ref, digest);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}
