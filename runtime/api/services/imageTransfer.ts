/** Images/Push, Images/Save and Images/Load over the pusher and the archive code (docs/transfer.md). */
import { Readable } from 'node:stream';
import type { Store } from '../../content/content';
import { invalidArgument } from '../../errdefs/errdefs';
import { loadImages, parseFormat, saveImages, type LoadDeps } from '../../images/archive/archive';
import { parsePlatform } from '../../images/platform';
import type { ImagePusher, PushBlobStatus as Status, PushProgress } from '../../images/push';
import type { ImageService } from '../../images/service';
import { PushBlobStatus, type ImagesServer, type LoadImagesChunk, type PushImageResponse } from '../gen/gantry/v1/images';
import type { HandlerAdapter } from '../server';
import { fromWireAuth, toDescriptor, toSummary } from './images';

export interface TransferDeps {
  readonly content: Store;
  readonly pusher: ImagePusher;
  readonly load: LoadDeps;
}

/** Save sends the archive in messages of at most this size (well under gRPC's 4 MiB default). */
const SAVE_CHUNK = 1024 * 1024;

const PUSH_STATUS: Record<Status, PushBlobStatus> = {
  waiting: PushBlobStatus.PUSH_BLOB_STATUS_WAITING,
  pushing: PushBlobStatus.PUSH_BLOB_STATUS_PUSHING,
  pushed: PushBlobStatus.PUSH_BLOB_STATUS_PUSHED,
  exists: PushBlobStatus.PUSH_BLOB_STATUS_EXISTS,
  mounted: PushBlobStatus.PUSH_BLOB_STATUS_MOUNTED,
};

function toPushResponse(p: PushProgress): PushImageResponse {
  if (p.kind === 'started') return { kind: { $case: 'started', value: { name: p.name, target: toDescriptor(p.target) } } };
  return {
    kind: {
      $case: 'blob',
      value: {
        digest: p.digest,
        mediaType: p.mediaType,
        role: p.role,
        status: PUSH_STATUS[p.status],
        offset: p.offset,
        total: p.total,
        mountedFrom: p.mountedFrom ?? '',
      },
    },
  };
}

export function transferHandlers(
  adapt: HandlerAdapter,
  images: ImageService,
  deps: TransferDeps,
): Pick<ImagesServer, 'push' | 'save' | 'load'> {
  return {
    push: adapt.serverStream('Push', async (ctx, request, send) => {
      if (!request.reference) throw invalidArgument('push needs an image reference');
      const auth = fromWireAuth(request.auth);
      // As for Pull: progress is queued in order, never blocking the upload on a slow client.
      let sending = Promise.resolve();
      const enqueue = (message: PushImageResponse) => {
        sending = sending.then(() => send(message)).catch(() => undefined);
      };
      const pushed = await deps.pusher.push(ctx, request.reference, {
        platform: request.platform ? parsePlatform(request.platform) : undefined,
        allTags: request.allTags,
        credentials: auth ? () => auth : undefined,
        onProgress: (p) => enqueue(toPushResponse(p)),
      });
      await sending;
      for (const p of pushed) {
        await send({
          kind: { $case: 'pushed', value: { name: p.name, digest: p.target.digest, size: p.target.size, mediaType: p.target.mediaType } },
        });
      }
    }),
    save: adapt.serverStream('Save', async (ctx, request, send) => {
      if (!request.images.length) throw invalidArgument('save needs at least one image');
      let format;
      try {
        format = parseFormat(request.format);
      } catch (e) {
        throw invalidArgument((e as Error).message);
      }
      const chosen = request.images.map((i) => images.resolve(i));
      const archive = await saveImages(ctx, deps.content, chosen, format);
      try {
        for await (const chunk of archive) {
          const b = chunk as Buffer;
          for (let i = 0; i < b.length; i += SAVE_CHUNK) await send({ data: b.subarray(i, i + SAVE_CHUNK) });
        }
      } finally {
        archive.destroy();
      }
    }),
    load: adapt.clientStream('Load', async (ctx, incoming: AsyncIterable<LoadImagesChunk>) => {
      async function* bytes(): AsyncGenerator<Buffer> {
        // Each message's bytes are a view of its own decoded buffer: stored as they are, not copied.
        for await (const m of incoming) if (m.data.length) yield m.data;
      }
      const loaded = await loadImages(ctx, deps.load, Readable.from(bytes(), { objectMode: false }));
      return { images: loaded.map(toSummary) };
    }),
  };
}
