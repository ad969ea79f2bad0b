/**
 * Reading a layer's entries from its tar (the native snapshotter keeps no
 * per-layer directory, so the layer blob in the content store is the
 * record of what the layer did). `.wh.NAME` becomes a whiteout of NAME,
 * `.wh..wh..opq` marks its directory opaque; parent directories a tar leaves
 * out are added, as the applier creates them (runtime/unpack/writer.ts), so
 * a tar and an overlay layer dir give the same entries.
 */
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { classifyWhiteout } from '../unpack/whiteouts';
import { entryPath } from '../unpack/paths';
import type { LayerEntry, LayerEntryKind } from './layers';

function kindOfType(type: string | null | undefined): LayerEntryKind {
  switch (type) {
    case 'file':
    case 'contiguous-file':
    case 'link':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    default:
      return 'other';
  }
}

/** The entries of an uncompressed layer tar, in the order the tar holds them (later entries replace earlier ones). */
export async function tarEntries(uncompressed: AsyncIterable<Buffer> | Readable): Promise<LayerEntry[]> {
  const byPath = new Map<string, LayerEntry>();
  const put = (e: LayerEntry) => {
    byPath.delete(e.path);
    byPath.set(e.path, e);
  };
  const parents = (p: string) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!byPath.has(dir)) put({ path: dir, kind: 'directory', size: 0 });
    }
  };
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = entryPath(h.name);
      entry.resume();
      if (rel === '') continue;
      const p = `/${rel}`;
      const slash = p.lastIndexOf('/');
      const dir = slash <= 0 ? '/' : p.slice(0, slash);
      const whiteout = classifyWhiteout(p.slice(slash + 1), h.name);
      parents(p);
      if (whiteout.kind === 'opaque') {
        if (dir !== '/') {
          const had = byPath.get(dir);
          byPath.set(dir, { ...(had ?? { path: dir, kind: 'directory', size: 0 }), opaque: true });
        }
        continue;
      }
      if (whiteout.kind === 'meta') continue;
      if (whiteout.kind === 'delete') {
        put({ path: dir === '/' ? `/${whiteout.name}` : `${dir}/${whiteout.name}`, kind: 'whiteout', size: 0 });
        continue;
      }
      const kind = kindOfType(h.type);
      if (h.type === 'link') {
        const target = byPath.get(`/${entryPath(h.linkname ?? '')}`);
        put({ path: p, kind, size: target?.size ?? 0, linked: true });
        continue;
      }
      const size = kind === 'file' ? (h.size ?? 0) : kind === 'symlink' ? Buffer.byteLength(h.linkname ?? '') : 0;
      const had = byPath.get(p);
      // A directory entry after its opaque marker keeps the mark.
      put({ path: p, kind, size, ...(kind === 'directory' && had?.opaque ? { opaque: true } : {}) });
    }
  })();
  const feed = (async () => {
    for await (const chunk of uncompressed) {
      if (!extract.write(chunk)) await new Promise<void>((r) => extract.once('drain', () => r()));
    }
    (extract as unknown as { end(): void }).end();
  })();
  feed.catch((e: unknown) => extract.destroy(e as Error));
  await Promise.all([done, feed]);
  return [...byPath.values()];
}
