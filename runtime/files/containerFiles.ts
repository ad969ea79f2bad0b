/**
 * The files service: a container's filesystem, running or stopped, through
 * a RootedFs opened for each call on the container's root as the daemon
 * finds it (roots.ts says where). Design: docs/files.md.
 */
import type { Readable } from 'node:stream';
import type { Ctx } from '../context';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import { extractArchive, type ExtractResult } from './archiveExtract';
import { packArchive, type PackOptions } from './archivePack';
import type { DirectoryListing, ListingDetail } from './listing';
import { RootedFs, checkContainerPath, type FileInfo, type FileRange, type Owner, type ReadOptions, type WriteOptions } from './rootedFs';

/** Whose files: a container, a volume, or a layer of an image (read-only, docs/layers.md); exactly one. */
export interface FileTarget {
  readonly container?: string;
  /** A volume's name: its data directory is the root. */
  readonly volume?: string;
  readonly layer?: { readonly image: string; readonly index: number };
}

/** A tree to work on: a host path gantryd trusts, and who new files belong to. */
export interface FileRoot {
  readonly path: string;
  /** For messages: "container web". */
  readonly description: string;
  /**
   * Or how to find it: only writes need it, and finding a container's user
   * reads its passwd and group files — a cost every read and listing would
   * pay for nothing (docs/performance.md, the files benchmark).
   */
  readonly owner: Owner | (() => Promise<Owner>);
  /** Writes are refused (an image layer). */
  readonly readOnly?: boolean;
  /**
   * Mounted for this call only (a stopped container's tree, an image
   * layer's stack), unmounted at release: no descriptor into it may outlive
   * the call, so it is not offered for local access.
   */
  readonly mountedForCall?: boolean;
  /** Called when the call is done (e.g. a stopped container's mount is no longer needed). */
  release(): Promise<void>;
}

/** Finds a target's root (the container side implements it: daemon/files.ts). */
export interface FileRoots {
  rootOf(ctx: Ctx, target: FileTarget): Promise<FileRoot>;
}

function ownerOf(root: FileRoot): Promise<Owner> {
  return typeof root.owner === 'function' ? root.owner() : Promise.resolve(root.owner);
}

export class ContainerFiles {
  constructor(private readonly roots: FileRoots) {}

  private async with<T>(ctx: Ctx, target: FileTarget, fn: (fs: RootedFs, root: FileRoot) => Promise<T>, write = false): Promise<T> {
    const named = [target.container, target.volume, target.layer].filter((t) => t).length;
    if (named !== 1) throw invalidArgument('name one container, volume or image layer: whose files?');
    const root = await this.roots.rootOf(ctx, target);
    try {
      if (write && root.readOnly) throw failedPrecondition(`the files of ${root.description} are read-only`);
      const fs = await RootedFs.open(root.path, root.description);
      try {
        return await fn(fs, root);
      } finally {
        await fs.close();
      }
    } finally {
      await root.release();
    }
  }

  stat(ctx: Ctx, target: FileTarget, path: string, follow: boolean): Promise<{ info: FileInfo; realPath: string }> {
    checkContainerPath(path);
    // Where the path leads is with links followed, also for an lstat (then a second resolution).
    return this.with(ctx, target, async (fs) =>
      follow ? fs.lookup(path) : { info: await fs.stat(path, false), realPath: await fs.realPath(path) },
    );
  }

  readDirectory(ctx: Ctx, target: FileTarget, path: string): Promise<FileInfo[]> {
    checkContainerPath(path);
    return this.with(ctx, target, (fs) => fs.readDirectory(path));
  }

  /** A directory's entries as columns, with the detail asked for (listing.ts). */
  listDirectory(ctx: Ctx, target: FileTarget, path: string, detail: ListingDetail): Promise<DirectoryListing> {
    checkContainerPath(path);
    return this.with(ctx, target, (fs) => fs.listDirectory(path, detail));
  }

  /**
   * A file or directory opened for local access (docs/files.md, "Local
   * access"): `hold` gets its descriptor and how to recognise it, and the
   * descriptor is closed once `hold` resolves.
   */
  openLocal(
    ctx: Ctx,
    target: FileTarget,
    path: string,
    directory: boolean,
    hold: (opened: { info: FileInfo; fd: number; dev: bigint; ino: bigint }) => Promise<void>,
  ): Promise<void> {
    checkContainerPath(path);
    return this.with(ctx, target, async (fs, root) => {
      if (root.mountedForCall) throw failedPrecondition(`${root.description} is mounted for each call only: no local access to its files`);
      const { info, handle, dev, ino } = await fs.openLocal(path, directory);
      try {
        await hold({ info, fd: handle.fd, dev, ino });
      } finally {
        await handle.close();
      }
    });
  }

  /**
   * Streams a file to `consume`; the root stays open (and a stopped
   * container's tree mounted) until it has read the whole stream.
   */
  readFile(
    ctx: Ctx,
    target: FileTarget,
    path: string,
    range: ReadOptions,
    consume: (info: FileInfo, stream: Readable, fileRange: FileRange) => Promise<void>,
  ): Promise<void> {
    checkContainerPath(path);
    return this.with(ctx, target, async (fs) => {
      const { info, stream, range: opened } = await fs.readFile(path, range);
      try {
        await consume(info, stream, opened);
      } finally {
        stream.destroy();
      }
    });
  }

  writeFile(ctx: Ctx, target: FileTarget, path: string, data: Buffer | Readable, opts: WriteOptions): Promise<FileInfo> {
    checkContainerPath(path);
    return this.with(ctx, target, async (fs, root) => fs.writeFile(path, data, { owner: await ownerOf(root), ...opts }), true);
  }

  createDirectory(ctx: Ctx, target: FileTarget, path: string, parents: boolean): Promise<void> {
    checkContainerPath(path);
    return this.with(ctx, target, async (fs, root) => fs.createDirectory(path, { recursive: parents, owner: await ownerOf(root) }), true);
  }

  delete(ctx: Ctx, target: FileTarget, path: string, recursive: boolean): Promise<void> {
    checkContainerPath(path);
    return this.with(ctx, target, (fs) => fs.delete(path, { recursive }), true);
  }

  rename(ctx: Ctx, target: FileTarget, from: string, to: string, overwrite: boolean): Promise<void> {
    checkContainerPath(from);
    checkContainerPath(to);
    return this.with(ctx, target, (fs) => fs.rename(from, to, { overwrite }), true);
  }

  /**
   * A path as a tar stream handed to `consume` (Docker's GET archive); the
   * root stays open until it has read it all.
   */
  getArchive(
    ctx: Ctx,
    target: FileTarget,
    path: string,
    opts: PackOptions,
    consume: (info: FileInfo, tar: Readable) => Promise<void>,
  ): Promise<void> {
    checkContainerPath(path);
    return this.with(ctx, target, (fs) => packArchive(fs, path, opts, consume));
  }

  /** A tar stream extracted under a directory (Docker's PUT archive); owned by the container's user unless `copyUidGid`. */
  putArchive(
    ctx: Ctx,
    target: FileTarget,
    path: string,
    archive: Readable,
    opts: { copyUidGid: boolean; allowOverwriteDirWithFile: boolean },
  ): Promise<ExtractResult> {
    checkContainerPath(path);
    return this.with(
      ctx,
      target,
      async (fs, root) =>
        extractArchive(fs, path, archive, {
          owner: opts.copyUidGid ? 'archive' : await ownerOf(root),
          allowOverwriteDirWithFile: opts.allowOverwriteDirWithFile,
        }),
      true,
    );
  }
}
