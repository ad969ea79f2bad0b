// The pod infra rootfs (runtime/cri/pause.ts): one snapshot per catatonit
// content, named by its digest; the binary is hashed again only when its
// file changed, and a replaced binary (an upgrade) gets a snapshot of its own.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { background } from '../../../runtime/context';
import { notFound } from '../../../runtime/errdefs/errdefs';
import { PauseRootfs } from '../../../runtime/cri/pause';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('cri/pause', () => {
  const cleanup = suiteCleanup();

  /** A snapshotter that has every snapshot it is asked about (base() then never mounts anything). */
  function setUp(dir: string, have = true) {
    const stats: string[] = [];
    const snapshotter = {
      stat: async (_ctx: unknown, name: string) => {
        stats.push(name);
        if (!have) throw notFound(name);
        return { name } as never;
      },
      prepare: async () => {
        throw new Error('not made in this test');
      },
      commit: async () => undefined,
      remove: async () => undefined,
    };
    const binary = path.join(dir, 'catatonit');
    return { stats, binary, pause: new PauseRootfs({ snapshotter, binary, scratch: path.join(dir, 'scratch') }) };
  }
  const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

  it('names the snapshot by the binary digest, the same for every pod; a replaced binary gets a new one', async () => {
    const dir = await makeTempDir('gpause', cleanup);
    const { pause, binary, stats } = setUp(dir);
    fs.writeFileSync(binary, 'catatonit 1');
    const first = await pause.base(background());
    assert.equal(first.id, `sha256:${digestOf('catatonit 1')}`);
    assert.equal(first.chainId, `cri-pause-${digestOf('catatonit 1').slice(0, 24)}`);
    assert.deepEqual(pause.snapshotRoots(), [first.chainId]);
    assert.deepEqual(await pause.base(background()), first);
    assert.deepEqual(stats, [first.chainId, first.chainId]);
    // An upgrade: the package puts a new file in place (another inode).
    fs.writeFileSync(`${binary}.new`, 'catatonit 2');
    fs.renameSync(`${binary}.new`, binary);
    const second = await pause.base(background());
    assert.equal(second.id, `sha256:${digestOf('catatonit 2')}`);
    assert.notEqual(second.chainId, first.chainId);
    assert.deepEqual(pause.snapshotRoots(), [second.chainId]);
    // Rewritten in place (same inode, new content and times): hashed again too.
    fs.writeFileSync(binary, 'catatonit three');
    assert.equal((await pause.base(background())).id, `sha256:${digestOf('catatonit three')}`);
  });

  it('says how to get the binary when it is missing, every time', async () => {
    const dir = await makeTempDir('gpause', cleanup);
    const { pause, binary } = setUp(dir);
    fs.writeFileSync(binary, 'catatonit 1');
    await pause.base(background());
    fs.rmSync(binary);
    for (let i = 0; i < 2; i++)
      await assert.rejects(
        pause.base(background()),
        (e: Error) => /catatonit.*--sandbox-image/.test(e.message) && e.message.includes(binary),
      );
  });
});
