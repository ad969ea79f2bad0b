/**
 * `save`: images → one tar stream (see archive.ts for both layouts).
 *
 * Blobs are streamed from the content store into the tar one at a time
 * (each once, however many images share it); only the small JSON documents
 * are built in memory. Everything an image needs is checked to be stored
 * before the first byte is produced, so a missing blob is an error of the
 * call, not a truncated archive.
 */
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import type { Ctx } from '../../context';
import type { Store } from '../../content/content';
import { familiarName, familiarString, parseReference } from '../../distribution/reference';
import { notFound } from '../../errdefs/errdefs';
import { MAX_MANIFEST_BYTES, type Descriptor } from '../../oci/descriptor';
import { parseManifest } from '../../oci/manifest';
import { imageClosure, isComplete } from '../closure';
import { isUntagged, tagOf, type Image } from '../images';
import { blobPath, OCI_LAYOUT, REF_NAME, CONTAINERD_NAME, type ArchiveFormat } from './layout';

interface Planned {
  readonly image: Image;
  readonly top: Descriptor;
  /** The manifest whose config and layers manifest.json lists. */
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layers: Descriptor[];
  /** Every blob, documents included, in write order. */
  readonly blobs: Descriptor[];
}

/** Checks every image and blob first, then returns the archive as a stream. */
export async function saveImages(ctx: Ctx, content: Store, images: readonly Image[], format: ArchiveFormat): Promise<Readable> {
  const planned: Planned[] = [];
  for (const image of images) planned.push(await plan(ctx, content, image));
  const pack = tar.pack();
  write(ctx, content, pack, planned, format).then(
    () => pack.finalize(),
    (e: unknown) => pack.destroy(e as Error),
  );
  // tar-stream's Pack is a streamx Readable; node:stream's wrapper gives callers the usual API.
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

async function plan(ctx: Ctx, content: Store, image: Image): Promise<Planned> {
  const { top, manifests } = await imageClosure(ctx, content, image);
  const blobs: Descriptor[] = [];
  let own: { manifest: Descriptor; config: Descriptor; layers: Descriptor[] } | undefined;
  if (top.digest !== manifests[0]?.digest || manifests.length > 1) blobs.push(top);
  for (const m of manifests) {
    if (!(await isComplete(ctx, content, m))) throw notFound(`image ${image.name}: content of manifest ${m.digest} is missing`);
    const parsed = parseManifest(await content.readAll(ctx, m.digest, MAX_MANIFEST_BYTES), m.mediaType);
    blobs.push(m, parsed.config, ...parsed.layers);
    if (m.digest === image.manifest.digest || !own) own = { manifest: m, config: parsed.config, layers: parsed.layers };
  }
  return { image, top, ...own!, blobs };
}

async function write(ctx: Ctx, content: Store, pack: tar.Pack, planned: readonly Planned[], format: ArchiveFormat): Promise<void> {
  const written = new Set<string>();
  for (const p of planned) {
    for (const blob of p.blobs) {
      if (written.has(blob.digest)) continue;
      written.add(blob.digest);
      await addStream(pack, blobPath(blob.digest), blob.size, await content.read(ctx, blob.digest));
    }
  }
  await addFile(pack, 'oci-layout', Buffer.from(JSON.stringify(OCI_LAYOUT)));
  await addFile(pack, 'index.json', Buffer.from(JSON.stringify(indexJson(planned))));
  if (format === 'docker') {
    await addFile(pack, 'manifest.json', Buffer.from(JSON.stringify(manifestJson(planned))));
    await addFile(pack, 'repositories', Buffer.from(JSON.stringify(repositories(planned))));
  }
}

/** OCI index.json: one entry per name, with its full name and its tag as the ref name. */
function indexJson(planned: readonly Planned[]): unknown {
  return {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: planned.map((p) => {
      const annotations: Record<string, string> = { [CONTAINERD_NAME]: p.image.name };
      const tag = tagOf(p.image.name);
      if (tag) annotations[REF_NAME] = tag;
      return { mediaType: p.top.mediaType, digest: p.top.digest, size: p.top.size, annotations };
    }),
  };
}

/** Docker's manifest.json: one entry per image ID, carrying every tag saved for it. */
function manifestJson(planned: readonly Planned[]): unknown[] {
  const byConfig = new Map<string, { Config: string; RepoTags: string[]; Layers: string[] }>();
  for (const p of planned) {
    let entry = byConfig.get(p.config.digest);
    if (!entry) {
      entry = { Config: blobPath(p.config.digest), RepoTags: [], Layers: p.layers.map((l) => blobPath(l.digest)) };
      byConfig.set(p.config.digest, entry);
    }
    if (!isUntagged(p.image.name)) entry.RepoTags.push(familiarString(parseReference(p.image.name)));
  }
  return [...byConfig.values()];
}

/** The legacy `repositories` file: familiar repository → tag → top layer ID. */
function repositories(planned: readonly Planned[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const p of planned) {
    const tag = tagOf(p.image.name);
    const top = p.layers[p.layers.length - 1];
    if (!tag || !top) continue;
    const repo = familiarName(parseReference(p.image.name));
    (out[repo] ??= {})[tag] = top.digest.slice(top.digest.indexOf(':') + 1);
  }
  return out;
}

const MTIME = new Date(0);

async function addFile(pack: tar.Pack, name: string, data: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    pack.entry({ name, size: data.length, mode: 0o644, mtime: MTIME }, data, (e) => (e ? reject(e) : resolve()));
  });
}

async function addStream(pack: tar.Pack, name: string, size: number, source: Readable): Promise<void> {
  // The reader went away (a cancelled save): stop reading the blob.
  let onClose: () => void = () => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name, size, mode: 0o644, mtime: MTIME }, (e) => (e ? reject(e) : resolve()));
      source.on('error', (e) => {
        entry.destroy(e);
        reject(e);
      });
      onClose = () => {
        source.destroy();
        reject(new Error('archive stream closed'));
      };
      pack.once('close', onClose);
      source.pipe(entry);
    });
  } finally {
    pack.off('close', onClose);
  }
}
