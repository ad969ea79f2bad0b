import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { entryPath, isWithin, parentOf, baseOf, TargetTree } from '../../../runtime/unpack/paths';
import { isGantryError } from '../../../runtime/errdefs/errdefs';

const invalid = (text: string | RegExp) => (e: unknown) => {
  assert.ok(isGantryError(e) && e.kind === 'InvalidArgument', String(e));
  if (typeof text === 'string') assert.ok(e.message.includes(text), e.message);
  else assert.match(e.message, text);
  return true;
};

describe('unpack/paths', () => {
  it('normalises entry names to plain relative paths', () => {
    const cases: [string, string][] = [
      ['etc/passwd', 'etc/passwd'],
      ['./etc/passwd', 'etc/passwd'],
      ['etc//passwd', 'etc/passwd'],
      ['etc/./passwd', 'etc/passwd'],
      ['etc/', 'etc'],
      ['./', ''],
      ['.', ''],
      ['', ''],
      ['...', '...'],
      ['..foo/bar..', '..foo/bar..'],
      ['a/.wh..wh..opq', 'a/.wh..wh..opq'],
    ];
    for (const [name, want] of cases) assert.equal(entryPath(name), want, name);
  });

  it('refuses absolute names, any .. component, NUL and over-long names, naming the entry', () => {
    assert.throws(() => entryPath('/etc/passwd'), invalid('entry "/etc/passwd": absolute path'));
    assert.throws(() => entryPath('../x'), invalid('entry "../x": path contains ".."'));
    assert.throws(() => entryPath('a/../b'), invalid('"a/../b"'));
    assert.throws(() => entryPath('a/b/..'), invalid('".."'));
    assert.throws(() => entryPath('a\u0000b'), invalid('NUL'));
    assert.throws(() => entryPath(`a/${'x'.repeat(256)}`), invalid('longer than 255 bytes'));
    assert.throws(() => entryPath(`a/${'é'.repeat(128)}`), invalid('longer than 255 bytes'));
    assert.throws(() => entryPath(Array(30).fill('y'.repeat(200)).join('/')), invalid(/path longer than/));
    assert.throws(() => entryPath('../t', 'entry "h": hardlink target'), invalid('entry "h": hardlink target "../t": path contains ".."'));
  });

  it('splits and compares relative paths', () => {
    assert.equal(parentOf('a/b/c'), 'a/b');
    assert.equal(parentOf('a'), '');
    assert.equal(baseOf('a/b/c'), 'c');
    assert.ok(isWithin('a/b', 'a'));
    assert.ok(isWithin('a', 'a'));
    assert.ok(isWithin('anything', ''));
    assert.ok(!isWithin('ab', 'a'));
    assert.ok(!isWithin('a', 'a/b'));
  });

  describe('TargetTree', () => {
    let base: string;
    beforeEach(() => {
      base = fs.mkdtempSync(path.join(os.tmpdir(), 'gtree-'));
    });
    afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

    it('creates missing parents, copying the metadata of the lower directory they merge with', () => {
      const upper = path.join(base, 'upper');
      const lower = path.join(base, 'lower');
      fs.mkdirSync(upper);
      fs.mkdirSync(path.join(lower, 'a', 'b'), { recursive: true });
      fs.chmodSync(path.join(lower, 'a'), 0o710);
      fs.chownSync(path.join(lower, 'a'), 12, 34);
      fs.utimesSync(path.join(lower, 'a'), 1_600_000_000, 1_600_000_000);
      const created: string[] = [];
      const tree = new TargetTree(upper, [lower], 0);
      const info = tree.ensureDir('a/b/c', 'a/b/c/f', (d) => created.push(d));
      assert.deepEqual(created, ['a', 'a/b', 'a/b/c']);
      assert.deepEqual(info.lowers, []);
      assert.deepEqual(tree.known('a/b')!.lowers, [0]);
      const st = fs.statSync(path.join(upper, 'a'));
      assert.equal(st.mode & 0o7777, 0o710);
      assert.equal(`${st.uid}:${st.gid}`, '12:34');
      assert.equal(tree.known('a')!.times!.mtime, 1_600_000_000);
    });

    it('refuses symlinks and non-directories on the way, in the target and in visible lowers only', () => {
      const upper = path.join(base, 'upper');
      const l1 = path.join(base, 'l1');
      const l2 = path.join(base, 'l2');
      for (const d of [upper, l1, l2]) fs.mkdirSync(d);
      fs.symlinkSync('/etc', path.join(upper, 'up-link'));
      fs.writeFileSync(path.join(upper, 'file'), '');
      fs.symlinkSync('/etc', path.join(l1, 'low-link'));
      // l1 has a real directory "mixed" that hides l2's symlink of the same name
      fs.mkdirSync(path.join(l1, 'mixed'));
      fs.symlinkSync('/etc', path.join(l2, 'mixed'));
      const tree = new TargetTree(upper, [l1, l2], 0);
      assert.throws(() => tree.ensureDir('up-link/x', 'up-link/x/f', () => undefined), invalid('parent "up-link" is a symlink'));
      assert.throws(() => tree.ensureDir('file', 'file/f', () => undefined), invalid('parent "file" is not a directory'));
      assert.throws(
        () => tree.ensureDir('low-link', 'low-link/f', () => undefined),
        invalid('parent "low-link" is a symlink in a lower layer'),
      );
      assert.doesNotThrow(() => tree.ensureDir('mixed/sub', 'mixed/sub/f', () => undefined));
      assert.deepEqual(tree.known('mixed')!.lowers, [0]);
      assert.equal(tree.existingDir('file', 'file/.wh.x'), 'absent');
      assert.equal(tree.existingDir('nothing', 'nothing/.wh.x'), 'absent');
      assert.throws(() => tree.existingDir('low-link', 'low-link/.wh.x'), invalid('symlink in a lower layer'));
    });

    it('treats a whiteout device in a lower layer as hiding everything below it', async () => {
      const upper = path.join(base, 'upper');
      const l1 = path.join(base, 'l1');
      const l2 = path.join(base, 'l2');
      for (const d of [upper, l1, l2]) fs.mkdirSync(d);
      const { runCommand } = await import('../../helpers/proc');
      await runCommand('mknod', [path.join(l1, 'gone'), 'c', '0', '0']);
      fs.symlinkSync('/etc', path.join(l2, 'gone'));
      const tree = new TargetTree(upper, [l1, l2], 0);
      assert.doesNotThrow(() => tree.ensureDir('gone', 'gone/f', () => undefined));
      assert.deepEqual(tree.known('gone')!.lowers, []);
    });
  });
});
