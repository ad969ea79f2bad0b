import * as assert from 'node:assert/strict';
import * as tar from 'tar-stream';
import { binarySafePax, decodePax, utf8OrNull, XattrBatch, xattrsOf } from '../../../runtime/unpack/xattrs';
import { NodeBatch } from '../../../runtime/unpack/devices';
import { buildTar } from '../../helpers/tarBuilder';

const CAP = Buffer.from('0100000200200000000000000000000000000000ff80', 'hex');

describe('unpack/xattrs', () => {
  it('decodes PAX records binary-safe', () => {
    const value = Buffer.from([0, 0xff, 0x0a, 0x3d, 0x80]);
    const rec = (k: string, v: Buffer) => {
      const body = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
      const len = body.length + String(body.length + 2).length;
      return Buffer.concat([Buffer.from(String(len)), body]);
    };
    const pax = decodePax(Buffer.concat([rec('path', Buffer.from('é/x')), rec('SCHILY.xattr.user.bin', value)]));
    assert.ok(Buffer.from(pax['SCHILY.xattr.user.bin'], 'latin1').equals(value));
    assert.equal(utf8OrNull(pax.path), 'é/x');
    assert.equal(utf8OrNull(Buffer.from([0xff]).toString('latin1')), null);
  });

  it('makes tar-stream hand over binary xattr values intact', async () => {
    const extract = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0]);
    binarySafePax(extract);
    const seen: Record<string, string>[] = [];
    extract.on('entry', (header, stream, next) => {
      seen.push((header as unknown as { pax: Record<string, string> }).pax);
      stream.on('end', () => next());
      stream.resume();
    });
    const done = new Promise<void>((resolve) => extract.on('finish', () => resolve()));
    extract.end(buildTar([{ name: 'ping', content: 'x', xattrs: { 'security.capability': CAP } }]));
    await done;
    assert.ok(Buffer.from(seen[0]['SCHILY.xattr.security.capability'], 'latin1').equals(CAP));
  });

  it('lets a layer set only security.capability, user.* (files and dirs) and non-overlay trusted.* as root', () => {
    const pax = {
      'SCHILY.xattr.security.capability': CAP.toString('latin1'),
      'SCHILY.xattr.user.a': 'b',
      'SCHILY.xattr.trusted.t': 'v',
      'SCHILY.xattr.trusted.overlay.opaque': 'y',
      'SCHILY.xattr.trusted.overlay.redirect': '/x',
      'SCHILY.xattr.security.selinux': 'ctx',
      'SCHILY.xattr.system.posix_acl_access': 'acl',
      'SCHILY.xattr.user.bad\nname': 'x',
      'SCHILY.xattr.user.overlay.opaque': 'y',
      'LIBARCHIVE.xattr.user.a': 'Yg',
      mtime: '1',
    };
    const names = (t: Parameters<typeof xattrsOf>[1], rootless: boolean) =>
      xattrsOf(pax, t, rootless)
        .map((x) => x.name)
        .sort();
    assert.deepEqual(names('file', false), ['security.capability', 'trusted.t', 'user.a']);
    assert.deepEqual(names('directory', false), ['security.capability', 'trusted.t', 'user.a']);
    assert.deepEqual(names('symlink', false), ['security.capability', 'trusted.t']);
    assert.deepEqual(names('file', true), ['user.a']);
    assert.ok(
      xattrsOf(pax, 'file', false)
        .find((x) => x.name === 'security.capability')!
        .value.equals(CAP),
    );
    assert.deepEqual(xattrsOf(null, 'file', false), []);
  });

  it('dumps pending xattrs in setfattr --restore format and forgets replaced paths', () => {
    const batch = new XattrBatch();
    batch.add('/t/a b', [{ name: 'user.x', value: Buffer.from('1') }]);
    batch.add('/t/d', [{ name: 'user.y', value: Buffer.from([0, 255]) }]);
    batch.add('/t/d/inner', [{ name: 'user.z', value: Buffer.from('z') }]);
    batch.add('/t/back\\slash', [{ name: 'user.q', value: Buffer.from('q') }]);
    assert.equal(
      batch.dump(),
      '# file: /t/a\\040b\nuser.x=0sMQ==\n\n# file: /t/d\nuser.y=0sAP8=\n\n# file: /t/d/inner\nuser.z=0seg==\n\n# file: /t/back\\134slash\nuser.q=0scQ==\n\n',
    );
    batch.drop('/t/d', true);
    assert.equal(batch.size, 2);
  });
});

describe('unpack/devices NodeBatch', () => {
  const dev = { kind: 'character-device' as const, mode: 0o666, uid: 0, gid: 0, mtime: new Date(0), major: 1, minor: 3 };

  it('keeps a node alive through its hardlinks when the node itself is replaced', () => {
    const batch = new NodeBatch();
    batch.set('dev/null', dev);
    batch.set('a', { kind: 'link', target: 'dev/null' });
    batch.set('b', { kind: 'link', target: 'dev/null' });
    batch.drop('dev/null', false);
    assert.deepEqual(batch.get('a'), dev);
    assert.deepEqual(batch.get('b'), { kind: 'link', target: 'a' });
    batch.drop('', true); // everything
    assert.equal(batch.size, 0);
  });

  it('drops whole subtrees', () => {
    const batch = new NodeBatch();
    batch.set('d/x', dev);
    batch.set('d/y', { kind: 'fifo', mode: 0o600, uid: 0, gid: 0, mtime: new Date(0), major: 0, minor: 0 });
    batch.set('dx', dev);
    batch.drop('d', true);
    assert.equal(batch.size, 1);
    assert.ok(batch.has('dx'));
  });

  it('archives the nodes as a tar for tar -x', async () => {
    const batch = new NodeBatch();
    batch.set('dev/null', dev);
    batch.set('dev/null2', { kind: 'link', target: 'dev/null' });
    const extract = tar.extract();
    const headers: tar.Header[] = [];
    extract.on('entry', (h, s, next) => {
      headers.push(h);
      s.on('end', () => next());
      s.resume();
    });
    const done = new Promise<void>((resolve) => extract.on('finish', () => resolve()));
    extract.end(await batch.archive());
    await done;
    assert.deepEqual(
      headers.map((h) => [h.name, h.type, h.devmajor, h.devminor, h.linkname]),
      [
        ['dev/null', 'character-device', 1, 3, null],
        ['dev/null2', 'link', 0, 0, 'dev/null'],
      ],
    );
  });
});
