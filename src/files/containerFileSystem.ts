/**
 * The files of containers as a VS Code file system (`gantry-files:`), over
 * the daemon's files service (client.files; docs/files.md): an editor opens,
 * edits and saves a container's file with no process in the container, on
 * a running or a stopped one, locally or on an SSH host.
 *
 * - Errors become FileSystemErrors of the matching kind, so VS Code words
 *   them ("file not found", "file exists") and offers what fits.
 * - Files larger than `gantry.files.maxEditorBytes` are refused by readFile
 *   with a message saying why (the editor would hold all of it in memory);
 *   files above a quarter of that are marked read-only.
 * - The daemon has no change feed for a container's files, so `watch`
 *   polls `stat` (`gantry.files.pollIntervalMs`) for what VS Code watches
 *   (open editors): a change made inside the container shows in the editor.
 */
import * as vscode from 'vscode';
import { FileType as WireType, kindOf, type DirectoryEntry, type FileTargetRef, type RuntimeClient } from '../../runtime/client';
import type { RuntimeConnection } from '../client/connection';
import { parseContainerFileUri } from './containerFileUris';

const DEFAULT_MAX_EDITOR_BYTES = 50 * 1024 * 1024;
const DEFAULT_POLL_MS = 2000;

function settings(): { maxEditorBytes: number; pollMs: number } {
  const c = vscode.workspace.getConfiguration('gantry.files');
  return {
    maxEditorBytes: c.get<number>('maxEditorBytes', DEFAULT_MAX_EDITOR_BYTES),
    pollMs: Math.max(250, c.get<number>('pollIntervalMs', DEFAULT_POLL_MS)),
  };
}

/** What VS Code makes of a daemon failure on `uri`. */
export function toFileSystemError(e: unknown, uri: vscode.Uri): Error {
  const message = e instanceof Error ? e.message : String(e);
  switch (kindOf(e)) {
    case 'NotFound':
      return vscode.FileSystemError.FileNotFound(uri);
    case 'AlreadyExists':
      return vscode.FileSystemError.FileExists(uri);
    case 'PermissionDenied':
      return vscode.FileSystemError.NoPermissions(message);
    case 'Unavailable':
    case 'DeadlineExceeded':
      return vscode.FileSystemError.Unavailable(message);
    case 'FailedPrecondition':
      if (/not a directory/.test(message)) return vscode.FileSystemError.FileNotADirectory(uri);
      if (/is a directory/.test(message)) return vscode.FileSystemError.FileIsADirectory(uri);
      return new vscode.FileSystemError(message);
    default:
      return new vscode.FileSystemError(message);
  }
}

function fileType(t: WireType, target?: WireType): vscode.FileType {
  switch (t) {
    case WireType.FILE_TYPE_FILE:
      return vscode.FileType.File;
    case WireType.FILE_TYPE_DIRECTORY:
      return vscode.FileType.Directory;
    case WireType.FILE_TYPE_SYMLINK:
      return (
        vscode.FileType.SymbolicLink | (target === undefined ? vscode.FileType.Unknown : fileType(target) & ~vscode.FileType.SymbolicLink)
      );
    default:
      return vscode.FileType.Unknown;
  }
}

export class ContainerFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changes.event;

  constructor(private readonly connection: RuntimeConnection) {}

  dispose(): void {
    this.changes.dispose();
  }

  private async call<T>(uri: vscode.Uri, fn: (client: RuntimeClient, target: FileTargetRef, path: string) => Promise<T>): Promise<T> {
    const { target, path } = parseContainerFileUri(uri);
    try {
      return await fn(this.connection.requireClient(), target, path);
    } catch (e) {
      throw toFileSystemError(e, uri);
    }
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { info } = await this.call(uri, (client, target, path) => client.files.stat(target, path));
    const { maxEditorBytes } = settings();
    return {
      type: fileType(info.type),
      ctime: info.changedAt?.getTime() ?? 0,
      mtime: info.modifiedAt?.getTime() ?? 0,
      size: info.size,
      // An image layer's files never change (docs/layers.md); big files open read-only too.
      ...(parseContainerFileUri(uri).layer || (info.type === WireType.FILE_TYPE_FILE && info.size > maxEditorBytes / 4)
        ? { permissions: vscode.FilePermission.Readonly }
        : {}),
    };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    // Names and types are all VS Code asks here (it stats a file when it
    // needs more), so no lstat per entry (docs/files.md, "Listing modes").
    const entries = await this.call(uri, (client, target, path) => client.files.readDirectoryTypes(target, path));
    return entries.map((e: DirectoryEntry) => [
      e.name,
      fileType(e.type, e.type === WireType.FILE_TYPE_SYMLINK ? e.targetType || undefined : undefined),
    ]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { maxEditorBytes } = settings();
    return this.call(uri, async (client, target, path) => {
      // One call: the first chunk says the size, and a file too large ends the read there.
      const abort = new AbortController();
      const chunks: Buffer[] = [];
      for await (const chunk of client.files.read(target, path, {}, abort.signal)) {
        const size = chunk.info?.size ?? 0;
        if (size > maxEditorBytes) {
          abort.abort();
          throw new vscode.FileSystemError(
            `${path} is ${size} bytes, more than gantry.files.maxEditorBytes (${maxEditorBytes}): too large to open in an editor`,
          );
        }
        chunks.push(Buffer.from(chunk.data));
      }
      return Buffer.concat(chunks);
    });
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { readonly create: boolean; readonly overwrite: boolean }): Promise<void> {
    await this.call(uri, (client, target, path) =>
      client.files.writeFile(target, path, content, { exclusive: !options.overwrite, mustExist: !options.create }),
    );
    this.changes.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    await this.call(uri, (client, target, path) => client.files.createDirectory(target, path));
    this.changes.fire([{ type: vscode.FileChangeType.Created, uri }]);
  }

  async delete(uri: vscode.Uri, options: { readonly recursive: boolean }): Promise<void> {
    await this.call(uri, (client, target, path) => client.files.delete(target, path, { recursive: options.recursive }));
    this.changes.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { readonly overwrite: boolean }): Promise<void> {
    const from = parseContainerFileUri(oldUri);
    const to = parseContainerFileUri(newUri);
    if (JSON.stringify(from.target) !== JSON.stringify(to.target)) {
      throw vscode.FileSystemError.Unavailable('files move within one container or volume only');
    }
    await this.call(oldUri, (client, target) => client.files.rename(target, from.path, to.path, { overwrite: options.overwrite }));
    this.changes.fire([
      { type: vscode.FileChangeType.Deleted, uri: oldUri },
      { type: vscode.FileChangeType.Created, uri: newUri },
    ]);
  }

  /** Polls the watched file or folder for changes made inside the container. */
  watch(uri: vscode.Uri): vscode.Disposable {
    // A layer's files never change: nothing to poll.
    if (parseContainerFileUri(uri).layer) return new vscode.Disposable(() => undefined);
    let last: string | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = async () => {
      if (stopped) return;
      let now: string;
      try {
        const s = await this.stat(uri);
        now = `${s.mtime}:${s.size}`;
      } catch (e) {
        now = e instanceof vscode.FileSystemError && e.code === 'FileNotFound' ? 'gone' : (last ?? 'unknown');
      }
      if (last !== undefined && now !== last) {
        this.changes.fire([{ type: now === 'gone' ? vscode.FileChangeType.Deleted : vscode.FileChangeType.Changed, uri }]);
      }
      last = now;
      if (!stopped) timer = setTimeout(() => void poll(), settings().pollMs);
    };
    void poll();
    return new vscode.Disposable(() => {
      stopped = true;
      if (timer) clearTimeout(timer);
    });
  }
}
