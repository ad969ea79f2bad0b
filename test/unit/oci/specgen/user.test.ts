import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import { readFileInRoot } from '../../../../runtime/oci/specgen/rootfile';
import { resolveUser } from '../../../../runtime/oci/specgen/user';
import { makeTempDir, suiteCleanup } from '../../../helpers/tmp';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  '# a comment',
  '',
  'app:x:1000:1000:App:/home/app:/bin/sh',
  'nohome:x:1001:1001::',
  'broken:x:notanumber:0::/:/bin/sh',
  'app:x:2000:2000:second app wins nothing:/x:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n');

const GROUP = ['root:x:0:', 'wheel:x:10:root,app', 'app:x:1000:', 'docker:x:999:app', 'staff:x:50:other', 'nogroup:x:65534:'].join('\n');

async function rootfs(dir: string, name: string, files: Record<string, string>): Promise<string> {
  const root = path.join(dir, name);
  for (const [p, content] of Object.entries(files)) {
    await fs.promises.mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await fs.promises.writeFile(path.join(root, p), content);
  }
  await fs.promises.mkdir(root, { recursive: true });
  return root;
}

const invalid = (p: Promise<unknown>, re: RegExp) =>
  assert.rejects(p, (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message));

describe('oci/specgen/user', () => {
  const cleanup = suiteCleanup();
  let dir: string;
  let root: string;
  let empty: string;

  before(async () => {
    dir = await makeTempDir('gt-user', cleanup);
    root = await rootfs(dir, 'std', { '/etc/passwd': PASSWD, '/etc/group': GROUP });
    empty = await rootfs(dir, 'empty', {});
  });

  describe('resolution matrix', () => {
    const cases: [string | undefined, { uid: number; gid: number; additionalGids: number[]; home: string }][] = [
      [undefined, { uid: 0, gid: 0, additionalGids: [10], home: '/root' }],
      ['', { uid: 0, gid: 0, additionalGids: [10], home: '/root' }],
      ['root', { uid: 0, gid: 0, additionalGids: [10], home: '/root' }],
      ['app', { uid: 1000, gid: 1000, additionalGids: [10, 999], home: '/home/app' }],
      ['1000', { uid: 1000, gid: 1000, additionalGids: [10, 999], home: '/home/app' }],
      ['app:staff', { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' }],
      ['app:50', { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' }],
      ['app:4242', { uid: 1000, gid: 4242, additionalGids: [], home: '/home/app' }],
      ['1000:1000', { uid: 1000, gid: 1000, additionalGids: [], home: '/home/app' }],
      ['4242', { uid: 4242, gid: 0, additionalGids: [], home: '/' }],
      ['4242:4343', { uid: 4242, gid: 4343, additionalGids: [], home: '/' }],
      ['4242:wheel', { uid: 4242, gid: 10, additionalGids: [], home: '/' }],
      ['nohome', { uid: 1001, gid: 1001, additionalGids: [], home: '/' }],
      ['nobody', { uid: 65534, gid: 65534, additionalGids: [], home: '/nonexistent' }],
      [':50', { uid: 0, gid: 50, additionalGids: [], home: '/root' }],
    ];
    for (const [spec, want] of cases) {
      it(`${JSON.stringify(spec)} → ${want.uid}:${want.gid} [${want.additionalGids}]`, async () => {
        assert.deepEqual(await resolveUser(root, spec), want);
      });
    }
  });

  it("an unknown name fails with Docker's wording", async () => {
    await invalid(resolveUser(root, 'ghost'), /^unable to find user ghost: no matching entries in passwd file$/);
    await invalid(resolveUser(root, 'broken'), /unable to find user broken/);
    await invalid(resolveUser(root, 'app:ghosts'), /^unable to find group ghosts: no matching entries in group file$/);
  });

  it('out-of-range ids and extra colons are refused', async () => {
    await invalid(resolveUser(root, '2147483648'), /range 0-2147483647/);
    await invalid(resolveUser(root, '-1'), /range/);
    await invalid(resolveUser(root, 'app:1:2'), /invalid user/);
  });

  it('without /etc/passwd and /etc/group: numeric ids work, names do not', async () => {
    assert.deepEqual(await resolveUser(empty, ''), { uid: 0, gid: 0, additionalGids: [], home: '/' });
    assert.deepEqual(await resolveUser(empty, '1234:5678'), { uid: 1234, gid: 5678, additionalGids: [], home: '/' });
    assert.deepEqual(await resolveUser(empty, '1234'), { uid: 1234, gid: 0, additionalGids: [], home: '/' });
    await invalid(resolveUser(empty, 'app'), /^unable to find user app: no matching entries in passwd file$/);
    await invalid(resolveUser(empty, '1:staff'), /unable to find group staff/);
  });

  it("CRI supplemental groups: merge adds the user's groups even with a group named; strict only the listed ones", async () => {
    const merge = (gids: number[]) => ({ gids, policy: 'merge' as const });
    const strict = (gids: number[]) => ({ gids, policy: 'strict' as const });
    assert.deepEqual((await resolveUser(root, '1000', merge([1234, 10]))).additionalGids, [10, 999, 1234]);
    assert.deepEqual((await resolveUser(root, '1000:50', merge([1234]))).additionalGids, [10, 999, 1234]);
    assert.deepEqual((await resolveUser(root, 'app:50', merge([]))).additionalGids, [10, 999]);
    assert.deepEqual((await resolveUser(root, '1000', strict([1234]))).additionalGids, [1234]);
    assert.deepEqual((await resolveUser(root, '1000:50', strict([]))).additionalGids, []);
    // A uid without an entry has no image groups to merge.
    assert.deepEqual((await resolveUser(root, '4242', merge([7]))).additionalGids, [7]);
    assert.deepEqual((await resolveUser(empty, '', merge([7, 8]))).additionalGids, [7, 8]);
  });

  describe('hostile images', () => {
    // A file outside every rootfs that would match if it were read.
    let outside: string;
    const HOST_PASSWD = 'evil:x:4444:4444::/evil:/bin/sh\nroot:x:0:4444::/host-root:/bin/sh\n';
    const HOST_GROUP = 'evilgroup:x:4445:evil,root\n';

    before(async () => {
      outside = path.join(dir, 'host');
      await fs.promises.mkdir(path.join(outside, 'etc'), { recursive: true });
      await fs.promises.writeFile(path.join(outside, 'etc/passwd'), HOST_PASSWD);
      await fs.promises.writeFile(path.join(outside, 'etc/group'), HOST_GROUP);
    });

    it('/etc/passwd as an absolute symlink to a host file is not followed out', async () => {
      const r = await rootfs(dir, 'abs-link', {});
      await fs.promises.mkdir(path.join(r, 'etc'));
      await fs.promises.symlink(path.join(outside, 'etc/passwd'), path.join(r, 'etc/passwd'));
      await fs.promises.symlink(path.join(outside, 'etc/group'), path.join(r, 'etc/group'));
      await invalid(resolveUser(r, 'evil'), /unable to find user evil/);
      // Root still resolves, with nothing from the host's files.
      assert.deepEqual(await resolveUser(r, ''), { uid: 0, gid: 0, additionalGids: [], home: '/' });
    });

    it('/etc/passwd climbing out with ../../.. stays inside', async () => {
      const r = await rootfs(dir, 'dotdot', {});
      await fs.promises.mkdir(path.join(r, 'etc'));
      const rel = path.relative(path.join(r, 'etc'), path.join(outside, 'etc/passwd'));
      assert.ok(rel.startsWith('..'));
      await fs.promises.symlink(`../../../../../../../..${path.join(outside, 'etc/passwd')}`, path.join(r, 'etc/passwd'));
      await fs.promises.symlink(rel.replace('passwd', 'group'), path.join(r, 'etc/group'));
      await invalid(resolveUser(r, 'evil'), /unable to find user evil/);
      assert.equal(await readFileInRoot(r, '/etc/group'), null);
    });

    it("/etc as a symlink to the host's directory is resolved inside the rootfs", async () => {
      const r = await rootfs(dir, 'etc-link', { [`${outside}/etc/passwd`]: 'inside:x:7:7::/in:/bin/sh\n' });
      await fs.promises.symlink(path.join(outside, 'etc'), path.join(r, 'etc'));
      // The same absolute path exists inside the rootfs with other content: that one is read.
      assert.deepEqual(await resolveUser(r, 'inside'), { uid: 7, gid: 7, additionalGids: [], home: '/in' });
      await invalid(resolveUser(r, 'evil'), /unable to find user evil/);
    });

    it('symlinks that stay inside are followed like a chroot would', async () => {
      const r = await rootfs(dir, 'inside-links', { '/real/passwd': 'me:x:5:6::/me:/bin/sh\n', '/real/group': 'g:x:9:me\n' });
      await fs.promises.symlink('/real', path.join(r, 'etc'));
      await fs.promises.symlink('../real/./passwd', path.join(r, 'real/pw'));
      assert.deepEqual(await resolveUser(r, 'me'), { uid: 5, gid: 6, additionalGids: [9], home: '/me' });
      assert.equal((await readFileInRoot(r, '/etc/pw'))?.toString(), 'me:x:5:6::/me:/bin/sh\n');
      assert.equal((await readFileInRoot(r, '/../../etc/../real/passwd'))?.toString(), 'me:x:5:6::/me:/bin/sh\n');
    });

    it('symlink loops fail cleanly', async () => {
      const r = await rootfs(dir, 'loop', {});
      await fs.promises.mkdir(path.join(r, 'etc'));
      await fs.promises.symlink('/etc/passwd', path.join(r, 'etc/passwd'));
      await invalid(resolveUser(r, 'x'), /too many levels of symbolic links/);
    });

    it('a FIFO, a directory or a device as /etc/passwd is refused without blocking', async () => {
      const fifo = await rootfs(dir, 'fifo', {});
      await fs.promises.mkdir(path.join(fifo, 'etc'));
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [path.join(fifo, 'etc/passwd')]);
      await invalid(resolveUser(fifo, 'x'), /not a regular file/);

      const d = await rootfs(dir, 'dir', {});
      await fs.promises.mkdir(path.join(d, 'etc/passwd'), { recursive: true });
      await invalid(resolveUser(d, 'x'), /not a regular file/);

      const dev = await rootfs(dir, 'dev', {});
      await fs.promises.mkdir(path.join(dev, 'etc'));
      await fs.promises.symlink('/dev/zero', path.join(dev, 'etc/passwd'));
      // Inside the rootfs there is no /dev/zero: missing, so names fail and numeric ids work.
      await invalid(resolveUser(dev, 'x'), /unable to find user x/);
      assert.equal((await resolveUser(dev, '12')).uid, 12);
    });

    it('an oversized passwd is refused', async () => {
      const r = await rootfs(dir, 'big', { '/etc/passwd': 'x'.repeat(2048) });
      await assert.rejects(
        readFileInRoot(r, '/etc/passwd', 1024),
        (e: unknown) => isInvalidArgument(e) && /larger than 1024/.test((e as Error).message),
      );
      assert.equal((await readFileInRoot(r, '/etc/passwd', 2048))?.length, 2048);
    });

    it('a regular file in the middle of the path reads as missing', async () => {
      const r = await rootfs(dir, 'notdir', { '/etc': 'not a directory' });
      assert.equal(await readFileInRoot(r, '/etc/passwd'), null);
      assert.equal((await resolveUser(r, '3')).uid, 3);
    });
  });
});
