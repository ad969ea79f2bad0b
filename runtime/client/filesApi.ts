/**
 * `client.files`: gantry.v1.Files, a container's filesystem read and written
 * by the daemon with no process in the container (docs/files.md). Paths are
 * absolute paths inside the container. Failures are GantryErrors (rpc.ts):
 * NotFound, AlreadyExists, FailedPrecondition ("a named pipe", "not a
 * directory"), InvalidArgument (link loops).
 */
import * as fs from 'node:fs';
import {
  FileType,
  type ArchiveChunk,
  type FileInfo,
  type FilesClient,
  type RawArchiveChunk,
  type ReadFileChunk,
  type FileTarget as WireFileTarget,
  type PutArchiveRequest,
  type WriteFileHeader,
  type WriteFileRequest,
} from '../api/gen/gantry/v1/files';
import { kindOf } from '../errdefs/errdefs';
import { readRaw } from '../rawbytes/index';
import { listLocal, LocalAccessUnavailable, openLocalHandle, readLocal } from './localFiles';
import { entriesFromColumns, fromColumns, type DirectoryEntry } from '../api/directoryColumns';
import { clientStream, stream, unary, type CallOpts } from './rpc';

/**
 * Whose files: a container ID, ID prefix or name; a volume's name; or a
 * layer of an image (read-only; the image's tree up to that layer,
 * docs/layers.md). Exactly one.
 */
export type FileTargetRef =
  { readonly container: string } | { readonly volume: string } | { readonly layer: { readonly image: string; readonly index: number } };

function wire(t: FileTargetRef): WireFileTarget {
  if ('layer' in t) return { container: '', volume: '', layer: { image: t.layer.image, index: t.layer.index } };
  if ('volume' in t) return { container: '', volume: t.volume, layer: undefined };
  return { container: t.container, volume: '', layer: undefined };
}

export interface WriteOpts extends CallOpts {
  /** Fail with AlreadyExists when the file exists (create). */
  readonly exclusive?: boolean;
  /** Fail with NotFound when it does not (overwrite only). */
  readonly mustExist?: boolean;
  /** A new file's mode; a replaced file keeps its own. */
  readonly mode?: number;
}

const WRITE_CHUNK = 64 * 1024;

/** ReadFile's and RawGetArchive's messages: info first, then data, or a ticket for the raw socket. */
type BytesMessage = ReadFileChunk | RawArchiveChunk;

/** GetArchive's messages in RawGetArchive's shape (they never carry a ticket). */
async function* withNoTicket(messages: AsyncGenerator<ArchiveChunk>): AsyncGenerator<RawArchiveChunk> {
  for await (const m of messages) yield { ...m, raw: undefined };
}

/** Reads a stream to its end (its status: an error is thrown). */
async function drain(messages: AsyncIterable<unknown>): Promise<void> {
  for await (const message of messages) void message;
}

export class FilesApi {
  /** Whether to try local access (docs/files.md, "Local access"): on a local socket, until it proves unusable. */
  private local: boolean;

  /**
   * `rawSocket`: the daemon's raw socket, when the client reaches it over a
   * local unix socket (rawbytes/client.ts rawSocketOf); large reads then
   * skip gRPC (docs/files.md, "Large reads").
   */
  constructor(
    private readonly files: FilesClient,
    private rawSocket?: string,
    localAccess = true,
  ) {
    this.local = localAccess && rawSocket !== undefined;
  }

  /** stat (`noFollow`: lstat); also where the path leads, links resolved. */
  async stat(
    target: FileTargetRef,
    path: string,
    opts: CallOpts & { noFollow?: boolean } = {},
  ): Promise<{ info: FileInfo; realPath: string }> {
    const r = await unary(this.files, this.files.stat, { target: wire(target), path, noFollow: opts.noFollow ?? false }, opts);
    return { info: r.info!, realPath: r.realPath };
  }

  async readDirectory(target: FileTargetRef, path: string, opts?: CallOpts): Promise<FileInfo[]> {
    const r = await unary(
      this.files,
      this.files.readDirectory,
      { target: wire(target), path, rawColumns: true, namesAndTypes: false },
      opts,
    );
    // A daemon that predates columns answers with entries.
    return r.columns ? fromColumns(r.columns) : r.entries;
  }

  /**
   * A directory's names and types only (links: where they lead), with no
   * lstat per entry in the daemon — what an editor's file tree needs;
   * several times faster than readDirectory for a large directory
   * (docs/files.md, "Listing modes").
   */
  async readDirectoryTypes(target: FileTargetRef, path: string, opts?: CallOpts): Promise<DirectoryEntry[]> {
    const local = await this.openLocal(target, path, true, opts);
    if (local) {
      try {
        const entries = listLocal(local.fd);
        if (entries) return entries;
      } finally {
        fs.closeSync(local.fd);
      }
    }
    const request = { target: wire(target), path, rawColumns: true, namesAndTypes: true };
    const r = await unary(this.files, this.files.readDirectory, request, opts);
    if (r.columns) return entriesFromColumns(r.columns);
    // A daemon that predates columns answers with entries.
    return r.entries.map((e) => ({
      name: e.name,
      type: e.type,
      targetType: e.targetType,
      ...(e.type === FileType.FILE_TYPE_SYMLINK ? { linkTarget: e.linkTarget } : {}),
    }));
  }

  /**
   * The file's chunks, in order; the first carries its info. `length` 0: to
   * the end. A large read comes over the daemon's raw socket when this
   * client can reach it, else (over SSH, say) as gRPC messages.
   */
  read(
    target: FileTargetRef,
    path: string,
    range: { offset?: number; length?: number } = {},
    signal?: AbortSignal,
  ): AsyncGenerator<ReadFileChunk> {
    const request = { target: wire(target), path, offset: range.offset ?? 0, length: range.length ?? 0 };
    return this.localOr(target, path, request, signal, () =>
      this.viaRaw((raw) => stream(this.files.readFile({ ...request, acceptRaw: raw }), signal)),
    );
  }

  /** A read done here from a local handle when the daemon offers one and it can be used, else by `remote`. */
  private async *localOr(
    target: FileTargetRef,
    path: string,
    range: { offset: number; length: number },
    signal: AbortSignal | undefined,
    remote: () => AsyncGenerator<ReadFileChunk>,
  ): AsyncGenerator<ReadFileChunk> {
    const local = await this.openLocal(target, path, false, { signal });
    if (!local) {
      yield* remote();
      return;
    }
    try {
      let info: FileInfo | undefined = local.info;
      for await (const data of readLocal(local.fd, local.info.size, range.offset, range.length, signal)) {
        yield { info, data, raw: undefined };
        info = undefined;
      }
      // An empty file (or range) still says what it is.
      if (info) yield { info, data: Buffer.alloc(0), raw: undefined };
    } finally {
      fs.closeSync(local.fd);
    }
  }

  /**
   * Local access (docs/files.md, "Local access"): the daemon opens the path
   * and names its descriptor, this client opens the same file (localFiles.ts)
   * and ends the call, which lets the daemon close its own. Undefined when
   * it cannot be used — the caller then asks the daemon for the bytes — and,
   * when it never will be on this connection, this client stops asking.
   * The daemon's own errors (NotFound…) are thrown, but for
   * FailedPrecondition, which the ordinary call reports as it should ("a
   * directory", a stopped container's tree).
   */
  private async openLocal(
    target: FileTargetRef,
    path: string,
    directory: boolean,
    opts: CallOpts = {},
  ): Promise<{ fd: number; info: FileInfo } | undefined> {
    if (!this.local) return undefined;
    const messages = stream(this.files.openLocal({ target: wire(target), path, directory }), opts.signal);
    try {
      const first = await messages.next();
      const handle = first.done ? undefined : first.value;
      if (!handle?.info) return undefined;
      return { fd: openLocalHandle(handle, directory), info: handle.info };
    } catch (e) {
      if (e instanceof LocalAccessUnavailable) {
        if (e.lasting) this.local = false;
        return undefined;
      }
      const kind = kindOf(e);
      if (kind === 'Unimplemented') this.local = false;
      if (kind === 'Unimplemented' || kind === 'FailedPrecondition') return undefined;
      throw e;
    } finally {
      // Ends the call: the daemon closes its descriptor.
      await messages.return(undefined);
    }
  }

  /** The whole file in memory (for an editor: callers guard the size first). */
  async readFile(target: FileTargetRef, path: string, signal?: AbortSignal): Promise<{ info: FileInfo; data: Buffer }> {
    let info: FileInfo | undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of this.read(target, path, {}, signal)) {
      info ??= chunk.info;
      chunks.push(Buffer.from(chunk.data));
    }
    return { info: info!, data: Buffer.concat(chunks) };
  }

  /** Replaces (or creates) a file atomically with `data`, streamed in chunks (rpc.ts clientStream). */
  async writeFile(
    target: FileTargetRef,
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    opts: WriteOpts = {},
  ): Promise<FileInfo> {
    const header: WriteFileHeader = {
      target: wire(target),
      path,
      exclusive: opts.exclusive ?? false,
      mustExist: opts.mustExist ?? false,
      mode: opts.mode ?? 0,
    };
    async function* messages(): AsyncGenerator<WriteFileRequest> {
      yield { header, data: Buffer.alloc(0) };
      for await (const bytes of data instanceof Uint8Array ? [data] : data) {
        for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
          const piece = bytes.subarray(at, at + WRITE_CHUNK);
          yield { header: undefined, data: Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength) };
        }
      }
    }
    return (await clientStream(this.files, this.files.writeFile, messages(), opts)).info!;
  }

  async createDirectory(target: FileTargetRef, path: string, opts: CallOpts & { parents?: boolean } = {}): Promise<void> {
    await unary(this.files, this.files.createDirectory, { target: wire(target), path, parents: opts.parents ?? false }, opts);
  }

  async delete(target: FileTargetRef, path: string, opts: CallOpts & { recursive?: boolean } = {}): Promise<void> {
    await unary(this.files, this.files.delete, { target: wire(target), path, recursive: opts.recursive ?? false }, opts);
  }

  async rename(target: FileTargetRef, from: string, to: string, opts: CallOpts & { overwrite?: boolean } = {}): Promise<void> {
    await unary(this.files, this.files.rename, { target: wire(target), from, to, overwrite: opts.overwrite ?? false }, opts);
  }

  /**
   * A path as a tar stream (Docker's GET archive): the first chunk carries
   * the path's info. `followLink`: a final symlink is followed (`cp -L`);
   * `name`: the top entry's name (default: the path's last component).
   */
  getArchive(
    target: FileTargetRef,
    path: string,
    opts: { followLink?: boolean; name?: string } = {},
    signal?: AbortSignal,
  ): AsyncIterable<ArchiveChunk> {
    const request = { target: wire(target), path, followLink: opts.followLink ?? false, name: opts.name ?? '' };
    return this.viaRaw((raw) =>
      raw ? stream(this.files.rawGetArchive(request), signal) : withNoTicket(stream(this.files.getArchive(request), signal)),
    );
  }

  /**
   * A stream of bytes that the daemon may send over its raw socket
   * (docs/files.md, "Large reads"). `open(true)` starts the call allowing
   * it; when the first message is a ticket, the bytes come from the raw
   * socket as messages of the same shape, and the call's end is awaited for
   * its status. When the raw socket cannot be reached (over SSH the client
   * talks to a proxy with none beside it), the call is cancelled and made
   * again with `open(false)`, and this client stops trying.
   */
  private async *viaRaw(open: (acceptRaw: boolean) => AsyncGenerator<BytesMessage>): AsyncGenerator<BytesMessage> {
    const raw = this.rawSocket;
    const messages = open(raw !== undefined);
    try {
      const first = await messages.next().catch((e: unknown) => {
        // A daemon older than RawGetArchive.
        if (raw === undefined || kindOf(e) !== 'Unimplemented') throw e;
        return undefined;
      });
      if (!first) {
        this.rawSocket = undefined;
        for await (const m of open(false)) yield m;
        return;
      }
      if (first.done) return;
      const ticket = first.value.raw;
      if (!ticket || raw === undefined) {
        yield first.value;
        yield* messages;
        return;
      }
      let info = first.value.info;
      let received = 0;
      const conn = await readRaw(raw, ticket.token).catch(() => undefined);
      try {
        for await (const data of conn ?? []) {
          received += data.length;
          yield { info, data, raw: undefined };
          info = undefined;
        }
      } catch (e) {
        // The call's status says why (a read error, the daemon gone); else this.
        await drain(messages);
        throw e;
      } finally {
        conn?.destroy();
      }
      // (A ticket is only given for a read of 1 MiB or more or a tar stream:
      // never empty.)
      if (received === 0) {
        // No raw socket there (a forwarded socket: stop trying on this
        // client), or it turned us away: the same call without it.
        if (!conn) this.rawSocket = undefined;
        await messages.return(undefined);
        for await (const m of open(false)) yield m;
        return;
      }
      if (info) yield { info, data: Buffer.alloc(0), raw: undefined };
      // Ends once the daemon has sent everything; its status is the read's.
      await drain(messages);
    } finally {
      await messages.return(undefined);
    }
  }

  /**
   * Extracts a tar stream under an existing directory (Docker's PUT
   * archive): owned by the container's user unless `copyUidGid` (`cp -a`).
   */
  async putArchive(
    target: FileTargetRef,
    path: string,
    tar: AsyncIterable<Uint8Array>,
    opts: CallOpts & { copyUidGid?: boolean; allowOverwriteDirWithFile?: boolean } = {},
  ): Promise<{ entries: number; bytes: number }> {
    const header = {
      target: wire(target),
      path,
      copyUidGid: opts.copyUidGid ?? false,
      allowOverwriteDirWithFile: opts.allowOverwriteDirWithFile ?? false,
    };
    async function* messages(): AsyncGenerator<PutArchiveRequest> {
      yield { header, data: Buffer.alloc(0) };
      for await (const bytes of tar) {
        for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
          const piece = bytes.subarray(at, at + WRITE_CHUNK);
          yield { header: undefined, data: Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength) };
        }
      }
    }
    return clientStream(this.files, this.files.putArchive, messages(), opts);
  }
}
