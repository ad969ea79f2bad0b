// The A/C/D computation of a layer (runtime/layers/changes.ts) over the
// tree below it, and the tar reader that turns whiteouts and opaque markers
// into entries (runtime/layers/tarEntries.ts).
import * as assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { layerChanges, layerSize, mergedTree } from '../../../runtime/layers/changes';
import type { LayerEntry } from '../../../runtime/layers/layers';
import { tarEntries } from '../../../runtime/layers/tarEntries';
import { buildTar, type TarEntry } from '../../helpers/tarBuilder';

const dir = (path: string, opaque = false): LayerEntry => ({ path, kind: 'directory', size: 0, ...(opaque ? { opaque } : {}) });
const file = (path: string, size = 1): LayerEntry => ({ path, kind: 'file', size });
const wh = (path: string): LayerEntry => ({ path, kind: 'whiteout', size: 0 });

const base: LayerEntry[] = [
  dir('/etc'),
  file('/etc/passwd', 10),
  file('/etc/hosts', 5),
  dir('/app'),
  file('/app/a'),
  dir('/app/sub'),
  file('/app/sub/b'),
  dir('/gone'),
  file('/gone/x'),
];

function summary(changes: { kind: string; path: string }[]): string[] {
  return changes.map((c) => `${c.kind} ${c.path}`);
}

describe('layers/changes', () => {
  it('a bottom layer adds everything it holds', async () => {
    const changes = await layerChanges(base, mergedTree([]));
    assert.ok(changes.every((c) => c.kind === 'A'));
    assert.deepEqual(
      changes.map((c) => c.path),
      ['/app', '/app/a', '/app/sub', '/app/sub/b', '/etc', '/etc/hosts', '/etc/passwd', '/gone', '/gone/x'],
    );
  });

  it('a path that exists below is changed, a new one added, a whiteout deleted', async () => {
    const layer = [dir('/etc'), file('/etc/passwd', 12), file('/etc/new', 3), wh('/gone'), wh('/etc/hosts')];
    assert.deepEqual(summary(await layerChanges(layer, mergedTree([base]))), [
      'C /etc',
      'D /etc/hosts',
      'A /etc/new',
      'C /etc/passwd',
      'D /gone',
    ]);
  });

  it('an opaque directory deletes every name below it that the layer does not carry again', async () => {
    const layer = [dir('/app', true), file('/app/a', 7), file('/app/fresh')];
    assert.deepEqual(summary(await layerChanges(layer, mergedTree([base]))), ['C /app', 'C /app/a', 'A /app/fresh', 'D /app/sub']);
  });

  it('the tree below follows earlier whiteouts and opaque directories', async () => {
    const second = [dir('/app', true), file('/app/only'), wh('/gone')];
    // /gone came back as a file; /app/a was hidden by the opaque dir, so it is new again.
    const third = [file('/gone', 2), dir('/app'), file('/app/a'), file('/app/only', 4)];
    assert.deepEqual(summary(await layerChanges(third, mergedTree([base, second]))), ['C /app', 'A /app/a', 'C /app/only', 'A /gone']);
  });

  it('a file replacing a directory takes the directory contents away below', async () => {
    const tree = mergedTree([base, [file('/app', 3)]]);
    assert.equal(await tree.exists('/app'), true);
    assert.equal(await tree.exists('/app/a'), false);
    assert.deepEqual(await tree.children('/app'), []);
    assert.deepEqual(await tree.children('/'), ['app', 'etc', 'gone']);
  });

  it('the size counts files and links once, not directories or whiteouts', () => {
    const entries: LayerEntry[] = [
      dir('/d'),
      file('/d/f', 100),
      { path: '/d/l', kind: 'file', size: 100, linked: true },
      wh('/x'),
      { path: '/s', kind: 'symlink', size: 4 },
    ];
    assert.equal(layerSize(entries), 104);
  });
});

describe('layers/tarEntries', () => {
  const read = (entries: TarEntry[]) => tarEntries(Readable.from([buildTar(entries)]));

  it('turns whiteouts and opaque markers into entries and adds missing parents', async () => {
    const entries = await read([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/.wh.hosts', type: 'file', content: '' },
      { name: 'app/.wh..wh..opq', type: 'file', content: '' },
      { name: 'app/', type: 'dir' },
      { name: 'app/a', type: 'file', content: 'hello' },
      { name: 'deep/er/file', type: 'file', content: 'abc' },
      { name: 'deep/er/link', type: 'link', linkname: 'deep/er/file' },
      { name: 'sym', type: 'symlink', linkname: '/etc/passwd' },
    ]);
    assert.deepEqual(entries, [
      { path: '/etc', kind: 'directory', size: 0 },
      { path: '/etc/hosts', kind: 'whiteout', size: 0 },
      { path: '/app', kind: 'directory', size: 0, opaque: true },
      { path: '/app/a', kind: 'file', size: 5 },
      { path: '/deep', kind: 'directory', size: 0 },
      { path: '/deep/er', kind: 'directory', size: 0 },
      { path: '/deep/er/file', kind: 'file', size: 3 },
      { path: '/deep/er/link', kind: 'file', size: 3, linked: true },
      { path: '/sym', kind: 'symlink', size: 11 },
    ]);
    assert.equal(layerSize(entries), 5 + 3 + 11);
  });

  it('refuses an entry that climbs out of the layer', async () => {
    await assert.rejects(read([{ name: '../escape', type: 'file', content: 'x' }]), /"\.\."/);
  });
});
