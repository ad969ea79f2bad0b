/**
 * The shared Snapshotter test suite (docs/architecture.md, "Conventions" 3;
 * after containerd's core/snapshots/testsuite): every Snapshotter
 * implementation must pass it. Today that is overlayfs and native, run by
 * test/integration/snapshots/overlay.test.ts and native.test.ts. The gRPC
 * API exposes only List and Usage of snapshots, so there is no client-side
 * Snapshotter to run it against; one that implements the interface over the
 * wire must run it too. Mocha only; not part of the daemon bundle.
 *
 * The harness a factory returns:
 * - the snapshotter must be empty, and mark 'extract-' as a transient prefix
 *   (what the unpacker uses) so the crash test can see cleanup at work;
 * - `reopen()` gives a new instance over the same state *without* closing
 *   the old one, as a daemon restart after a crash would;
 * - `canMount`: this process may mount what the snapshotter returns (same
 *   machine, root); then the merged views are checked through real mounts;
 * - `plantOrphan()` (local implementations only) leaves a directory the way
 *   a crash would and returns a check that it is gone;
 * - `dispose()` tears everything down and fails if anything is left mounted.
 *
 * Files are put into a snapshot the way the layer applier does: into the
 * directory behind its mounts (a bind's source, an overlay's upperdir).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { isGantryError, type ErrorKind } from '../errdefs/errdefs';
import { isOverlay, optionValue, type Mount } from '../mount/mount';
import { mount, readMountInfo, unmount, unmountAll } from '../mount/mounter';
import type { Info, Snapshotter } from './snapshots';

export interface SnapshotterHarness {
  readonly snapshotter: Snapshotter;
  reopen(): Promise<Snapshotter>;
  readonly canMount: boolean;
  plantOrphan?(): Promise<() => Promise<boolean>>;
  dispose(): Promise<void>;
}

export type SnapshotterFactory = () => Promise<SnapshotterHarness>;

const ctx: Ctx = { signal: new AbortController().signal };

const kind = (k: ErrorKind) => (e: unknown) => {
  assert.ok(isGantryError(e), `expected a GantryError ${k}, got ${String(e)}`);
  assert.equal(e.kind, k, `expected ${k}, got ${e.kind}: ${e.message}`);
  return true;
};

/** The directory a layer applier writes into for these mounts. */
export function writableDir(mounts: readonly Mount[]): string {
  assert.equal(mounts.length, 1, 'one mount expected');
  const m = mounts[0];
  if (isOverlay(m)) {
    const upper = optionValue(m, 'upperdir');
    assert.ok(upper, 'an overlay mount of an active snapshot has an upperdir');
    return upper;
  }
  assert.equal(m.type, 'bind');
  return m.source;
}

export function isReadOnly(mounts: readonly Mount[]): boolean {
  return mounts.every((m) => (isOverlay(m) ? optionValue(m, 'upperdir') === undefined : m.options.includes('ro')));
}

export function runSnapshotterSuite(name: string, factory: SnapshotterFactory): void {
  describe(`Snapshotter suite: ${name}`, function () {
    this.timeout(60_000);
    let h: SnapshotterHarness;
    let s: Snapshotter;
    let mountDir: string;

    beforeEach(async () => {
      h = await factory();
      s = h.snapshotter;
      mountDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'snap-mnt-'));
    });
    afterEach(async () => {
      await unmount(mountDir).catch(() => undefined);
      await fs.promises.rm(mountDir, { recursive: true, force: true });
      await h.dispose();
    });

    /** Commits a layer holding `files` on top of `parent`; returns its name. */
    async function layer(name: string, parent: string, files: Record<string, string>): Promise<string> {
      const dir = writableDir(await s.prepare(ctx, `extract-${name}`, parent));
      for (const [file, content] of Object.entries(files)) {
        await fs.promises.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await fs.promises.writeFile(path.join(dir, file), content);
      }
      await s.commit(ctx, name, `extract-${name}`);
      return name;
    }

    /** Runs `fn` with the mounts mounted at mountDir (only when the harness can mount). */
    async function withMounted<T>(mounts: readonly Mount[], fn: (dir: string) => Promise<T>): Promise<T> {
      await mount(mounts, mountDir);
      try {
        return await fn(mountDir);
      } finally {
        await unmount(mountDir);
      }
    }

    async function names(): Promise<string[]> {
      const result: string[] = [];
      await s.walk(ctx, (info) => {
        result.push(info.name);
      });
      return result.sort();
    }

    it('prepare → commit → prepare child: the child sees its parents and writes its own layer', async () => {
      const mounts = await s.prepare(ctx, 'extract-1', '');
      assert.equal(mounts.length, 1);
      assert.equal(isReadOnly(mounts), false);
      await fs.promises.writeFile(path.join(writableDir(mounts), 'a'), 'from layer 1');
      assert.deepEqual(await s.mounts(ctx, 'extract-1'), mounts);
      await s.commit(ctx, 'layer-1', 'extract-1');
      await assert.rejects(s.stat(ctx, 'extract-1'), kind('NotFound'));
      const info = await s.stat(ctx, 'layer-1');
      assert.equal(info.kind, 'committed');
      assert.equal(info.parent, '');
      await layer('layer-2', 'layer-1', { b: 'from layer 2' });
      assert.equal((await s.stat(ctx, 'layer-2')).parent, 'layer-1');

      const child = await s.prepare(ctx, 'ctr-1', 'layer-2');
      assert.deepEqual(
        { kind: (await s.stat(ctx, 'ctr-1')).kind, parent: (await s.stat(ctx, 'ctr-1')).parent },
        { kind: 'active', parent: 'layer-2' },
      );
      if (h.canMount) {
        await withMounted(child, async (dir) => {
          assert.equal(await fs.promises.readFile(path.join(dir, 'a'), 'utf8'), 'from layer 1');
          assert.equal(await fs.promises.readFile(path.join(dir, 'b'), 'utf8'), 'from layer 2');
          await fs.promises.writeFile(path.join(dir, 'c'), 'from the container');
        });
        assert.equal(await fs.promises.readFile(path.join(writableDir(child), 'c'), 'utf8'), 'from the container');
      }
    });

    it('views are read-only and see their parent tree', async () => {
      await layer('l1', '', { a: '1' });
      await layer('l2', 'l1', { b: '2' });
      for (const parent of ['l1', 'l2']) {
        const mounts = await s.view(ctx, `view-${parent}`, parent, { labels: { purpose: 'inspect' } });
        assert.ok(isReadOnly(mounts), `view of ${parent} is read-only: ${JSON.stringify(mounts)}`);
        assert.deepEqual(await s.mounts(ctx, `view-${parent}`), mounts);
        const info = await s.stat(ctx, `view-${parent}`);
        assert.deepEqual([info.kind, info.parent, info.labels], ['view', parent, { purpose: 'inspect' }]);
        await assert.rejects(s.commit(ctx, `c-${parent}`, `view-${parent}`), kind('FailedPrecondition'));
        if (h.canMount) {
          await withMounted(mounts, async (dir) => {
            assert.equal(await fs.promises.readFile(path.join(dir, 'a'), 'utf8'), '1');
            assert.equal(fs.existsSync(path.join(dir, 'b')), parent === 'l2');
            await assert.rejects(fs.promises.writeFile(path.join(dir, 'x'), 'no'), { code: 'EROFS' });
          });
        }
      }
      const empty = await s.view(ctx, 'view-empty', '');
      assert.ok(isReadOnly(empty));
      if (h.canMount) await withMounted(empty, async (dir) => assert.deepEqual(await fs.promises.readdir(dir), []));
      // Removing the views frees the parents.
      await assert.rejects(s.remove(ctx, 'l2'), kind('FailedPrecondition'));
      await s.remove(ctx, 'view-l2');
      await s.remove(ctx, 'l2');
    });

    it('refuses what the contract refuses, and a refused call leaves nothing behind', async () => {
      await layer('base', '', { f: 'x' });
      await s.prepare(ctx, 'work', 'base');
      await assert.rejects(s.prepare(ctx, 'work', 'base'), kind('AlreadyExists'));
      await assert.rejects(s.view(ctx, 'work', ''), kind('AlreadyExists'));
      await assert.rejects(s.prepare(ctx, 'base', ''), kind('AlreadyExists'), 'keys and names share one space');
      await assert.rejects(s.prepare(ctx, 'orphan', 'no-such-parent'), kind('NotFound'));
      await assert.rejects(s.prepare(ctx, 'on-active', 'work'), kind('InvalidArgument'));
      await assert.rejects(s.prepare(ctx, '', 'base'), kind('InvalidArgument'));
      await assert.rejects(s.commit(ctx, 'x', 'no-such-key'), kind('NotFound'));
      await assert.rejects(s.commit(ctx, 'base', 'work'), kind('AlreadyExists'));
      assert.equal((await s.stat(ctx, 'work')).kind, 'active', 'a refused commit keeps the active snapshot');
      await assert.rejects(s.commit(ctx, 'again', 'base'), kind('FailedPrecondition'), 'a committed snapshot cannot be committed');
      await assert.rejects(s.mounts(ctx, 'base'), kind('FailedPrecondition'));
      await assert.rejects(s.mounts(ctx, 'nope'), kind('NotFound'));
      await assert.rejects(s.stat(ctx, 'nope'), kind('NotFound'));
      await assert.rejects(s.usage(ctx, 'nope'), kind('NotFound'));
      await assert.rejects(s.setLabels(ctx, 'nope', {}), kind('NotFound'));
      await assert.rejects(s.remove(ctx, 'nope'), kind('NotFound'));
      assert.deepEqual(await names(), ['base', 'work']);
    });

    it('labels: given at prepare, replaced by setLabels, carried over or replaced at commit', async () => {
      await s.prepare(ctx, 'extract-l', '', { labels: { a: '1', b: '2' } });
      const before = await s.stat(ctx, 'extract-l');
      assert.deepEqual(before.labels, { a: '1', b: '2' });
      await new Promise((r) => setTimeout(r, 5));
      const updated = await s.setLabels(ctx, 'extract-l', { c: '3' });
      assert.deepEqual(updated.labels, { c: '3' });
      assert.ok(updated.updatedAt.getTime() > before.updatedAt.getTime(), 'updatedAt moves');
      assert.equal(updated.createdAt.getTime(), before.createdAt.getTime());
      assert.deepEqual((await s.stat(ctx, 'extract-l')).labels, { c: '3' });
      await s.commit(ctx, 'kept', 'extract-l');
      assert.deepEqual((await s.stat(ctx, 'kept')).labels, { c: '3' });
      await s.prepare(ctx, 'extract-m', 'kept', { labels: { old: 'y' } });
      await s.commit(ctx, 'replaced', 'extract-m', { labels: { fresh: 'z' } });
      assert.deepEqual((await s.stat(ctx, 'replaced')).labels, { fresh: 'z' });
      await assert.rejects(s.setLabels(ctx, 'kept', { big: 'x'.repeat(5000) }), kind('InvalidArgument'));
    });

    it('walk reports every snapshot with its kind and parent', async () => {
      await layer('w1', '', {});
      await layer('w2', 'w1', {});
      await s.prepare(ctx, 'w-active', 'w2');
      await s.view(ctx, 'w-view', 'w1');
      const seen: Info[] = [];
      await s.walk(ctx, (info) => {
        seen.push(info);
      });
      const summary = seen.map((i) => `${i.name}:${i.kind}:${i.parent}`).sort();
      assert.deepEqual(summary, ['w-active:active:w2', 'w-view:view:w1', 'w1:committed:', 'w2:committed:w1']);
      for (const info of seen) assert.ok(info.createdAt instanceof Date && info.updatedAt instanceof Date);
    });

    it("usage counts a snapshot's own files, a hardlinked file once", async () => {
      await layer('u1', '', { big: 'x'.repeat(64 * 1024) });
      const u1 = await s.usage(ctx, 'u1');
      assert.ok(u1.size >= 64 * 1024 && u1.size < 128 * 1024, `u1 size ${u1.size}`);
      assert.ok(u1.inodes >= 2, `u1 inodes ${u1.inodes}`);
      const dir = writableDir(await s.prepare(ctx, 'u2', 'u1'));
      const empty = await s.usage(ctx, 'u2');
      await fs.promises.writeFile(path.join(dir, 'bigger'), Buffer.alloc(128 * 1024, 1));
      const withFile = await s.usage(ctx, 'u2');
      assert.equal(withFile.inodes, empty.inodes + 1);
      assert.ok(withFile.size >= empty.size + 128 * 1024, `usage grows by the file: ${empty.size} → ${withFile.size}`);
      await fs.promises.link(path.join(dir, 'bigger'), path.join(dir, 'same-inode'));
      assert.deepEqual(await s.usage(ctx, 'u2'), withFile);
    });

    it('remove refuses a parent with children, then removes children and parent', async () => {
      await layer('p', '', { f: 'x' });
      await s.prepare(ctx, 'kid', 'p');
      await assert.rejects(s.remove(ctx, 'p'), kind('FailedPrecondition'));
      assert.equal((await s.stat(ctx, 'p')).kind, 'committed');
      await s.remove(ctx, 'kid');
      await assert.rejects(s.stat(ctx, 'kid'), kind('NotFound'));
      await s.remove(ctx, 'p');
      await assert.rejects(s.remove(ctx, 'p'), kind('NotFound'));
      assert.deepEqual(await names(), []);
      // The name is free again.
      await layer('p', '', { g: 'y' });
      assert.equal((await s.stat(ctx, 'p')).kind, 'committed');
    });

    it('records survive a reopen', async () => {
      await layer('r1', '', { a: 'kept' });
      await s.setLabels(ctx, 'r1', { note: 'x' });
      await s.prepare(ctx, 'ctr-r', 'r1', { labels: { owner: 'c1' } });
      const before = await s.stat(ctx, 'r1');
      s = await h.reopen();
      const after = await s.stat(ctx, 'r1');
      assert.deepEqual(after, before);
      assert.deepEqual((await s.stat(ctx, 'ctr-r')).labels, { owner: 'c1' });
      const child = await s.prepare(ctx, 'ctr-r2', 'r1');
      if (h.canMount) {
        await withMounted(child, async (dir) => assert.equal(await fs.promises.readFile(path.join(dir, 'a'), 'utf8'), 'kept'));
      }
    });

    it('after a crash, cleanup removes transient snapshots and orphan directories and keeps the rest', async () => {
      await layer('c1', '', { a: '1' });
      const interrupted = writableDir(await s.prepare(ctx, 'extract-interrupted', 'c1'));
      await fs.promises.writeFile(path.join(interrupted, 'half'), 'written');
      await s.view(ctx, 'extract-view', 'c1');
      await s.prepare(ctx, 'ctr-survives', 'c1');
      const orphanGone = await h.plantOrphan?.();
      s = await h.reopen(); // no close(): the old instance "crashed"
      assert.equal((await s.stat(ctx, 'extract-interrupted')).kind, 'active');
      await s.cleanup(ctx);
      await assert.rejects(s.stat(ctx, 'extract-interrupted'), kind('NotFound'));
      await assert.rejects(s.stat(ctx, 'extract-view'), kind('NotFound'));
      assert.deepEqual(await names(), ['c1', 'ctr-survives']);
      if (orphanGone) assert.ok(await orphanGone(), 'the orphan directory is removed');
      await s.cleanup(ctx); // idempotent
      assert.deepEqual(await names(), ['c1', 'ctr-survives']);
    });

    it('concurrent prepares get their own snapshots; of two commits to one name, one wins', async () => {
      await layer('base', '', { f: 'x' });
      const keys = Array.from({ length: 8 }, (_, i) => `extract-par-${i}`);
      const all = await Promise.all(keys.map((k) => s.prepare(ctx, k, 'base')));
      assert.equal(new Set(all.map((m) => writableDir(m))).size, keys.length);
      const results = await Promise.allSettled([s.commit(ctx, 'chain', keys[0]), s.commit(ctx, 'chain', keys[1])]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      kind('AlreadyExists')(lost.reason);
      const dup = await Promise.allSettled([s.prepare(ctx, 'same', 'base'), s.prepare(ctx, 'same', 'base')]);
      assert.deepEqual(dup.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      // base, the eight (one now committed as 'chain'), and 'same'
      assert.equal((await names()).length, 1 + keys.length + 1);
    });
  });
}

/**
 * A harness for a snapshotter kept in a local directory: a fresh temp root,
 * reopen over the same root, orphans planted under `snapshots/`, and a
 * teardown that closes every instance, fails if anything is still mounted
 * under the root (after unmounting it, so one failure does not leak), and
 * removes the root.
 */
export async function localSnapshotterHarness(
  open: (root: string) => Promise<Snapshotter & { close(): Promise<void> }>,
  options: { canMount: boolean; tmpPrefix?: string },
): Promise<SnapshotterHarness> {
  const root = await fs.promises.realpath(await fs.promises.mkdtemp(path.join(os.tmpdir(), options.tmpPrefix ?? 'snap-')));
  const instances = [await open(root)];
  return {
    snapshotter: instances[0],
    canMount: options.canMount,
    async reopen() {
      const next = await open(root);
      instances.push(next);
      return next;
    },
    async plantOrphan() {
      const numbered = path.join(root, 'snapshots', '999999', 'fs');
      const unfinished = path.join(root, 'snapshots', 'new-0123456789abcdef', 'fs');
      for (const dir of [numbered, unfinished]) {
        await fs.promises.mkdir(dir, { recursive: true });
        await fs.promises.writeFile(path.join(dir, 'left-by-a-crash'), 'x');
      }
      return async () => !fs.existsSync(path.dirname(numbered)) && !fs.existsSync(path.dirname(unfinished));
    },
    async dispose() {
      for (const s of instances) await s.close();
      const left = (await readMountInfo()).filter((m) => m.mountPoint === root || m.mountPoint.startsWith(`${root}/`));
      if (left.length > 0) await unmountAll(root);
      await fs.promises.rm(root, { recursive: true, force: true });
      assert.deepEqual(
        left.map((m) => m.mountPoint),
        [],
        'nothing is left mounted under the snapshotter root',
      );
    },
  };
}
