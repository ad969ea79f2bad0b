// The layer explorer's change tree (src/views/images/layerNodes.ts), from
// one LayerChanges answer alone (no VS Code needed).
import * as assert from 'node:assert/strict';
import { ChangeKind, FileType, type FileChange } from '../../../runtime/client';
import { changeTree, layerNodes, type LayerChangeNode } from '../../../src/views/images/layerNodes';

const change = (kind: ChangeKind, path: string, type = FileType.FILE_TYPE_FILE, size = 1): FileChange => ({ kind, path, type, size });

function flat(nodes: readonly LayerChangeNode[], depth = 0): string[] {
  return nodes.flatMap((n) => [`${'  '.repeat(depth)}${n.name}${n.folder ? '/' : ''} ${n.change ?? '-'}`, ...flat(n.children, depth + 1)]);
}

describe('Images view layer nodes', () => {
  const [layer] = layerNodes('sha256:' + 'b'.repeat(64), 'repo:1', [
    {
      index: 1,
      diffId: 'sha256:d',
      digest: 'sha256:c',
      compressedSize: 10,
      mediaType: '',
      size: 20,
      chainId: '',
      created: '',
      createdBy: '',
      comment: '',
      author: '',
    },
  ]);

  it('builds folders on the way to each change, folders first then by name, with the A/C/D letter where a path changed', () => {
    const tree = changeTree(layer, [
      change(ChangeKind.CHANGE_KIND_MODIFIED, '/etc', FileType.FILE_TYPE_DIRECTORY),
      change(ChangeKind.CHANGE_KIND_ADDED, '/etc/new'),
      change(ChangeKind.CHANGE_KIND_DELETED, '/etc/hosts', FileType.FILE_TYPE_UNSPECIFIED, 0),
      change(ChangeKind.CHANGE_KIND_ADDED, '/usr/local/bin/tool'),
      change(ChangeKind.CHANGE_KIND_DELETED, '/gone', FileType.FILE_TYPE_UNSPECIFIED, 0),
      change(ChangeKind.CHANGE_KIND_ADDED, '/empty', FileType.FILE_TYPE_DIRECTORY),
    ]);
    assert.deepEqual(flat(tree), [
      'empty/ A',
      'etc/ C',
      '  hosts D',
      '  new A',
      'usr/ -',
      '  local/ -',
      '    bin/ -',
      '      tool A',
      'gone D',
    ]);
    const tool = tree[2].children[0].children[0].children[0];
    assert.equal(tool.path, '/usr/local/bin/tool');
    assert.equal(tool.index, 1);
    assert.equal(tool.imageId, layer.imageId);
  });
});
