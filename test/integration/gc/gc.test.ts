// The collector against a real content store and a real (native) snapshotter:
// what a lease protects survives, what nothing names goes, children first.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { LocalStore } from '../../../runtime/content/local';
import { Collector } from '../../../runtime/gc/gc';
import { NativeSnapshotter } from '../../../runtime/snapshots/native';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const ctx = { signal: new AbortController().signal };
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('garbage collection (blobs and snapshots)', () => {
  const cleanup = suiteCleanup();

  async function setup() {
    const dir = await makeTempDir('ggc', cleanup);
    const content = await LocalStore.open(path.join(dir, 'content'));
    const snapshotter = await NativeSnapshotter.open(path.join(dir, 'snapshots'), { transientPrefixes: ['extract-'] });
    cleanup.defer(() => snapshotter.close());
    return { content, snapshotter, gc: new Collector(content, snapshotter) };
  }

  async function commitChain(snapshotter: NativeSnapshotter, names: string[]): Promise<void> {
    let parent = '';
    for (const name of names) {
      await snapshotter.prepare(ctx, `extract-${name}`, parent);
      await snapshotter.commit(ctx, name, `extract-${name}`);
      parent = name;
    }
  }

  const names = async (snapshotter: NativeSnapshotter) => {
    const out: string[] = [];
    await snapshotter.walk(ctx, (i) => void out.push(i.name));
    return out.sort();
  };

  it('keeps a leased chain (a pull before its image record exists) and collects it once released', async () => {
    const { snapshotter, gc } = await setup();
    const chain = [digestOf('l1'), digestOf('l2')];
    await commitChain(snapshotter, chain);
    const lease = gc.lease();
    lease.add(chain[1]);
    assert.equal((await gc.collect(ctx)).removedSnapshots, 0);
    assert.deepEqual(await names(snapshotter), [...chain].sort());
    lease.release();
    assert.equal((await gc.collect(ctx)).removedSnapshots, 2, 'child first, then its parent');
    assert.deepEqual(await names(snapshotter), []);
  });

  it('keeps chains that roots name and whatever active snapshots stand on', async () => {
    const { snapshotter, gc } = await setup();
    const named = [digestOf('a1'), digestOf('a2')];
    const underContainer = [digestOf('b1')];
    const orphan = [digestOf('c1'), digestOf('c2'), digestOf('c3')];
    await commitChain(snapshotter, named);
    await commitChain(snapshotter, underContainer);
    await commitChain(snapshotter, orphan);
    await snapshotter.prepare(ctx, 'container-rootfs', underContainer[0]);
    gc.addSnapshotRoots(() => [named[1]]);
    const result = await gc.collect(ctx);
    assert.equal(result.removedSnapshots, 3);
    assert.deepEqual(await names(snapshotter), [...named, ...underContainer, 'container-rootfs'].sort());
  });

  it('deletes unreferenced blobs, keeps leased ones', async () => {
    const { content, gc } = await setup();
    for (const text of ['keep', 'drop']) {
      const writer = await content.writer(ctx, { ref: text });
      await writer.write(Buffer.from(text));
      await writer.commit(text.length, digestOf(text));
    }
    const lease = gc.lease();
    lease.add(digestOf('keep'));
    const result = await gc.collect(ctx);
    assert.equal(result.removed, 1);
    assert.equal(result.reclaimedBytes, 4);
    await content.info(ctx, digestOf('keep'));
    await assert.rejects(content.info(ctx, digestOf('drop')));
    lease.release();
  });
});
