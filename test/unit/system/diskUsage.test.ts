import { strict as assert } from 'node:assert';
import { background } from '../../../runtime/context';
import type { Container } from '../../../runtime/containers/containers';
import { notFound } from '../../../runtime/errdefs/errdefs';
import type { Image } from '../../../runtime/images/images';
import { diskUsage, NO_VOLUMES, type DiskUsageSources } from '../../../runtime/system/diskUsage';

/** Layers: base (1000) ← mid (200) ← a-top (30); base ← b-top (4). Containers' active snapshots: c1 (500), c2 (7). */
const SNAPSHOTS: Record<string, { parent: string; size: number }> = {
  base: { parent: '', size: 1000 },
  mid: { parent: 'base', size: 200 },
  'a-top': { parent: 'mid', size: 30 },
  'b-top': { parent: 'base', size: 4 },
  c1: { parent: 'a-top', size: 500 },
  c2: { parent: 'b-top', size: 7 },
};

function snapshotter(): DiskUsageSources['snapshotter'] & { usageCalls: string[] } {
  const usageCalls: string[] = [];
  return {
    name: 'overlayfs',
    usageCalls,
    stat: (_ctx, key) => {
      const s = SNAPSHOTS[key];
      if (!s) return Promise.reject(notFound(`no snapshot ${key}`));
      return Promise.resolve({ kind: 'committed', name: key, parent: s.parent, labels: {}, createdAt: new Date(), updatedAt: new Date() });
    },
    usage: (_ctx, key) => {
      usageCalls.push(key);
      const s = SNAPSHOTS[key];
      return s ? Promise.resolve({ size: s.size, inodes: 1 }) : Promise.reject(notFound(`no snapshot ${key}`));
    },
  };
}

const image = (name: string, id: string, chainId: string | undefined, size = 0): Image => ({
  name,
  id,
  target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:m-${id}`, size: 1 },
  manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:m-${id}`, size: 1 },
  platform: { os: 'linux', architecture: 'amd64' },
  size,
  created: '2024-01-01T00:00:00Z',
  ...(chainId ? { snapshot: { snapshotter: 'overlayfs', chainId } } : {}),
  createdAt: new Date(),
  updatedAt: new Date(),
  labels: {},
});

const container = (id: string, imageId: string, snapshotKey: string, status: Container['state']['status']): Container =>
  ({
    id,
    name: id,
    createdAt: '2024-01-02T00:00:00Z',
    config: { image: 'a:1' },
    imageName: 'a:1',
    imageId,
    imageConfig: {},
    args: ['sleep', '1'],
    snapshotter: 'overlayfs',
    snapshotKey,
    state: { status, exitCode: 0, startedAt: '', finishedAt: '' },
  }) as unknown as Container;

describe('system: disk usage', () => {
  it('counts each layer once, splits shared and unique bytes per image ID, and sizes writable layers', async () => {
    const snaps = snapshotter();
    const usage = await diskUsage(background(), {
      images: {
        list: () => [image('a:1', 'sha256:a', 'a-top'), image('a:latest', 'sha256:a', 'a-top'), image('b:1', 'sha256:b', 'b-top')],
      },
      containers: { list: () => [container('c1', 'sha256:a', 'c1', 'running'), container('c2', 'sha256:b', 'c2', 'exited')] },
      snapshotter: snaps,
      volumes: NO_VOLUMES,
    });
    assert.equal(usage.layersSize, 1000 + 200 + 30 + 4);
    const [a, b] = usage.images;
    assert.deepEqual(
      { id: a.id, names: a.names, size: a.size, shared: a.sharedSize, containers: a.containers },
      { id: 'sha256:a', names: ['a:1', 'a:latest'], size: 1230, shared: 1000, containers: 1 },
    );
    assert.deepEqual({ size: b.size, shared: b.sharedSize, containers: b.containers }, { size: 1004, shared: 1000, containers: 1 });
    assert.deepEqual(
      usage.containers.map((c) => [c.id, c.size, c.status]),
      [
        ['c1', 500, 'running'],
        ['c2', 7, 'exited'],
      ],
    );
    assert.equal(snaps.usageCalls.filter((k) => k === 'base').length, 1, 'a shared layer is measured once');
    assert.deepEqual(usage.volumes, []);
  });

  it('an image not unpacked here counts its stored size; a vanished snapshot counts 0', async () => {
    const usage = await diskUsage(background(), {
      images: { list: () => [image('packed:1', 'sha256:p', undefined, 777), image('gone:1', 'sha256:g', 'nope')] },
      containers: { list: () => [container('c3', 'sha256:x', 'gone-key', 'created')] },
      snapshotter: snapshotter(),
      volumes: { list: () => Promise.resolve([{ name: 'v', driver: 'local', size: 10, links: 0 }]) },
    });
    assert.deepEqual(
      usage.images.map((i) => [i.id, i.size, i.sharedSize]),
      [
        ['sha256:p', 777, 0],
        ['sha256:g', 0, 0],
      ],
    );
    assert.equal(usage.layersSize, 777);
    assert.equal(usage.containers[0].size, 0);
    assert.deepEqual(usage.volumes, [{ name: 'v', driver: 'local', size: 10, links: 0 }]);
  });
});
