/** gantry.v1.Files over the files service (runtime/files/, docs/files.md). */
import { PassThrough } from 'node:stream';
import { invalidArgument } from '../../errdefs/errdefs';
import type { ContainerFiles, FileTarget } from '../../files/containerFiles';
import type { FileInfo, FileType } from '../../files/index';
import { FileType as WireFileType, type FileInfo as WireFileInfo, type FilesServer, type WriteFileRequest } from '../gen/gantry/v1/files';
import type { HandlerAdapter } from '../server';

const CHUNK = 64 * 1024;

const TYPES: Record<FileType, WireFileType> = {
  file: WireFileType.FILE_TYPE_FILE,
  directory: WireFileType.FILE_TYPE_DIRECTORY,
  symlink: WireFileType.FILE_TYPE_SYMLINK,
  other: WireFileType.FILE_TYPE_OTHER,
};

export function toWireFileInfo(i: FileInfo): WireFileInfo {
  return {
    name: i.name,
    type: TYPES[i.type],
    linkTarget: i.linkTarget ?? '',
    size: i.size,
    mode: i.mode,
    uid: i.uid,
    gid: i.gid,
    modifiedAt: new Date(i.mtimeMs),
    changedAt: new Date(i.ctimeMs),
    targetType: i.targetType ? TYPES[i.targetType] : WireFileType.FILE_TYPE_UNSPECIFIED,
  };
}

function targetOf(t: { container: string; layer?: { image: string; index: number } } | undefined): FileTarget {
  if (t?.layer?.image) return { layer: { image: t.layer.image, index: t.layer.index } };
  if (!t?.container) throw invalidArgument('no container named: whose files?');
  return { container: t.container };
}

export function filesService(adapt: HandlerAdapter, files: ContainerFiles): FilesServer {
  return {
    stat: adapt.unary('Stat', async (ctx, req) => {
      const { info, realPath } = await files.stat(ctx, targetOf(req.target), req.path, !req.noFollow);
      return { info: toWireFileInfo(info), realPath };
    }),
    readDirectory: adapt.unary('ReadDirectory', async (ctx, req) => ({
      entries: (await files.readDirectory(ctx, targetOf(req.target), req.path)).map(toWireFileInfo),
    })),
    readFile: adapt.serverStream('ReadFile', async (ctx, req, send) => {
      if (req.offset < 0 || req.length < 0) throw invalidArgument('offset and length must not be negative');
      const range = { start: req.offset || undefined, end: req.length ? req.offset + req.length - 1 : undefined };
      await files.readFile(ctx, targetOf(req.target), req.path, range, async (info, stream) => {
        let first: WireFileInfo | undefined = toWireFileInfo(info);
        for await (const chunk of stream) {
          const buf = chunk as Buffer;
          for (let at = 0; at < buf.length; at += CHUNK) {
            await send({ info: first, data: buf.subarray(at, at + CHUNK) });
            first = undefined;
          }
        }
        // An empty file still says what it is.
        if (first) await send({ info: first, data: Buffer.alloc(0) });
      });
    }),
    writeFile: adapt.clientStream('WriteFile', async (ctx, incoming: AsyncIterable<WriteFileRequest>) => {
      const iterator = incoming[Symbol.asyncIterator]();
      const head = await iterator.next();
      const header = head.done ? undefined : head.value.header;
      if (!header) throw invalidArgument('WriteFile: the first message must carry the header');
      // The rest of the client's messages become the file's bytes, with the
      // gRPC stream's own flow control (nothing is gathered in memory).
      const data = new PassThrough();
      const pump = (async () => {
        if (!head.done && head.value.data.length) data.write(head.value.data);
        for (let next = await iterator.next(); !next.done && !data.destroyed; next = await iterator.next()) {
          if (!data.write(next.value.data)) {
            await new Promise((r) => {
              data.once('drain', r);
              data.once('close', r);
            });
          }
        }
        data.end();
      })().catch((e: unknown) => data.destroy(e as Error));
      let info;
      try {
        info = await files.writeFile(ctx, targetOf(header.target), header.path, data, {
          exclusive: header.exclusive,
          mustExist: header.mustExist,
          mode: header.mode || undefined,
        });
      } catch (e) {
        data.destroy();
        throw e;
      }
      await pump;
      return { info: toWireFileInfo(info) };
    }),
    createDirectory: adapt.unary('CreateDirectory', async (ctx, req) => {
      await files.createDirectory(ctx, targetOf(req.target), req.path, req.parents);
      return {};
    }),
    delete: adapt.unary('Delete', async (ctx, req) => {
      await files.delete(ctx, targetOf(req.target), req.path, req.recursive);
      return {};
    }),
    rename: adapt.unary('Rename', async (ctx, req) => {
      await files.rename(ctx, targetOf(req.target), req.from, req.to, req.overwrite);
      return {};
    }),
  };
}
