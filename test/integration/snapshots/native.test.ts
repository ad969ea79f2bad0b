// The native snapshotter: the shared suite, and a copy that keeps everything
// a layer can hold (modes, owners, times, links, devices, fifos, xattrs,
// names that are not UTF-8). Runs as root (owners, devices, trusted.* xattrs).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError, type ErrorKind } from '../../../runtime/errdefs/errdefs';
import { runTool } from '../../../runtime/mount/mounter';
import { copyTree, NativeSnapshotter } from '../../../runtime/snapshots/native';
import { localSnapshotterHarness, runSnapshotterSuite, writableDir } from '../../../runtime/snapshots/testsuite';

const ctx = { signal: new AbortController().signal };
const kind = (k: ErrorKind) => (e: unknown) => isGantryError(e) && e.kind === k;
const open = (root: string) => NativeSnapshotter.open(root, { transientPrefixes: ['extract-'] });

runSnapshotterSuite('native', () => localSnapshotterHarness(open, { canMount: true, tmpPrefix: 'nat-' }));

/** A tree with one of everything, built under `dir` (which exists). */
async function buildTree(dir: string): Promise<void> {
  const p = (...parts: string[]) => path.join(dir, ...parts);
  const set = (file: string, uid: number, gid: number, mode: number) => {
    fs.lchownSync(file, uid, gid);
    fs.chmodSync(file, mode);
  };
  fs.writeFileSync(p('setuid-bin'), 'binary');
  set(p('setuid-bin'), 1234, 5678, 0o4755);
  fs.writeFileSync(p('setgid-file'), 'g');
  set(p('setgid-file'), 0, 42, 0o2711);
  fs.mkdirSync(p('shared'));
  set(p('shared'), 0, 100, 0o2775);
  fs.mkdirSync(p('tmp'));
  set(p('tmp'), 0, 0, 0o1777);
  fs.mkdirSync(p('private'));
  set(p('private'), 1000, 1000, 0o700);
  fs.writeFileSync(p('private', 'zero-mode'), 'secret');
  set(p('private', 'zero-mode'), 1000, 1000, 0o000);
  fs.mkdirSync(p('empty'));
  fs.writeFileSync(p('shared', 'original'), 'linked content');
  fs.linkSync(p('shared', 'original'), p('second-name'));
  fs.linkSync(p('shared', 'original'), p('private', 'third-name'));
  fs.symlinkSync('shared/original', p('rel-link'));
  fs.symlinkSync('/does/not/exist', p('dangling'));
  fs.lchownSync(p('dangling'), 7, 8);
  fs.linkSync(p('rel-link'), p('hardlinked-symlink'));
  await runTool('mkfifo', ['-m', '640', p('fifo')]);
  await runTool('mknod', ['-m', '666', p('null'), 'c', '1', '3']);
  await runTool('mknod', ['-m', '660', p('loop-dev'), 'b', '7', '300']);
  await runTool('mknod', ['-m', '600', p('big-dev'), 'c', '511', '1048575']);
  fs.lchownSync(p('null'), 0, 5);
  // A name that is not UTF-8.
  const latin1 = Buffer.concat([Buffer.from(dir + '/caf'), Buffer.from([0xe9])]);
  fs.writeFileSync(latin1, 'latin1 name');
  // xattrs of several namespaces, on a file, a dir and a symlink.
  await runTool('setfattr', ['-n', 'user.origin', '-v', 'layer-1', p('setuid-bin')]);
  await runTool('setfattr', ['-n', 'security.capability', '-v', '0x0100000200040000000000000000000000000000', p('setgid-file')]);
  await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', p('shared')]);
  await runTool('setfattr', ['-h', '-n', 'trusted.link-note', '-v', 'on the link', p('dangling')]);
  await runTool('setfattr', ['-n', 'user.binary', '-v', '0x00ff10', p('empty')]);
  // Times last, on files and directories (children first).
  const past = new Date('2001-02-03T04:05:06.789Z');
  for (const f of ['setuid-bin', 'setgid-file', 'fifo', 'null', 'private/zero-mode', 'private', 'shared', 'empty']) {
    fs.utimesSync(p(f), past, past);
  }
  fs.lutimesSync(p('dangling'), past, new Date('1999-12-31T23:59:59Z'));
  fs.chmodSync(dir, 0o751);
  fs.utimesSync(dir, past, past);
}

interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Compared within a microsecond: Node's lutimes takes a double (~240 ns steps today). */
  mtimeMs?: number;
  rdev: number;
  nlink: number;
  link?: string;
  content?: string;
  /** Names sharing this inode, as indices into the sorted entry list. */
  inodeGroup: string;
}

/** Everything about a tree that a copy must keep, keyed by relative path (bytes as latin1). */
async function describeTree(root: string): Promise<{ entries: Record<string, Entry>; mtimes: Record<string, number>; xattrs: string }> {
  const mtimes: Record<string, number> = {};
  const entries: Record<string, Entry> = {};
  const byInode = new Map<string, string[]>();
  const walk = async (rel: Buffer) => {
    const abs = Buffer.concat([Buffer.from(root), rel]);
    const st = await fs.promises.lstat(abs);
    const key = rel.toString('latin1') || '/';
    const type = st.isDirectory()
      ? 'dir'
      : st.isFile()
        ? 'file'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFIFO()
            ? 'fifo'
            : st.isCharacterDevice()
              ? 'char'
              : st.isBlockDevice()
                ? 'block'
                : 'other';
    const ino = `${st.ino}`;
    byInode.set(ino, [...(byInode.get(ino) ?? []), key]);
    mtimes[key] = st.mtimeMs;
    entries[key] = {
      type,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      size: st.isDirectory() ? 0 : st.size,
      rdev: st.rdev,
      nlink: st.isDirectory() ? 0 : st.nlink,
      link: st.isSymbolicLink() ? (await fs.promises.readlink(abs)).toString() : undefined,
      content: st.isFile() ? (await fs.promises.readFile(abs)).toString('latin1') : undefined,
      inodeGroup: ino,
    };
    if (st.isDirectory()) {
      for (const name of await fs.promises.readdir(abs, { encoding: 'buffer' })) await walk(Buffer.concat([rel, Buffer.from('/'), name]));
    }
  };
  await walk(Buffer.alloc(0));
  for (const names of byInode.values()) {
    const group = [...names].sort().join('|');
    for (const n of names) entries[n].inodeGroup = group;
  }
  const xattrs = (await runTool('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '.'], { cwd: root })).stdout.toString();
  return { entries, mtimes, xattrs };
}

/**
 * Node's lutimes takes seconds as a double (about 0.2 µs of resolution at
 * today's epoch), so a copied time can land on the neighbouring microsecond.
 */
const TIME_TOLERANCE_MS = 0.0015;

function assertSameTimes(actual: Record<string, number>, expected: Record<string, number>): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [name, ms] of Object.entries(expected)) {
    assert.ok(Math.abs(actual[name] - ms) <= TIME_TOLERANCE_MS, `mtime of ${name}: ${actual[name]} vs ${ms}`);
  }
}

describe('NativeSnapshotter', function () {
  this.timeout(60_000);
  let root: string;
  let s: NativeSnapshotter;

  beforeEach(async () => {
    root = await fs.promises.realpath(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'nat-')));
    s = await open(path.join(root, 'snap'));
  });
  afterEach(async () => {
    await s.close();
    await fs.promises.rm(root, { recursive: true, force: true });
  });

  it('copies a parent tree keeping modes, owners, times, links, devices, fifos and xattrs', async () => {
    const [base] = await s.prepare(ctx, 'extract-base', '');
    await buildTree(writableDir([base]));
    const expected = await describeTree(writableDir([base]));
    await s.commit(ctx, 'base', 'extract-base');
    const [child] = await s.prepare(ctx, 'ctr', 'base');
    assert.notEqual(writableDir([child]), writableDir([base]));
    const actual = await describeTree(writableDir([child]));
    assert.deepEqual(actual.entries, expected.entries);
    assertSameTimes(actual.mtimes, expected.mtimes);
    assert.equal(actual.xattrs, expected.xattrs);
    assert.match(actual.xattrs, /trusted\.link-note/);
    assert.match(actual.xattrs, /security\.capability/);
    // The copy is independent of the parent.
    fs.writeFileSync(path.join(writableDir([child]), 'second-name'), 'changed in the child');
    assert.equal(fs.readFileSync(path.join(writableDir([base]), 'shared', 'original'), 'utf8'), 'linked content');
    assert.equal(fs.readFileSync(path.join(writableDir([child]), 'shared', 'original'), 'utf8'), 'changed in the child');
  });

  it('copies a tree without xattrs (nothing to restore)', async () => {
    const src = path.join(root, 'plain');
    fs.mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a', 'b', 'f'), 'x');
    await copyTree(src, path.join(root, 'copy'), { signal: ctx.signal });
    const [copy, original] = [await describeTree(path.join(root, 'copy')), await describeTree(src)];
    assert.deepEqual(copy.entries, original.entries);
    assertSameTimes(copy.mtimes, original.mtimes);
  });

  it('gives views the parent tree read-only without copying it', async () => {
    const [base] = await s.prepare(ctx, 'extract-base', '');
    fs.writeFileSync(path.join(writableDir([base]), 'f'), 'x');
    await s.commit(ctx, 'base', 'extract-base');
    assert.deepEqual(await s.view(ctx, 'v', 'base'), [{ type: 'bind', source: writableDir([base]), options: ['rbind', 'ro'] }]);
    const usage = await s.usage(ctx, 'v');
    assert.equal(usage.inodes, 1, 'only its own empty dir');
    assert.ok(usage.size <= 4096);
  });

  it('a cancelled prepare leaves nothing behind', async () => {
    const [base] = await s.prepare(ctx, 'extract-base', '');
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(writableDir([base]), `f${i}`), 'x');
    await s.commit(ctx, 'base', 'extract-base');
    const controller = new AbortController();
    const pending = s.prepare({ signal: controller.signal }, 'ctr', 'base');
    setImmediate(() => controller.abort(new Error('cancelled by the test')));
    await assert.rejects(pending, /cancelled by the test/);
    await assert.rejects(s.stat(ctx, 'ctr'), kind('NotFound'));
    assert.deepEqual(fs.readdirSync(path.join(root, 'snap', 'snapshots')).length, 1);
  });
});
