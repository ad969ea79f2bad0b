// The Images view's arrangement, from list records alone (no VS Code needed).
import * as assert from 'node:assert/strict';
import type { ImageSummary } from '../../../runtime/api/gen/gantry/v1/images';
import { arrangeImages, imageLabel, isRepositoryNode, matchesFilter, type ImageNode } from '../../../src/views/images/imageNodes';

function image(name: string, created: string, size: number, id = 'sha256:' + 'a'.repeat(64)): ImageSummary {
  const at = name.indexOf('@');
  const colon = name.lastIndexOf(':');
  const untagged = at >= 0;
  return {
    name,
    repository: untagged ? name.slice(0, at) : name.slice(0, colon),
    tag: untagged ? '' : name.slice(colon + 1),
    id,
    target: undefined,
    manifest: undefined,
    platform: undefined,
    size,
    created,
    recordedAt: undefined,
    labels: {},
    snapshotter: '',
    chainId: '',
  };
}

const images = [
  image('docker.io/library/busybox:latest', '2026-01-03T00:00:00Z', 100),
  image('docker.io/library/busybox:1.36', '2026-01-01T00:00:00Z', 300),
  image('127.0.0.1:5000/app:v1', '2026-01-02T00:00:00Z', 200, 'sha256:' + 'b'.repeat(64)),
  image(`docker.io/library/busybox@sha256:${'c'.repeat(64)}`, '2025-12-31T00:00:00Z', 50),
];

const labels = (nodes: readonly ImageNode[]) => nodes.map((n) => imageLabel(n.image));

describe('Images view arrangement', () => {
  it("labels images in Docker's familiar form, untagged ones as <none>", () => {
    assert.deepEqual(images.map(imageLabel), ['busybox:latest', 'busybox:1.36', '127.0.0.1:5000/app:v1', 'busybox:<none>']);
  });

  it('sorts a flat list newest first, by name, or by size', () => {
    const flat = (sortBy: 'created' | 'name' | 'size') =>
      labels(arrangeImages(images, { groupBy: 'none', sortBy, filter: '' }) as ImageNode[]);
    assert.deepEqual(flat('created'), ['busybox:latest', '127.0.0.1:5000/app:v1', 'busybox:1.36', 'busybox:<none>']);
    assert.deepEqual(flat('name'), ['127.0.0.1:5000/app:v1', 'busybox:<none>', 'busybox:1.36', 'busybox:latest']);
    assert.deepEqual(flat('size'), ['busybox:1.36', '127.0.0.1:5000/app:v1', 'busybox:latest', 'busybox:<none>']);
  });

  it('groups by repository, groups ordered by their best member, members by the sort key', () => {
    const roots = arrangeImages(images, { groupBy: 'repository', sortBy: 'created', filter: '' });
    assert.ok(roots.every(isRepositoryNode));
    const groups = roots.map((r) => (isRepositoryNode(r) ? [r.label, labels(r.children)] : []));
    assert.deepEqual(groups, [
      ['busybox', ['busybox:latest', 'busybox:1.36', 'busybox:<none>']],
      ['127.0.0.1:5000/app', ['127.0.0.1:5000/app:v1']],
    ]);
    const byName = arrangeImages(images, { groupBy: 'repository', sortBy: 'name', filter: '' });
    assert.deepEqual(
      byName.map((r) => (isRepositoryNode(r) ? r.label : '')),
      ['127.0.0.1:5000/app', 'busybox'],
    );
  });

  it('filters by familiar name, full name or ID, case-insensitively', () => {
    assert.ok(matchesFilter(images[0], 'BUSYBOX:lat'));
    assert.ok(matchesFilter(images[0], 'docker.io/library'));
    assert.ok(matchesFilter(images[2], 'bbbbbb'));
    assert.ok(!matchesFilter(images[2], 'busybox'));
    const filtered = arrangeImages(images, { groupBy: 'none', sortBy: 'name', filter: '1.36' }) as ImageNode[];
    assert.deepEqual(labels(filtered), ['busybox:1.36']);
  });
});
