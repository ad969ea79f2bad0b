/**
 * Making an image here rather than fetching one (commit, import): one new
 * layer gzip-compressed into the content store with its DiffID counted on
 * the way, a config and manifest written beside it, the chain unpacked into
 * snapshots (layers already unpacked are reused: only the new one is
 * applied, with the applier's rules for hostile entries), then the record.
 * Every blob is held by a GC lease until the record exists; a failure
 * before it leaves no record (docs/transfer.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import { parseReference } from '../distribution/reference';
import { invalidArgument, isAlreadyExists } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import type { Collector, Lease } from '../gc/gc';
import { MediaTypes, type Descriptor } from '../oci/descriptor';
import type { ImageConfig } from '../oci/manifest';
import type { Image, ImageStore } from './images';
import { putImage } from './records';
import type { Unpacker } from './unpacker';

export interface NewImageDeps {
  readonly content: Store;
  readonly images: ImageStore;
  readonly gc: Collector;
  readonly events: Publisher;
  readonly unpacker: Unpacker;
}

export interface NewImage {
  /** The layers below the new one, as the base manifest lists them (empty for import). */
  readonly baseLayers: readonly Descriptor[];
  /** Docker's schema 2 media types when the base image uses them, else OCI's. */
  readonly docker: boolean;
  /** The config without the new layer's DiffID, which is appended. */
  readonly config: ImageConfig;
  /** The new layer, an uncompressed tar. */
  readonly layer: AsyncIterable<Buffer>;
  /** REPO[:TAG], or '' for an untagged image named `<untaggedRepository>@<digest>`. */
  readonly reference: string;
  readonly untaggedRepository: string;
}

/** The name a reference gives a new image: `:latest` implied, a digest refused. */
export function newImageName(reference: string): string {
  const ref = parseReference(reference);
  if (ref.digest) throw invalidArgument(`cannot name a new image with a digest reference: ${reference}`);
  return `${ref.name}:${ref.tag}`;
}

export async function createImage(ctx: Ctx, deps: NewImageDeps, spec: NewImage): Promise<Image> {
  const name = spec.reference ? newImageName(spec.reference) : '';
  const lease = deps.gc.lease();
  try {
    const { descriptor, diffId } = await storeGzipLayer(ctx, deps.content, lease, spec.layer, spec.docker);
    const config: ImageConfig = { ...spec.config, rootfs: { type: 'layers', diff_ids: [...spec.config.rootfs.diff_ids, diffId] } };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDesc = await storeDocument(
      ctx,
      deps.content,
      lease,
      configBytes,
      spec.docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig,
    );
    const layers = [...spec.baseLayers, descriptor];
    const manifestType = spec.docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest;
    const manifestBytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: manifestType, config: strip(configDesc), layers: layers.map(strip) }),
    );
    const manifest = await storeDocument(ctx, deps.content, lease, manifestBytes, manifestType);
    const job = deps.unpacker.start(ctx, layers, config.rootfs.diff_ids, () => undefined);
    for (const chain of job.chain) lease.add(chain);
    layers.forEach((_, i) => job.layerFetched(i));
    const chainId = await job.done;
    const now = new Date();
    const platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    return await putImage(deps.images, deps.events, {
      name: name || `${spec.untaggedRepository}@${manifest.digest}`,
      target: { ...manifest, platform },
      manifest: { ...manifest, platform },
      platform,
      id: configDesc.digest,
      size: configDesc.size + layers.reduce((s, l) => s + l.size, 0),
      ...(config.created ? { created: config.created } : {}),
      snapshot: { snapshotter: deps.unpacker.snapshotterName, chainId },
      createdAt: now,
      updatedAt: now,
      labels: {},
    });
  } finally {
    lease.release();
  }
}

function strip(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

/** Compresses `tar` with gzip into the store; the DiffID is the hash of the bytes before compression. */
async function storeGzipLayer(
  ctx: Ctx,
  content: Store,
  lease: Lease,
  tar: AsyncIterable<Buffer>,
  docker: boolean,
): Promise<{ descriptor: Descriptor; diffId: string }> {
  const ref = `new-layer-${randomUUID()}`;
  const writer = await content.writer(ctx, { ref });
  const diff = createHash('sha256');
  let size = 0;
  try {
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of tar) {
        diff.update(chunk);
        yield chunk;
      }
    }
    await pipeline(
      Readable.from(counted(), { objectMode: false }),
      zlib.createGzip(),
      new Writable({
        write(chunk: Buffer, _enc, done) {
          size += chunk.length;
          writer.write(chunk).then(() => done(), done);
        },
      }),
      { signal: ctx.signal },
    );
    const digest = writer.digest();
    lease.add(digest);
    try {
      await writer.commit(size, digest);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    return {
      descriptor: { mediaType: docker ? MediaTypes.dockerLayerGzip : MediaTypes.ociLayerGzip, digest, size },
      diffId: `sha256:${diff.digest('hex')}`,
    };
  } catch (e) {
    await writer.close().catch(() => undefined);
    await content.abort(ctx, ref).catch(() => undefined);
    throw e;
  } finally {
    await writer.close().catch(() => undefined);
  }
}

async function storeDocument(ctx: Ctx, content: Store, lease: Lease, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const writer = await content.writer(ctx, { ref: `new-doc-${randomUUID()}` });
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
