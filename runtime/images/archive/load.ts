/**
 * `load`: one archive stream → verified content, unpacked snapshots, then
 * image records (archive.ts has the layouts and the rules).
 *
 *   peek compression ─► tar entries ─► blobs into the content store (commit verifies)
 *                                    └► metadata (index.json, manifest.json) in memory
 *   ─► images from index.json, else manifest.json ─► unpack each ─► records
 *
 * Everything committed is held by a GC lease until the records exist.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import type { Ctx } from '../../context';
import type { Store } from '../../content/content';
import { parseReference } from '../../distribution/reference';
import { dataLoss, GantryError, invalidArgument, isAlreadyExists, isGantryError, kindOf } from '../../errdefs/errdefs';
import type { Publisher } from '../../events/events';
import type { Collector, Lease } from '../../gc/gc';
import { isIndex, isManifest, MAX_MANIFEST_BYTES, MediaTypes, type Descriptor } from '../../oci/descriptor';
import { configPlatform, parseConfig, parseIndex, parseManifest } from '../../oci/manifest';
import { decompress } from '../../unpack/decompress';
import { entryPath, quoteName } from '../../unpack/paths';
import type { Image, ImageStore } from '../images';
import { hostPlatform, selectManifest } from '../platform';
import { recordName } from '../pull';
import { putImage } from '../records';
import type { Unpacker } from '../unpacker';
import { CONTAINERD_NAME, REF_NAME } from './layout';

export interface LoadDeps {
  readonly content: Store;
  readonly images: ImageStore;
  readonly gc: Collector;
  readonly events: Publisher;
  readonly unpacker?: Unpacker;
}

/** Metadata files are small; anything bigger under these names is not one. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;
const METADATA = new Set(['manifest.json', 'index.json', 'repositories', 'oci-layout']);
/** The name an image gets when the archive names it nowhere (Docker shows such an image as <none>). */
const NAMELESS_REPOSITORY = 'localhost/loaded';

interface Stored {
  readonly digest: string;
  readonly size: number;
  /** First bytes, to tell a compressed layer from a plain tar. */
  readonly magic: Buffer;
}

interface Contents {
  readonly files: Map<string, Stored>;
  readonly metadata: Map<string, Buffer>;
}

interface Candidate {
  readonly names: string[];
  readonly target: Descriptor;
  readonly manifest: Descriptor;
}

export async function loadImages(ctx: Ctx, deps: LoadDeps, input: Readable): Promise<Image[]> {
  const lease = deps.gc.lease();
  try {
    const contents = await readArchive(ctx, deps.content, lease, await decompressed(input));
    const candidates = contents.metadata.has('index.json')
      ? await fromIndex(ctx, deps.content, contents)
      : contents.metadata.has('manifest.json')
        ? await fromDockerManifest(ctx, deps.content, lease, contents)
        : [];
    if (!candidates.length) {
      throw invalidArgument('not an image archive: it has neither an index.json (OCI layout) nor a manifest.json (docker-archive)');
    }
    // Verify and unpack everything first: a failure here leaves every record as it was.
    const prepared: Image[] = [];
    for (const c of candidates) {
      const image = await prepare(ctx, deps, lease, c);
      for (const name of c.names) prepared.push({ ...image, name });
    }
    const stored: Image[] = [];
    for (const image of prepared) stored.push(await putImage(deps.images, deps.events, image));
    return stored;
  } finally {
    lease.release();
  }
}

/** The archive's bytes, gzip or zstd undone when the first bytes say so. */
export async function decompressed(input: Readable): Promise<Readable> {
  const iterator = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < 4 && !done) {
    const r = await iterator.next();
    if (r.done) done = true;
    else {
      head.push(r.value as Buffer);
      size += (r.value as Buffer).length;
    }
  }
  const first = Buffer.concat(head);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    if (done) return;
    for (;;) {
      const r = await iterator.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  }
  const source = Readable.from(rest(), { objectMode: false });
  if (first[0] === 0x1f && first[1] === 0x8b) return Readable.from(decompress(source, 'gzip'), { objectMode: false });
  if (first.length >= 4 && first.readUInt32LE(0) === 0xfd2fb528) return Readable.from(decompress(source, 'zstd'), { objectMode: false });
  return source;
}

/** Reads every entry: blobs into the store, metadata into memory. Refuses hostile names. */
async function readArchive(ctx: Ctx, content: Store, lease: Lease, input: Readable): Promise<Contents> {
  const files = new Map<string, Stored>();
  const links = new Map<string, string>();
  const metadata = new Map<string, Buffer>();
  const extract = tar.extract();
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract);
  let sawEntry = false;
  try {
    for await (const entry of extract) {
      sawEntry = true;
      const header = entry.header;
      const name = entryPath(header.name, 'archive entry');
      if (header.type === 'symlink' || header.type === 'link') {
        // Old docker-archives link a layer shared by two images: <id>/layer.tar -> ../<other>/layer.tar.
        const base = header.type === 'symlink' ? name.split('/').slice(0, -1).join('/') : '';
        const target = resolveLink(base, header.linkname ?? '', header.name);
        links.set(name, target);
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      if (METADATA.has(name)) {
        metadata.set(name, await readSmall(entry as AsyncIterable<Buffer>, name));
        continue;
      }
      files.set(name, await storeEntry(ctx, content, lease, name, entry as AsyncIterable<Buffer>, header.size ?? 0));
    }
  } catch (e) {
    input.unpipe(extract);
    input.destroy();
    if (isGantryError(e)) throw e;
    throw invalidArgument(`archive is truncated or not a tar: ${(e as Error).message}`, e);
  }
  if (!sawEntry) throw invalidArgument('archive is empty');
  for (const [name, target] of links) {
    const stored = files.get(target);
    if (stored) files.set(name, stored);
  }
  return { files, metadata };
}

function resolveLink(base: string, linkname: string, entryName: string): string {
  if (linkname.startsWith('/')) throw invalidArgument(`archive entry ${quoteName(entryName)}: link to an absolute path`);
  const parts = base ? base.split('/') : [];
  for (const part of linkname.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!parts.length) throw invalidArgument(`archive entry ${quoteName(entryName)}: link points outside the archive`);
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

async function readSmall(entry: AsyncIterable<Buffer>, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += chunk.length;
    if (size > MAX_METADATA_BYTES) throw invalidArgument(`archive entry ${quoteName(name)} is larger than ${MAX_METADATA_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * One entry into the content store. Under `blobs/<alg>/<hex>` the name is the
 * digest the commit must match; elsewhere (old docker-archives) the content
 * is named by its own hash and checked later against the config's DiffIDs.
 */
async function storeEntry(
  ctx: Ctx,
  content: Store,
  lease: Lease,
  name: string,
  entry: AsyncIterable<Buffer>,
  size: number,
): Promise<Stored> {
  const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(name);
  const claimed = m ? `${m[1]}:${m[2]}` : undefined;
  const ref = `load-${randomUUID()}`;
  const writer = await content.writer(ctx, { ref, ...(claimed ? { expected: { digest: claimed, size } } : {}) });
  let magic = Buffer.alloc(0);
  try {
    for await (const chunk of entry) {
      if (magic.length < 4) magic = Buffer.concat([magic, chunk.subarray(0, 4 - magic.length)]);
      await writer.write(chunk);
    }
    const digest = claimed ?? writer.digest();
    lease.add(digest);
    try {
      await writer.commit(size, digest);
    } catch (e) {
      if (isAlreadyExists(e)) return { digest, size, magic };
      if (kindOf(e) === 'DataLoss')
        throw dataLoss(`archive entry ${quoteName(name)} does not match its digest: ${(e as Error).message}`, e);
      throw e;
    }
    return { digest, size, magic };
  } catch (e) {
    // A partial entry is never resumed: drop it.
    await writer.close().catch(() => undefined);
    await content.abort(ctx, ref).catch(() => undefined);
    throw e;
  } finally {
    await writer.close().catch(() => undefined);
  }
}

/** OCI layout: one candidate per index.json entry, named by its annotations. */
async function fromIndex(ctx: Ctx, content: Store, contents: Contents): Promise<Candidate[]> {
  const index = parseIndex(contents.metadata.get('index.json')!, MediaTypes.ociIndex, 'archive index.json');
  const out: Candidate[] = [];
  for (const desc of index.manifests) {
    requireBlob(contents, desc);
    let manifest = desc;
    if (isIndex(desc.mediaType)) {
      const inner = parseIndex(await content.readAll(ctx, desc.digest, MAX_MANIFEST_BYTES), desc.mediaType, `index ${desc.digest}`);
      const present = inner.manifests.filter((m) => [...contents.files.values()].some((f) => f.digest === m.digest));
      const chosen = selectManifest(present, hostPlatform()) ?? present.find((m) => isManifest(m.mediaType));
      if (!chosen) throw invalidArgument(`archive index ${desc.digest} has no manifest stored in the archive`);
      manifest = chosen;
    } else if (!isManifest(desc.mediaType)) {
      continue; // not an image (an artifact): nothing to load
    }
    out.push({ names: [nameOf(desc)], target: desc, manifest });
  }
  return out;
}

function nameOf(desc: Descriptor): string {
  const a = desc.annotations ?? {};
  for (const n of [a[CONTAINERD_NAME], a[REF_NAME]]) {
    // A ref.name that is only a tag ("latest") names no repository.
    if (!n || (n === a[REF_NAME] && !/[/:]/.test(n))) continue;
    try {
      const ref = parseReference(n);
      return ref.tag ? `${ref.name}:${ref.tag}` : `${ref.name}@${desc.digest}`;
    } catch {
      // Not a reference: try the next annotation.
    }
  }
  return `${NAMELESS_REPOSITORY}@${desc.digest}`;
}

/** docker-archive: a manifest built per manifest.json entry (config and layers as the archive has them). */
async function fromDockerManifest(ctx: Ctx, content: Store, lease: Lease, contents: Contents): Promise<Candidate[]> {
  let entries: { Config?: unknown; RepoTags?: unknown; Layers?: unknown }[];
  try {
    entries = JSON.parse(contents.metadata.get('manifest.json')!.toString());
    if (!Array.isArray(entries)) throw new Error('not a list');
  } catch (e) {
    throw invalidArgument(`archive manifest.json is malformed: ${(e as Error).message}`);
  }
  const out: Candidate[] = [];
  for (const e of entries) {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers))
      throw invalidArgument('archive manifest.json entry lacks Config or Layers');
    const config = fileOf(contents, e.Config);
    const layers = e.Layers.map((l) => {
      const f = fileOf(contents, String(l));
      return { mediaType: layerType(f.magic), digest: f.digest, size: f.size };
    });
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: config.digest, size: config.size },
        layers,
      }),
    );
    const manifest = await storeDocument(ctx, content, lease, manifestBytes, MediaTypes.ociManifest);
    const tags = Array.isArray(e.RepoTags) ? e.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    const names = tags.map((t) => {
      const ref = parseReference(t);
      return recordName(ref, manifest);
    });
    out.push({ names: names.length ? names : [`${NAMELESS_REPOSITORY}@${manifest.digest}`], target: manifest, manifest });
  }
  return out;
}

function fileOf(contents: Contents, name: string): Stored {
  const f = contents.files.get(entryPath(name, 'manifest.json path'));
  if (!f) throw invalidArgument(`archive is incomplete: manifest.json names ${quoteName(name)}, which is not in it`);
  return f;
}

function requireBlob(contents: Contents, desc: Descriptor): void {
  if (![...contents.files.values()].some((f) => f.digest === desc.digest)) {
    throw invalidArgument(`archive is incomplete: it lacks blob ${desc.digest}`);
  }
}

function layerType(magic: Buffer): string {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return MediaTypes.ociLayerGzip;
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528) return MediaTypes.ociLayerZstd;
  return MediaTypes.ociLayer;
}

async function storeDocument(ctx: Ctx, content: Store, lease: Lease, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const writer = await content.writer(ctx, { ref: `load-${randomUUID()}` });
  try {
    await writer.write(bytes);
    const digest = writer.digest();
    lease.add(digest);
    try {
      await writer.commit(bytes.length, digest);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    return { mediaType, digest, size: bytes.length };
  } finally {
    await writer.close();
  }
}

/** Checks the manifest's blobs and config, unpacks the layers (each DiffID verified): the image, less its name. */
async function prepare(ctx: Ctx, deps: LoadDeps, lease: Lease, c: Candidate): Promise<Image> {
  const manifest = parseManifest(await deps.content.readAll(ctx, c.manifest.digest, MAX_MANIFEST_BYTES), c.manifest.mediaType);
  for (const b of [manifest.config, ...manifest.layers]) {
    try {
      const info = await deps.content.info(ctx, b.digest);
      if (info.size !== b.size) throw dataLoss(`archive blob ${b.digest} is ${info.size} bytes, its manifest says ${b.size}`);
    } catch (e) {
      if (kindOf(e) === 'NotFound') throw invalidArgument(`archive is incomplete: it lacks blob ${b.digest}`);
      throw e;
    }
  }
  const config = parseConfig(await deps.content.readAll(ctx, manifest.config.digest, 16 * 1024 * 1024));
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw invalidArgument(
      `archive image ${c.manifest.digest}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  let snapshot: Image['snapshot'];
  if (deps.unpacker && manifest.layers.length) {
    const job = deps.unpacker.start(ctx, manifest.layers, config.rootfs.diff_ids, () => undefined);
    for (const chain of job.chain) lease.add(chain);
    manifest.layers.forEach((_, i) => job.layerFetched(i));
    try {
      snapshot = { snapshotter: deps.unpacker.snapshotterName, chainId: await job.done };
    } catch (e) {
      if (kindOf(e) === 'DataLoss' || kindOf(e) === 'InvalidArgument') {
        throw new GantryError(kindOf(e), `archive layer does not match the image config: ${(e as Error).message}`, { cause: e });
      }
      throw e;
    }
  }
  const now = new Date();
  return {
    name: '',
    target: c.target,
    manifest: c.manifest,
    platform: c.manifest.platform ?? configPlatform(config),
    id: manifest.config.digest,
    size: manifest.config.size + manifest.layers.reduce((s, l) => s + l.size, 0),
    created: config.created,
    ...(snapshot ? { snapshot } : {}),
    createdAt: now,
    updatedAt: now,
    labels: {},
  };
}
