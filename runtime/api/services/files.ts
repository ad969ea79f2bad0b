/** gantry.v1.Files over the files service (runtime/files/, docs/files.md). */
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ctx } from '../../context';
import { invalidArgument } from '../../errdefs/errdefs';
import type { ContainerFiles, FileTarget } from '../../files/containerFiles';
import { listingEntries, type FileInfo, type FileType } from '../../files/index';
import {
  FileType as WireFileType,
  type FileInfo as WireFileInfo,
  type FilesServer,
  type GetArchiveRequest,
  type PutArchiveRequest,
  type RawTicket,
  type WriteFileRequest,
} from '../gen/gantry/v1/files';
import type { RawByteServer } from '../../rawbytes/index';
import { ownIdentity } from '../../util/procIdentity';
import { toColumns } from '../directoryColumns';
import type { HandlerAdapter } from '../server';

// Large messages: each costs a protobuf encode and an HTTP/2 write callback,
// so a 50 MiB read in 64 KiB pieces spent its time on 800 of those
// (docs/performance.md, the files benchmark). gRPC's receive limit is 4 MiB.
const CHUNK = 1024 * 1024;
/** GetArchive's messages: larger than ReadFile's, fewer per byte (docs/performance.md, files). */
const ARCHIVE_CHUNK = 256 * 1024;
/**
 * Reads from this size on go over the raw socket when the client can take
 * them (docs/files.md, "Large reads"): below it, the connection and the
 * ticket cost more than the gRPC messages they save.
 */
const RAW_MIN = 1024 * 1024;

/**
 * How long an OpenLocal call keeps its descriptor for a client that does
 * not end the call (a client ends it as soon as it has opened its own).
 */
const LOCAL_HOLD_MS = 10_000;

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

function targetOf(t: { container: string; volume?: string; layer?: { image: string; index: number } } | undefined): FileTarget {
  const named = [t?.container, t?.volume, t?.layer?.image].filter((x) => x).length;
  if (!t || named !== 1) throw invalidArgument('name one container, volume or image layer: whose files?');
  if (t.layer?.image) return { layer: { image: t.layer.image, index: t.layer.index } };
  if (t.volume) return { volume: t.volume };
  return { container: t.container };
}

/** The bytes a range of a `size`-byte file holds. */
function rangeLength(size: number, offset: number, length: number): number {
  const left = Math.max(0, size - offset);
  return length ? Math.min(length, left) : left;
}

export function filesService(adapt: HandlerAdapter, files: ContainerFiles, raw?: RawByteServer): FilesServer {
  return {
    stat: adapt.unary('Stat', async (ctx, req) => {
      const { info, realPath } = await files.stat(ctx, targetOf(req.target), req.path, !req.noFollow);
      return { info: toWireFileInfo(info), realPath };
    }),
    readDirectory: adapt.unary('ReadDirectory', async (ctx, req) => {
      // Names and types only when asked, and only in columns (docs/files.md, "Listing modes").
      const detail = req.rawColumns && req.namesAndTypes ? 'types' : 'full';
      const listing = await files.listDirectory(ctx, targetOf(req.target), req.path, detail);
      return req.rawColumns
        ? { entries: [], columns: toColumns(listing) }
        : { entries: listingEntries(listing).map(toWireFileInfo), columns: undefined };
    }),
    readFile: adapt.serverStream('ReadFile', async (ctx, req, send) => {
      if (req.offset < 0 || req.length < 0) throw invalidArgument('offset and length must not be negative');
      const range = { start: req.offset || undefined, end: req.length ? req.offset + req.length - 1 : undefined };
      await files.readFile(ctx, targetOf(req.target), req.path, range, async (info, stream, fileRange) => {
        let first: WireFileInfo | undefined = toWireFileInfo(info);
        const length = rangeLength(info.size, req.offset, req.length);
        if (req.acceptRaw && raw?.listening && length >= RAW_MIN) {
          // The bytes go over the raw socket; this call stays open until
          // they are sent, so its status is the read's.
          // Sent from the descriptor (no buffer per chunk); the stream is never read.
          const offer = raw.offer(fileRange, ctx.signal);
          await send({ info: first, data: Buffer.alloc(0), raw: { token: offer.token, length } });
          await offer.done;
          return;
        }
        for await (const chunk of stream) {
          const buf = chunk as Buffer;
          for (let at = 0; at < buf.length; at += CHUNK) {
            await send({ info: first, data: buf.subarray(at, at + CHUNK), raw: undefined });
            first = undefined;
          }
        }
        // An empty file still says what it is.
        if (first) await send({ info: first, data: Buffer.alloc(0), raw: undefined });
      });
    }),
    openLocal: adapt.serverStream('OpenLocal', async (ctx, req, send) => {
      await files.openLocal(ctx, targetOf(req.target), req.path, req.directory, async (opened) => {
        const self = ownIdentity();
        await send({
          info: toWireFileInfo(opened.info),
          path: `/proc/${self.pid}/fd/${opened.fd}`,
          bootId: self.bootId,
          startTime: self.startTime,
          dev: String(opened.dev),
          ino: String(opened.ino),
        });
        // Until the client ends the call (the sleep is then aborted) or the hold runs out.
        await sleep(LOCAL_HOLD_MS, undefined, { signal: ctx.signal }).catch(() => undefined);
      });
    }),
    writeFile: adapt.clientStream('WriteFile', async (ctx, incoming: AsyncIterable<WriteFileRequest>) => {
      const { header, data, pump } = await headedStream(incoming, 'WriteFile');
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
    getArchive: adapt.serverStream('GetArchive', (ctx, req, send) => sendArchive(ctx, req, send)),
    rawGetArchive: adapt.serverStream('RawGetArchive', (ctx, req, send) => sendArchive(ctx, req, send, raw)),
    putArchive: adapt.clientStream('PutArchive', async (ctx, incoming: AsyncIterable<PutArchiveRequest>) => {
      const { header, data, pump } = await headedStream(incoming, 'PutArchive');
      let result;
      try {
        result = await files.putArchive(ctx, targetOf(header.target), header.path, data, {
          copyUidGid: header.copyUidGid,
          allowOverwriteDirWithFile: header.allowOverwriteDirWithFile,
        });
      } catch (e) {
        data.destroy();
        throw e;
      }
      await pump;
      return result;
    }),
  };

  /** GetArchive; with `raw` (RawGetArchive), a directory or a large file goes over the raw socket. */
  async function sendArchive(
    ctx: Ctx,
    req: GetArchiveRequest,
    send: (m: { info: WireFileInfo | undefined; data: Buffer; raw: RawTicket | undefined }) => Promise<void>,
    raw?: RawByteServer,
  ): Promise<void> {
    const opts = { follow: req.followLink, name: req.name || undefined };
    await files.getArchive(ctx, targetOf(req.target), req.path, opts, async (info, tar) => {
      let first: WireFileInfo | undefined = toWireFileInfo(info);
      if (raw?.listening && (info.type === 'directory' || info.size >= RAW_MIN)) {
        const offer = raw.offer(Readable.from(gathered(tar, ARCHIVE_CHUNK)), ctx.signal);
        await send({ info: first, data: Buffer.alloc(0), raw: { token: offer.token, length: 0 } });
        await offer.done;
        return;
      }
      for await (const data of gathered(tar, ARCHIVE_CHUNK)) {
        await send({ info: first, data, raw: undefined });
        first = undefined;
      }
      if (first) await send({ info: first, data: Buffer.alloc(0), raw: undefined });
    });
  }
}

/**
 * The packer yields a 512-byte header per entry: gathered into pieces of up
 * to `size`, or a directory of small files would be as many tiny messages
 * (or socket writes) as entries.
 */
async function* gathered(tar: AsyncIterable<unknown>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let have = 0;
  for await (const chunk of tar) {
    const buf = chunk as Buffer;
    for (let at = 0; at < buf.length; at += size) {
      const piece = buf.subarray(at, at + size);
      if (have + piece.length > size) {
        yield pending.length === 1 ? pending[0] : Buffer.concat(pending, have);
        pending = [];
        have = 0;
      }
      pending.push(piece);
      have += piece.length;
    }
  }
  if (have) yield pending.length === 1 ? pending[0] : Buffer.concat(pending, have);
}

/**
 * A client stream whose first message carries a header: the header, and
 * every message's data as one byte stream, with the gRPC stream's own flow
 * control (nothing is gathered in memory).
 */
async function headedStream<H>(
  incoming: AsyncIterable<{ header?: H; data: Uint8Array }>,
  method: string,
): Promise<{ header: H; data: PassThrough; pump: Promise<void> }> {
  const iterator = incoming[Symbol.asyncIterator]();
  const head = await iterator.next();
  const header = head.done ? undefined : head.value.header;
  if (!header) throw invalidArgument(`${method}: the first message must carry the header`);
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
  })().catch((e: unknown) => {
    data.destroy(e as Error);
  });
  return { header, data, pump };
}
