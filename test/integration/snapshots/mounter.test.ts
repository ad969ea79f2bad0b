// mount/mounter.ts against the real mount(8)/umount(8) (root): bind rw/ro,
// overlay, stacked and nested mounts, escaped mount points, long overlay
// option strings, and errors that name the mount.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import {
  isMountPoint,
  mount,
  overlayMountData,
  parseMountInfo,
  readMountInfo,
  unmount,
  unmountAll,
  unescapeMountField,
} from '../../../runtime/mount/mounter';

describe('mounter', function () {
  this.timeout(30_000);
  let root: string;

  beforeEach(async () => {
    root = await fs.promises.realpath(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mnt-')));
  });
  afterEach(async () => {
    await unmountAll(root);
    const left = (await readMountInfo()).filter((m) => m.mountPoint.startsWith(root));
    await fs.promises.rm(root, { recursive: true, force: true });
    assert.deepEqual(left, []);
  });

  const dirs = (...names: string[]) =>
    names.map((n) => {
      const d = path.join(root, n);
      fs.mkdirSync(d, { recursive: true });
      return d;
    });

  it('parses mountinfo and unescapes octal escapes', () => {
    const line = '36 35 98:0 /mnt1 /mnt/with\\040space\\134x rw,noatime master:1 - ext3 /dev/root rw,errors=continue';
    const [m] = parseMountInfo(line + '\n');
    assert.deepEqual(
      { id: m.id, parentId: m.parentId, mountPoint: m.mountPoint, fsType: m.fsType, source: m.source },
      { id: 36, parentId: 35, mountPoint: '/mnt/with space\\x', fsType: 'ext3', source: '/dev/root' },
    );
    assert.equal(unescapeMountField('a\\011b\\012c'), 'a\tb\nc');
  });

  it('bind-mounts read-write and read-only, and unmount is idempotent', async () => {
    const [src, rw, ro] = dirs('src', 'rw', 'ro');
    fs.writeFileSync(path.join(src, 'f'), 'x');
    await mount([{ type: 'bind', source: src, options: ['rbind', 'rw'] }], rw);
    await mount([{ type: 'bind', source: src, options: ['rbind', 'ro'] }], ro);
    fs.writeFileSync(path.join(rw, 'g'), 'through rw');
    assert.equal(fs.readFileSync(path.join(ro, 'g'), 'utf8'), 'through rw');
    assert.throws(() => fs.writeFileSync(path.join(ro, 'h'), 'no'), { code: 'EROFS' });
    assert.ok(await isMountPoint(ro));
    await unmount(ro);
    await unmount(ro);
    assert.equal(await isMountPoint(ro), false);
  });

  it('unmountAll takes nested, stacked and oddly named mounts, newest first', async () => {
    const [src, top] = dirs('src', 'top dir');
    fs.mkdirSync(path.join(src, 'inner'));
    await mount([{ type: 'bind', source: src, options: ['bind'] }], top);
    await mount([{ type: 'bind', source: src, options: ['bind'] }], path.join(top, 'inner'));
    await mount([{ type: 'bind', source: src, options: ['bind', 'ro'] }], top); // stacked on top
    const done = await unmountAll(root);
    assert.deepEqual(done, [top, path.join(top, 'inner'), top]);
    assert.equal(await isMountPoint(top), false);
  });

  it('mounts overlay, and stays usable when the lowerdir list needs relative paths', async () => {
    const [upper, work, merged] = dirs('upper', 'work', 'merged');
    const long = 'x'.repeat(120);
    const lowers = Array.from({ length: 40 }, (_, i) => {
      const [d] = dirs(`layers/${long}/${i}/fs`);
      fs.writeFileSync(path.join(d, `f${i}`), String(i));
      return d;
    });
    const m = {
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', `lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${work}`],
    };
    const data = overlayMountData(m);
    assert.equal(data.cwd, path.join(root, 'layers', long));
    assert.match(data.data, /lowerdir=0\/fs:1\/fs:/);
    await mount([m], merged);
    assert.equal(fs.readdirSync(merged).length, 40);
    await unmount(merged);
  });

  it('refuses overlay options that cannot fit, and names a failed mount', async () => {
    const lowers = Array.from({ length: 501 }, (_, i) => `/l/${i}`);
    assert.throws(
      () => overlayMountData({ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`] }),
      (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument',
    );
    const scattered = Array.from({ length: 100 }, (_, i) => `/${String(i).padStart(3, '0')}${'y'.repeat(60)}/fs`);
    assert.throws(
      () => overlayMountData({ type: 'overlay', source: 'overlay', options: [`lowerdir=${scattered.join(':')}`] }),
      (e: unknown) => isGantryError(e) && e.kind === 'ResourceExhausted',
    );
    const [target] = dirs('target');
    await assert.rejects(
      mount([{ type: 'overlay', source: 'overlay', options: ['lowerdir=/no/such/lower'] }], target),
      (e: unknown) => isGantryError(e) && e.kind === 'Internal' && /overlay mount of overlay on .*target failed/.test(e.message),
    );
    await assert.rejects(
      mount([{ type: 'bind', source: '/', options: ['rbind'] }], path.join(root, 'missing')),
      (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument',
    );
    assert.equal(await isMountPoint(target), false);
  });
});
