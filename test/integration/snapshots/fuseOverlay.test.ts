// The fuse-overlayfs flavour of the overlay snapshotter (docs/rootless.md),
// with the real fuse-overlayfs program (as root here; this machine's
// /dev/fuse is 0600, so a rootless daemon cannot use it): the shared
// snapshotter suite on its mounts; the choice at start with the kernel's
// check forced to fail (fuse-overlayfs, then native when it is missing too);
// and a daemon started with --snapshotter fuse-overlayfs that names it in
// `gantry info`, runs a container on it and reads its changes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { FUSE_OVERLAY_TYPE } from '../../../runtime/mount/mount';
import { mount, readMountInfo, unmount } from '../../../runtime/mount/mounter';
import { OverlaySnapshotter } from '../../../runtime/snapshots/overlay';
import { createSnapshotter, type SupportChecks } from '../../../runtime/snapshots/select';
import { localSnapshotterHarness, runSnapshotterSuite, writableDir } from '../../../runtime/snapshots/testsuite';
import { createLogger } from '../../../runtime/util/log';
import { startDaemon } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { startRegistry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';

const ctx = { signal: new AbortController().signal };
const open = (root: string) => OverlaySnapshotter.open(root, { transientPrefixes: ['extract-'] }, 'fuse');
const hasFuseOverlayfs = () => ['/usr/bin', '/bin', '/usr/local/bin'].some((d) => fs.existsSync(path.join(d, 'fuse-overlayfs')));

/** The kernel's check failing, as on a kernel before 5.11 in a user namespace. */
const noKernelOverlay: SupportChecks = {
  overlay: () => Promise.resolve({ ok: false, reason: 'forced by the test' }),
  fuseOverlay: (root) => OverlaySnapshotter.fuseSupported(root),
};

/** Runs `fn` with a PATH that has the tools the check uses (stat) but not fuse-overlayfs (the mounter finds it on PATH). */
async function withoutFuseOverlayfs<T>(fn: () => Promise<T>): Promise<T> {
  const bin = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'fbin-'));
  await fs.promises.symlink('/usr/bin/stat', path.join(bin, 'stat'));
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:/usr/sbin:/sbin`;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
    await fs.promises.rm(bin, { recursive: true, force: true });
  }
}

describe('fuse-overlayfs snapshotter', function () {
  before(function () {
    if (!hasFuseOverlayfs()) {
      console.log(
        'skipping fuse-overlayfs tests: fuse-overlayfs is not installed (apt-get install fuse-overlayfs; scripts/install-system-deps.sh)',
      );
      this.skip();
    }
  });

  runSnapshotterSuite('fuse-overlayfs', () => localSnapshotterHarness(open, { canMount: true, tmpPrefix: 'fovl-' }));

  describe('mounts and the choice at start', function () {
    this.timeout(60_000);
    let root: string;
    let lines: string[];
    const log = () => createLogger('debug', (line) => lines.push(line));

    beforeEach(async () => {
      root = await fs.promises.realpath(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'fsel-')));
      lines = [];
    });
    afterEach(async () => {
      const left = (await readMountInfo()).filter((m) => m.mountPoint.startsWith(`${root}/`));
      await fs.promises.rm(root, { recursive: true, force: true });
      assert.deepEqual(left, [], 'nothing left mounted');
    });

    it('is supported here; its mounts are made by the program, with 0/0 whiteouts in the upper dir', async () => {
      assert.deepEqual(await OverlaySnapshotter.fuseSupported(path.join(root, 'check')), { ok: true });
      assert.deepEqual(await fs.promises.readdir(path.join(root, 'check')), [], 'the check leaves nothing behind');
      const s = await open(path.join(root, 'snap'));
      try {
        const [base] = await s.prepare(ctx, 'extract-1', '');
        await fs.promises.writeFile(path.join(writableDir([base]), 'gone'), 'x');
        await s.commit(ctx, 'layer1', 'extract-1');
        const [m] = await s.prepare(ctx, 'c1', 'layer1');
        assert.equal(m.type, FUSE_OVERLAY_TYPE);
        const mnt = path.join(root, 'mnt');
        await fs.promises.mkdir(mnt);
        await mount([m], mnt);
        try {
          const info = (await readMountInfo()).find((i) => i.mountPoint === mnt);
          assert.equal(info?.fsType, 'fuse.fuse-overlayfs');
          await fs.promises.unlink(path.join(mnt, 'gone'));
          await fs.promises.writeFile(path.join(mnt, 'new'), 'y');
        } finally {
          await unmount(mnt);
        }
        const upper = writableDir([m]);
        const wh = await fs.promises.lstat(path.join(upper, 'gone'));
        assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a 0/0 whiteout, as kernel overlay writes');
        assert.equal(await fs.promises.readFile(path.join(upper, 'new'), 'utf8'), 'y');
      } finally {
        await s.close();
      }
    });

    it("'auto' where kernel overlay cannot be used takes fuse-overlayfs and says why; without it too, native", async () => {
      const s = await createSnapshotter(root, 'auto', log(), {}, noKernelOverlay);
      assert.equal(s.name, 'fuse-overlayfs');
      assert.equal(s.root, path.join(root, 'fuse-overlayfs'));
      await s.close();
      assert.ok(
        lines.some((l) => / warn "snapshotter: fuse-overlayfs/.test(l) && /forced by the test/.test(l)),
        lines.join(''),
      );

      lines = [];
      const n = await withoutFuseOverlayfs(() => createSnapshotter(root, 'auto', log(), {}, noKernelOverlay));
      assert.equal(n.name, 'native');
      await n.close();
      assert.ok(
        lines.some((l) => / warn "snapshotter: native/.test(l) && /fuse-overlayfs is not installed/.test(l)),
        lines.join(''),
      );
    });

    it("'fuse-overlayfs' is chosen even where kernel overlay works, and refuses clearly where the program is missing", async () => {
      const s = await createSnapshotter(root, 'fuse-overlayfs', log());
      assert.equal(s.name, 'fuse-overlayfs');
      await s.close();
      await assert.rejects(
        withoutFuseOverlayfs(() => createSnapshotter(root, 'fuse-overlayfs', log())),
        (e: unknown) =>
          isGantryError(e) &&
          e.kind === 'FailedPrecondition' &&
          /fuse-overlayfs snapshotter cannot be used: fuse-overlayfs is not installed \(apt-get install fuse-overlayfs\)/.test(e.message),
      );
    });
  });

  describe('a daemon on it', function () {
    this.timeout(120_000);
    const cleanup = suiteCleanup();

    it('names it in info, runs a container on it and reads its changes', async () => {
      const registry = await startRegistry();
      cleanup.defer(() => registry.stop());
      const image = (await pushBusybox(registry, 'fuse/busybox')).ref;
      const daemon = await startDaemon(cleanup, ['--snapshotter', 'fuse-overlayfs']);
      const info = await daemon.cli(['info']);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /Snapshotter:?\s+fuse-overlayfs/);
      const pull = await daemon.cli(['pull', image]);
      assert.equal(pull.code, 0, pull.stderr);
      const run = await daemon.cli([
        'run',
        '--name',
        'f1',
        '--network',
        'none',
        image,
        'sh',
        '-c',
        'echo hi >/new; rm /bin/true; cat /new; exit 3',
      ]);
      assert.equal(run.stdout, 'hi\n', run.stderr);
      assert.equal(run.code, 3, run.stderr);
      const diff = await daemon.cli(['diff', 'f1']);
      assert.equal(diff.code, 0, diff.stderr);
      assert.match(diff.stdout, /^A \/new$/m);
      assert.match(diff.stdout, /^D \/bin\/true$/m);
      const rm = await daemon.cli(['rm', 'f1']);
      assert.equal(rm.code, 0, rm.stderr);
      const fuse = (await readMountInfo()).filter(
        (m) => m.fsType === 'fuse.fuse-overlayfs' && m.mountPoint.startsWith(path.dirname(daemon.root)),
      );
      assert.deepEqual(fuse, [], 'no fuse-overlayfs mount left after rm');
    });
  });
});
