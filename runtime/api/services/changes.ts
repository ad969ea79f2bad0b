/**
 * Containers/Diff and Containers/Export, Images/Commit and Images/Import:
 * a container's changes and the images made of them or of a tar
 * (runtime/changes/, docs/files.md and docs/transfer.md).
 */
import { Readable } from 'node:stream';
import { request as httpRequest } from 'undici';
import type { ChangeFileType, ChangeKind as Kind } from '../../changes/changes';
import type { ContainerChanges } from '../../changes/containerChanges';
import { invalidArgument, unavailable } from '../../errdefs/errdefs';
import { decompressed } from '../../images/archive/load';
import { importImage } from '../../images/commit';
import type { NewImageDeps } from '../../images/newImage';
import { hostPlatform, parsePlatform } from '../../images/platform';
import { ChangeKind } from '../gen/gantry/v1/changes';
import type { ContainersServer } from '../gen/gantry/v1/containers';
import { FileType } from '../gen/gantry/v1/files';
import type { ImagesServer, ImportImageRequest } from '../gen/gantry/v1/images';
import type { HandlerAdapter } from '../server';
import { toSummary } from './images';

/** Export sends the tar in messages of at most this size (well under gRPC's 4 MiB default). */
const EXPORT_CHUNK = 1024 * 1024;

const KIND: Record<Kind, ChangeKind> = {
  A: ChangeKind.CHANGE_KIND_ADDED,
  C: ChangeKind.CHANGE_KIND_MODIFIED,
  D: ChangeKind.CHANGE_KIND_DELETED,
};

const TYPE: Record<ChangeFileType, FileType> = {
  file: FileType.FILE_TYPE_FILE,
  directory: FileType.FILE_TYPE_DIRECTORY,
  symlink: FileType.FILE_TYPE_SYMLINK,
  other: FileType.FILE_TYPE_OTHER,
};

export function containerChangesHandlers(adapt: HandlerAdapter, changes: ContainerChanges): Pick<ContainersServer, 'diff' | 'export'> {
  return {
    diff: adapt.unary('Diff', async (ctx, req) => ({
      changes: (await changes.diff(ctx, req.container)).map((c) => ({
        kind: KIND[c.kind],
        path: c.path,
        type: c.type ? TYPE[c.type] : FileType.FILE_TYPE_UNSPECIFIED,
        size: c.size,
      })),
    })),
    export: adapt.serverStream('Export', async (ctx, req, send) => {
      if (!req.container) throw invalidArgument('export needs a container');
      for await (const chunk of changes.export(ctx, req.container)) {
        for (let i = 0; i < chunk.length; i += EXPORT_CHUNK) await send({ data: chunk.subarray(i, i + EXPORT_CHUNK) });
      }
    }),
  };
}

export function imageBuildHandlers(
  adapt: HandlerAdapter,
  changes: ContainerChanges | undefined,
  deps: NewImageDeps,
): Pick<ImagesServer, 'commit' | 'import'> {
  return {
    commit: adapt.unary('Commit', async (ctx, req) => {
      if (!changes) throw unavailable('containers are unavailable on this daemon: nothing to commit');
      if (!req.container) throw invalidArgument('commit needs a container');
      const image = await changes.commit(ctx, {
        container: req.container,
        reference: req.reference,
        comment: req.comment,
        author: req.author,
        changes: req.changes,
        pause: !req.noPause,
      });
      return { image: toSummary(image) };
    }),
    import: adapt.clientStream('Import', async (ctx, incoming: AsyncIterable<ImportImageRequest>) => {
      const iterator = incoming[Symbol.asyncIterator]();
      const first = await iterator.next();
      const start = first.done ? undefined : first.value.kind?.$case === 'start' ? first.value.kind.value : undefined;
      if (!start) throw invalidArgument('import: the first message must be start');
      const platform = start.platform ? parsePlatform(start.platform) : hostPlatform();
      let source: Readable;
      if (start.url) {
        source = await fetchTar(start.url, ctx.signal);
      } else {
        async function* bytes(): AsyncGenerator<Buffer> {
          for (;;) {
            const r = await iterator.next();
            if (r.done) return;
            if (r.value.kind?.$case === 'data' && r.value.kind.value.length) yield Buffer.from(r.value.kind.value);
          }
        }
        source = Readable.from(bytes(), { objectMode: false });
      }
      const image = await importImage(ctx, deps, {
        layer: await decompressed(source),
        platform,
        source: start.url || '-',
        reference: start.reference,
        message: start.message,
        changes: start.changes,
      });
      return { image: toSummary(image) };
    }),
  };
}

async function fetchTar(url: string, signal: AbortSignal): Promise<Readable> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`import: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidArgument(`import: only http and https URLs can be fetched, not ${parsed.protocol}`);
  }
  // Redirects are followed (five at most), each to http or https only.
  for (let hops = 0; ; hops++) {
    let response;
    try {
      response = await httpRequest(parsed, { method: 'GET', signal });
    } catch (e) {
      throw unavailable(`import: cannot fetch ${url}: ${(e as Error).message}`, e);
    }
    const location = response.headers.location;
    if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string' && hops < 5) {
      response.body.resume();
      parsed = new URL(location, parsed);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        throw invalidArgument(`import: ${url} redirects to ${parsed.protocol}`);
      continue;
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      response.body.resume();
      throw invalidArgument(`import: fetching ${url} answered HTTP ${response.statusCode}`);
    }
    return response.body;
  }
}
